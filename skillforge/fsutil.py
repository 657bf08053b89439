"""Atomic file writes: the one helper every writer of skillforge uses.

A file is written to a temporary name in its own folder and renamed over the target
(:func:`os.replace`, atomic on POSIX and Windows within one file system), so a reader or a killed
process never sees half a file. Where a skill version is written, the data is also flushed to disk
(``fsync``) before the rename, so that the rename cannot reach the disk before the content.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from skillforge.errors import SkillforgeError


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None, fsync: bool = False) -> Path:
    """Replace ``path`` with ``data`` atomically; parent folders are created.

    Args:
        path: the file to write.
        data: its new content (``str`` is written as UTF-8).
        mode: permission bits to give the file (e.g. ``0o755``); None keeps the temporary file's
            default (0600 from :func:`tempfile.mkstemp`).
        fsync: flush the content to disk before the rename (used where a version is written).

    Returns:
        ``path``.

    Raises:
        OSError: the folder cannot be created or written (``filename`` is ``path``); the temporary
            file is removed.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file that was to be written, not a temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            if fsync:
                stream.flush()
                os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_writable(folder: Path, what: str) -> None:
    """Fail early, before any work, when files cannot be written in ``folder`` (made if missing).

    A file is created and removed in ``folder``, or in its nearest existing parent when it does not
    exist yet (a probe finds what a permission check misses: read-only mounts, immutable folders,
    ACLs).

    Args:
        folder: the folder the command will write in.
        what: what it is, for the message (``the skill store``, ``the run folder``).

    Raises:
        SkillforgeError: one line naming the folder and the reason.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise SkillforgeError(f"cannot write {what} {folder}: {probe} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".skillforge-probe-"):
            pass
    except OSError as exc:
        raise SkillforgeError(f"cannot write {what} {folder}: {exc.strerror or exc}") from None
