"""What ``rollback`` and ``import`` compare before storing: a version is only stored when its
content differs from the latest one, the version number aside.

Every stored SKILL.md names its own number in ``metadata.version`` (:mod:`skillforge.store.stamp`),
so two versions with the same text differ in that one line; :func:`same_content` compares a
candidate folder with the latest version as if the candidate were stamped with the latest's number.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from skillforge.store.git_store import VersionInfo
from skillforge.store.stamp import stamp_version

SKILL_FILE = "SKILL.md"


@dataclass
class RollbackResult(VersionInfo):
    """A rollback's outcome: the version that now holds the restored content.

    Attributes (besides :class:`~skillforge.store.git_store.VersionInfo`'s, which describe the
    new version, or the latest one when nothing was stored):
        restored: the version whose content was asked for.
        stored: False when that content already is the latest version's (nothing was stored).
    """

    restored: int = 0
    stored: bool = True

    @property
    def message(self) -> str:
        """One line saying what happened, for the command line."""
        if not self.stored:
            return (
                f"{self.name} v{self.restored} has the same content as the latest version, v{self.version}: "
                "nothing stored"
            )
        return (
            f"rolled back {self.name} to v{self.restored}: stored as v{self.version}; every earlier version stays "
            f"in history (`skillforge diff {self.name}` shows what changed)"
        )


def files_of(folder: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file under ``folder``: relative POSIX path → (bytes, executable)."""
    found = {}
    for current, _, names in os.walk(folder):
        for name in names:
            path = Path(current) / name
            found[path.relative_to(folder).as_posix()] = (path.read_bytes(), bool(path.stat().st_mode & 0o111))
    return found


def stamped(text: bytes, number: int) -> bytes:
    """SKILL.md bytes with ``metadata.version`` set to ``number`` (the rest unchanged)."""
    decoded = text.decode("utf-8", errors="surrogateescape")
    return stamp_version(decoded, number).text.encode("utf-8", errors="surrogateescape")


def same_content(candidate: Path, latest: Path, number: int) -> bool:
    """True when the skill folder ``candidate``, its SKILL.md stamped with ``number``, holds exactly
    the files of ``latest`` (the folder of version ``number``): paths, bytes and executable bits."""
    files = files_of(candidate)
    if SKILL_FILE in files:
        data, executable = files[SKILL_FILE]
        files[SKILL_FILE] = (stamped(data, number), executable)
    return files == files_of(latest)
