"""Read-only places: one ``error:`` line naming the path, never a traceback, and nothing half written.

``export`` and ``import`` write into folders a user names (``--dest``, the project, ``$HOME``,
``--store``). When one of them cannot be written (permissions, a read-only mount, an immutable
folder, a full disk) the command stops with a :class:`~skillforge.errors.SkillforgeError` whose
message names the path and the system's reason; :func:`check_writable` finds that out before the
first file is written, :func:`writing` turns a failure while writing into the same message.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skillforge.errors import SkillforgeError


def cannot_write(error: OSError, fallback: Path) -> SkillforgeError:
    """The error for ``error`` raised while writing under ``fallback``: ``cannot write PATH: reason``
    (``PATH`` is the file or folder the system names, else ``fallback``)."""
    path = error.filename if error.filename is not None else fallback
    return SkillforgeError(f"cannot write {path}: {error.strerror or error}")


@contextmanager
def writing(place: Path) -> Iterator[None]:
    """Inside, an :class:`OSError` becomes :func:`cannot_write`'s error (``place`` when the system
    names no path); git's own failures to write are turned into errors by the caller."""
    try:
        yield
    except OSError as error:
        raise cannot_write(error, place) from error


def check_writable(folder: Path) -> None:
    """Make sure files can be created in ``folder``, or in the nearest folder above it that exists
    (where ``folder`` would be created), by creating and removing an empty temporary file there.

    A probe rather than :func:`os.access`: that says yes to root in a read-only or immutable
    folder, where every write then fails.

    Raises:
        SkillforgeError: ``cannot write PATH: reason``; also when ``PATH`` is a file, not a folder.
    """
    probe = Path(os.path.abspath(folder))
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise SkillforgeError(f"cannot write {folder}: {probe} is not a folder")
    try:
        handle, name = tempfile.mkstemp(prefix=".skillforge-probe-", dir=probe)
    except OSError as error:
        raise SkillforgeError(f"cannot write {probe}: {error.strerror or error}") from error
    os.close(handle)
    os.unlink(name)
