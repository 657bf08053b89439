"""Whether two skill folders hold the same skill, whatever version number each one carries.

A version that would only renumber the latest one is not worth storing (issue 16: a distill run
with nothing new, a rollback to the latest content, an import of the latest content). Files are
compared byte for byte, executable bits included, except that ``metadata.version`` of SKILL.md is
set to the same number on both sides first (:func:`skillforge.store.stamp.stamp_bytes`, the
store's own stamp).
"""

from __future__ import annotations

from pathlib import Path

from skillforge.store.stamp import stamp_bytes

SKILL_MD = "SKILL.md"


def skill_files(folder: Path) -> dict[str, tuple[bytes, bool]]:
    """Relative POSIX path → (bytes, executable) of every file under ``folder`` (``.git`` left
    out), SKILL.md with ``metadata.version`` set to 0."""
    files: dict[str, tuple[bytes, bool]] = {}
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or ".git" in relative.parts:
            continue
        data = path.read_bytes()
        if relative.as_posix() == SKILL_MD:
            data = stamp_bytes(data, 0)
        files[relative.as_posix()] = (data, bool(path.stat().st_mode & 0o111))
    return files


def same_skill(a: Path, b: Path) -> bool:
    """True when folders ``a`` and ``b`` hold the same files with the same bytes and executable
    bits, ``metadata.version`` of SKILL.md aside."""
    return skill_files(a) == skill_files(b)
