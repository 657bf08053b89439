"""The gate pass of the secret scanner run by Hyperscan, for large inputs (optional).

The scanner's first step (:mod:`skillforge.secret_scan`, "Prefilter, one pass") asks one question
of every text: which gates fire in it. RE2's ``Set`` answers it at about 0.4 GB/s on the real
corpus; Hyperscan (https://github.com/intel/hyperscan, through the ``hyperscan`` package,
https://python-hyperscan.readthedocs.io) answers the same question for the same patterns about
2.2 times as fast. Compiling its database takes about 80 ms, so ingest switches it on only for
inputs large enough to win that back (:data:`skillforge.ingest.workers.FAST_GATES_MIN_BYTES`),
and keeps the compiled database in the user's cache folder (:func:`cache_folder`) for the next run.

Same answers: the patterns are the gates of :func:`skillforge.secret_scan.detectors.gates`,
compiled with ``HS_FLAG_UTF8`` (a character class, and case folding such as ``(?i)s`` matching
``ſ``, work on UTF-8 characters, as in RE2's Set), each reported once per scan
(``HS_FLAG_SINGLEMATCH``: the Set says whether, not where). Hyperscan's result is undefined on
input that is not UTF-8, so text holding a lone surrogate keeps the RE2 Set
(:func:`skillforge.secret_scan._utf8`). ``pip install 'skillforge[fast]'`` installs Hyperscan;
without it, or where it cannot compile a gate, the RE2 Set runs as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skillforge.fsutil import write_atomic


class FastGates:
    """Gates compiled into one Hyperscan database.

    ``Match(data)`` has the shape of ``re2.Set.Match``: the indices (in pattern order) of the
    gates that fire anywhere in ``data`` (bytes: valid UTF-8 unless compiled with ``utf8=False``,
    :func:`compile_gates`), in no particular order.
    Each thread gets its own Hyperscan scratch space (a scan needs one to itself).
    """

    def __init__(self, database: Any) -> None:
        self._database = database
        self._local = threading.local()

    def Match(self, data: bytes) -> list[int]:  # noqa: N802 (the name of re2.Set's method)
        """The indices of the gates that fire in ``data``."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            import hyperscan

            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        hits: list[int] = []
        self._database.scan(data, match_event_handler=_hit, context=hits, scratch=scratch)
        return hits


def _hit(index: int, start: int, end: int, flags: int, hits: list[int]) -> None:
    hits.append(index)  # returning None: scan on


def compile_gates(patterns: Sequence[str], cache: Path | None = None, utf8: bool = True) -> FastGates | None:
    """``patterns`` as :class:`FastGates`, or None when Hyperscan is not installed or cannot take
    one of them (the caller keeps RE2's Set).

    Args:
        patterns: RE2 gate patterns (an empty one always fires, as in RE2's Set).
        cache: folder for the compiled database (:func:`cache_folder`): read when it holds the
            database of these patterns for this Hyperscan and machine, written (atomically) when
            not; None compiles every time. A folder that cannot be written is not an error.
        utf8: patterns and scanned data are UTF-8 (``HS_FLAG_UTF8``; the data must then be valid
            UTF-8); False matches bytes, for patterns of ASCII literals searched in any bytes
            (:func:`skillforge.ingest.sniff.mentions`).
    """
    try:
        import hyperscan
    except ImportError:
        return None
    flags = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY | (hyperscan.HS_FLAG_UTF8 if utf8 else 0)
    key = hashlib.sha256(
        json.dumps([list(patterns), flags, getattr(hyperscan, "__version__", ""), platform.machine()]).encode()
    ).hexdigest()[:24]
    stored = cache / f"secret-gates-{key}.hsdb" if cache is not None else None
    if stored is not None and stored.is_file():
        try:
            gates = FastGates(hyperscan.loadb(stored.read_bytes(), hyperscan.HS_MODE_BLOCK))
            gates.Match(b"a first scan: Hyperscan refuses a database made for another CPU here")
            return gates
        except (OSError, hyperscan.error):
            pass  # unreadable, damaged, or made for another CPU (a shared home folder): compiled again
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(
            expressions=[pattern.encode("utf-8") for pattern in patterns],
            ids=list(range(len(patterns))),
            elements=len(patterns),
            flags=[flags] * len(patterns),
        )
    except hyperscan.error:
        return None
    if stored is not None:
        with contextlib.suppress(OSError):  # a folder that cannot be written: compiled again next time
            write_atomic(stored, hyperscan.dumpb(database))
    return FastGates(database)


def cache_folder() -> Path:
    """Where compiled databases are kept: ``$XDG_CACHE_HOME/skillforge``, by default
    ``~/.cache/skillforge`` (https://specifications.freedesktop.org/basedir-spec/latest/)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillforge"
