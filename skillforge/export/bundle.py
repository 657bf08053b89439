"""``.skill`` bundles: a zip holding one top-level ``<name>/`` folder, as Anthropic's packager
writes them (``anthropics/skills`` ``skills/skill-creator/scripts/package_skill.py``: ZIP_DEFLATED,
entries relative to the skill folder's parent, files only; ``evals/`` at the root, caches and
``.DS_Store`` left out — see :mod:`skillforge.export.source`).

Writing is deterministic (entries sorted, timestamps set to the version's date, Unix permission
bits 0644/0755), so exporting the same version twice gives the same bytes. Reading refuses every
entry that could land outside the extraction folder or is not a plain file.
"""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from skillforge.errors import SkillforgeError
from skillforge.export.paths import check_name, check_relative
from skillforge.export.source import SkillFile, SkillSource, excluded

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 200 * 1024 * 1024
"""Refuse bundles that would unpack to more than this (a zip bomb guard), in bytes."""
_UNIX = 3


def write_bundle(skill: SkillSource) -> bytes:
    """The ``.skill`` zip of ``skill``: entries ``<name>/<path>`` for every file, sorted.

    Returns:
        The zip file's bytes.
    """
    moment = max(skill.date.astimezone(timezone.utc), datetime(1980, 1, 1, tzinfo=timezone.utc))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in skill.files:
            info = zipfile.ZipInfo(f"{skill.name}/{file.path}", date_time=moment.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = (stat.S_IFREG | file.mode) << 16
            archive.writestr(info, file.data)
    return buffer.getvalue()


def read_bundle(path: Path) -> tuple[str, list[SkillFile], list[str]]:
    """Read a ``.skill`` zip without extracting it.

    Args:
        path: the bundle.

    Returns:
        (skill name = the top-level folder, its files sorted by path, entries skipped by the
        packager's exclusion rules).

    Raises:
        SkillforgeError: not a zip; an entry with an absolute path, ``..``, a backslash, a
            symbolic link or other non-file type; entries outside a single top-level folder; a
            top-level folder that is not a valid skill name; duplicate entries; too many entries
            or too many bytes once unpacked; a corrupt entry.
    """
    if not zipfile.is_zipfile(path):
        raise SkillforgeError(f"{path}: not a .skill bundle (a zip file)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise SkillforgeError(f"{path}: {len(infos)} entries; the limit is {MAX_ENTRIES}")
            if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
                raise SkillforgeError(f"{path}: unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; refusing")
            tops: set[str] = set()
            files: list[SkillFile] = []
            skipped: list[str] = []
            seen: set[str] = set()
            for info in infos:
                try:
                    entry = check_relative(info.filename.rstrip("/") if info.is_dir() else info.filename)
                except SkillforgeError as exc:
                    raise SkillforgeError(f"{path}: entry {info.filename!r} refused: {exc}") from exc
                mode = info.external_attr >> 16
                if info.create_system == _UNIX and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                    kind = "symbolic link" if stat.S_ISLNK(mode) else "special file"
                    raise SkillforgeError(f"{path}: entry {info.filename!r} is a {kind}; bundles may hold only files")
                tops.add(entry.parts[0])
                if info.is_dir():
                    continue
                if len(entry.parts) < 2:
                    raise SkillforgeError(f"{path}: {info.filename!r} sits outside the bundle's top-level skill folder")
                relative = PurePosixPath(*entry.parts[1:])
                if str(entry) in seen:
                    raise SkillforgeError(f"{path}: entry {info.filename!r} appears twice")
                seen.add(str(entry))
                if excluded(relative):
                    skipped.append(str(relative))
                    continue
                files.append(SkillFile(str(relative), archive.read(info), bool(mode & 0o111)))
    except zipfile.BadZipFile as exc:
        raise SkillforgeError(f"{path}: corrupt bundle ({exc})") from exc
    if len(tops) != 1:
        raise SkillforgeError(
            f"{path}: a bundle holds exactly one top-level folder (found {', '.join(sorted(tops)) or 'none'})"
        )
    name = tops.pop()
    try:
        check_name(name)
    except SkillforgeError as exc:
        raise SkillforgeError(f"{path}: top-level folder: {exc}") from exc
    files.sort(key=lambda f: f.path)
    return name, files, sorted(skipped)
