"""Worker processes for CPU-bound stages (ingest ``--jobs``, the dry run's prompt counting).

One way to start them, shared: :func:`worker_pool` gives a standard-library
:class:`~concurrent.futures.ProcessPoolExecutor` whose workers leave Ctrl-C to the parent (which
stops the pool) and, where forked, die with the parent even when it is killed outright.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

FORKS = sys.platform == "linux"
"""Workers are forked (Linux): up in milliseconds with the parent's modules and state (compiled
secret detectors, litellm as configured). Elsewhere they are spawned: a fresh interpreter each."""


def usable_cpus(cap: int) -> int:
    """The number of CPUs this process may run on (``os.sched_getaffinity``), between 1 and ``cap``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, cap))


def worker_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A process pool of ``workers`` (forked where :data:`FORKS`); each worker ignores SIGINT, gets
    SIGTERM when a forking parent dies (Linux ``PR_SET_PDEATHSIG``), then runs ``initializer(*initargs)``.

    A forking pool starts all its workers at its first task; no other thread of the parent should
    be running then (a lock it holds stays held in the child).
    """
    parent = os.getpid() if FORKS else None
    context = multiprocessing.get_context("fork") if FORKS else None
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start, initargs=(parent, initializer, initargs)
    )


def _start(parent: int | None, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent:  # the parent died before the line above
                os._exit(1)
    if initializer is not None:
        initializer(*initargs)
