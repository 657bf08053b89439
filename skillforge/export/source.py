"""Read a skill folder into memory, safely, for export, bundling and import.

A :class:`SkillSource` is what every host module receives: the skill's files (bytes and mode),
its frontmatter and body, and the version it came from. Reading refuses anything that could
make an export escape its destination (a symbolic link pointing outside the skill folder) and
leaves out what a host never needs, following Anthropic's packager
(``anthropics/skills`` ``skills/skill-creator/scripts/package_skill.py``): ``__pycache__`` and
``node_modules`` folders, ``*.pyc`` and ``.DS_Store`` files anywhere, and ``evals/`` at the root;
and, beyond the packager, ``.git/`` (a skill folder that is its own repository).
"""

from __future__ import annotations

import fnmatch
import os
import stat
import tarfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from skillforge.errors import SkillforgeError
from skillforge.skill.frontmatter import parse_frontmatter
from skillforge.store.git_store import SkillStore

EXCLUDE_DIRS = frozenset({"__pycache__", "node_modules", ".git"})
EXCLUDE_GLOBS = ("*.pyc",)
EXCLUDE_FILES = frozenset({".DS_Store"})
ROOT_EXCLUDE_DIRS = frozenset({"evals"})
SKILL_FILE = "SKILL.md"


@dataclass(frozen=True)
class SkillFile:
    """One file of a skill.

    Attributes:
        path: path relative to the skill folder, POSIX form (``references/x.md``).
        data: the file's bytes.
        executable: True when any execute bit is set (kept through bundles and imports).
    """

    path: str
    data: bytes
    executable: bool = False

    @property
    def mode(self) -> int:
        """Permission bits to write the file with (0o755 or 0o644)."""
        return 0o755 if self.executable else 0o644


@dataclass
class SkillSource:
    """A skill read into memory, ready for a host module.

    Attributes:
        name: skill name (equal to the folder name; checked by the validator before export).
        version: store version number, or None for a folder that is not from the store.
        date: when the version was stored (UTC); used as the timestamp inside bundles.
        files: every file to export, sorted by path; ``SKILL.md`` is among them.
        frontmatter: the parsed YAML frontmatter of ``SKILL.md``.
        body: the text of ``SKILL.md`` after the frontmatter.
        skipped: paths left out by the packager's exclusion rules.
    """

    name: str
    version: int | None
    date: datetime
    files: list[SkillFile]
    frontmatter: dict[str, Any]
    body: str
    skipped: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        """The frontmatter ``description`` (empty string when absent)."""
        value = self.frontmatter.get("description")
        return value if isinstance(value, str) else ""

    def file(self, path: str) -> SkillFile | None:
        """The file at ``path`` (relative, POSIX), or None."""
        return next((f for f in self.files if f.path == path), None)


def excluded(relative: PurePosixPath) -> bool:
    """True when the packager's rules leave ``relative`` (a path inside the skill folder) out."""
    parts = relative.parts
    if any(part in EXCLUDE_DIRS for part in parts):
        return True
    if len(parts) > 1 and parts[0] in ROOT_EXCLUDE_DIRS:
        return True
    return relative.name in EXCLUDE_FILES or any(fnmatch.fnmatch(relative.name, g) for g in EXCLUDE_GLOBS)


def read_files(folder: Path) -> tuple[list[SkillFile], list[str]]:
    """Read every file under ``folder`` that a host should receive.

    Symbolic links are followed only when they resolve inside ``folder`` (the file's content is
    read; the link itself is not reproduced); links to folders are refused, as are special files.

    Args:
        folder: the skill folder.

    Returns:
        (files sorted by path, relative paths skipped by the exclusion rules).

    Raises:
        SkillforgeError: a link pointing outside the folder or to a folder, a broken link, a
            special file (fifo, device), or a file that cannot be read.
    """
    root = Path(os.path.realpath(folder))
    files: list[SkillFile] = []
    skipped: list[str] = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        here = Path(current)
        for entry in sorted(dirs):
            path = here / entry
            relative = PurePosixPath(path.relative_to(folder).as_posix())
            if path.is_symlink():
                raise SkillforgeError(f"{folder.name}/{relative}: symbolic link to a folder; skills must hold real files")
            if excluded(relative / "x"):
                skipped.append(f"{relative}/")
                dirs.remove(entry)
        for entry in sorted(names):
            path = here / entry
            relative = PurePosixPath(path.relative_to(folder).as_posix())
            if excluded(relative):
                skipped.append(str(relative))
                continue
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if root not in target.parents:
                    raise SkillforgeError(f"{folder.name}/{relative}: symbolic link pointing outside the skill folder ({os.readlink(path)})")
                if not target.is_file():
                    raise SkillforgeError(f"{folder.name}/{relative}: symbolic link to something that is not a file")
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise SkillforgeError(f"{folder.name}/{relative}: not a regular file")
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise SkillforgeError(f"{folder.name}/{relative}: cannot read ({exc.strerror})") from exc
            files.append(SkillFile(str(relative), data, bool(info.st_mode & 0o111)))
    files.sort(key=lambda f: f.path)
    return files, sorted(skipped)


def load_source(folder: Path, version: int | None = None, date: datetime | None = None) -> SkillSource:
    """Read a skill folder into a :class:`SkillSource` (call the validator first).

    Args:
        folder: the skill folder (holding ``SKILL.md``).
        version: the store version it was materialized from, if any.
        date: when that version was stored; defaults to 1980-01-01 (the earliest zip date).

    Raises:
        SkillforgeError: unsafe content (see :func:`read_files`), no ``SKILL.md``, or a
            frontmatter that is not a YAML mapping.
    """
    files, skipped = read_files(folder)
    skill_md = next((f for f in files if f.path == SKILL_FILE), None)
    if skill_md is None:
        raise SkillforgeError(f"{folder}: no {SKILL_FILE}")
    text = skill_md.data.decode("utf-8", errors="replace")
    try:
        frontmatter, body_line = parse_frontmatter(text)
    except yaml.YAMLError as exc:
        raise SkillforgeError(f"{folder / SKILL_FILE}: frontmatter is not valid YAML") from exc
    if frontmatter is None:
        raise SkillforgeError(f"{folder / SKILL_FILE}: no YAML frontmatter mapping")
    body = "".join(text.splitlines(keepends=True)[body_line:])
    return SkillSource(
        name=str(frontmatter.get("name") or folder.name),
        version=version,
        date=date or datetime(1980, 1, 1, tzinfo=timezone.utc),
        files=files,
        frontmatter=frontmatter,
        body=body,
        skipped=skipped,
    )


def materialize(store: SkillStore, name: str, version: int, destination: Path) -> Path:
    """Write ``name`` at ``version`` from ``store`` into ``destination/<name>/`` and return that folder.

    Raises:
        SkillforgeError: unknown skill or version, or the version holds a link pointing outside
            its folder or an absolute link (refused by the tar "data" filter while unpacking).
    """
    try:
        return store.materialize(name, version, destination)
    except tarfile.FilterError as exc:
        raise SkillforgeError(f"{name} v{version} holds an unsafe entry ({exc}); refusing to export it") from exc
