"""Whether two skill folders hold the same skill, whatever version number each one carries.

A version that would only renumber the latest one is not worth storing (issue 16: a distill run
with nothing new, a rollback to the latest content, an import of the latest content). Files are
compared byte for byte, except that ``metadata.version`` of SKILL.md is set to the same number on
both sides first (:func:`skillforge.store.stamp.stamp_version`, the store's own stamp).
"""

from __future__ import annotations

from pathlib import Path

from skillforge.store.stamp import stamp_version

SKILL_MD = "SKILL.md"


def skill_files(folder: Path) -> dict[str, bytes]:
    """Relative POSIX path → bytes of every file under ``folder`` (``.git`` left out), SKILL.md
    with ``metadata.version`` set to 0."""
    files: dict[str, bytes] = {}
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or ".git" in relative.parts:
            continue
        data = path.read_bytes()
        if relative.as_posix() == SKILL_MD:
            text = data.decode("utf-8", errors="surrogateescape")
            data = stamp_version(text, 0).text.encode("utf-8", errors="surrogateescape")
        files[relative.as_posix()] = data
    return files


def same_skill(a: Path, b: Path) -> bool:
    """True when folders ``a`` and ``b`` hold the same files with the same bytes, ``metadata.version``
    of SKILL.md aside."""
    return skill_files(a) == skill_files(b)
