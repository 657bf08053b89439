"""Wait for a readiness signal from a process under test (a file it writes, a run folder it fills),
never for a fixed time: tests that interrupt a run send the signal only once the run is where
they need it, however loaded the machine is."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

SAFETY_NET_S = 600.0
"""Longest wait before giving up on a process that never gets ready (seconds): a hung run fails
the test instead of blocking the suite; nothing depends on how fast the machine is."""

POLL_S = 0.05


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    """Return as soon as ``ready()`` is true.

    Args:
        ready: checks the signal (cheap; called every :data:`POLL_S` seconds).
        process: the process that is to get ready; its end before then fails the test.
        what: the signal, in words, for the failure message.

    Raises:
        AssertionError: ``process`` ended first, or :data:`SAFETY_NET_S` passed.
    """
    deadline = time.monotonic() + SAFETY_NET_S
    while not ready():
        assert process.poll() is None, f"the process ended (exit {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"{what}: not after {SAFETY_NET_S:.0f} s"
        time.sleep(POLL_S)


def as_in_a_terminal() -> None:
    """``preexec_fn`` for a process a test will Ctrl-C: SIGINT back to its default action.

    A command typed at a terminal starts with it; one started by a shell in the background (``cmd &``,
    ``nohup``: how CI may well run the suite) inherits SIGINT *ignored*, and Python then installs no
    KeyboardInterrupt handler, so the Ctrl-C a test sends would be lost and the test would hang.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
