"""Write a version number into a SKILL.md's ``metadata.version``.

The Agent Skills specification (https://agentskills.io/specification) has no top-level
``version`` key (skills-ref and quick_validate.py reject one); its own example keeps a version
string in ``metadata``, which is where skillforge records the store's version number.

The store stamps the number it actually allocated, which differs from the one a caller rendered
when another process stored a version in between, and rollback stamps the new number on old
content. The edit is made on the one ``version:`` line when there is one, so the rest of the file
(and every line number provenance refers to) stays as it was; otherwise the frontmatter is
re-serialised with PyYAML and the caller is told how many lines it moved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from skillforge.fsutil import write_atomic
from skillforge.provenance import Provenance
from skillforge.skill.frontmatter import parse_frontmatter

_FRONTMATTER = re.compile(r"\A---\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_TOP_KEY = re.compile(r"^([A-Za-z0-9_-]+)\s*:")
_CHILD_VERSION = re.compile(r"^([ \t]+)version[ \t]*:.*$")


@dataclass(frozen=True)
class Stamped:
    """Result of :func:`stamp_version`.

    Attributes:
        text: the new SKILL.md text (the input unchanged when nothing needed doing).
        changed: whether ``text`` differs from the input.
        body_shift: lines the body moved down (negative: up); 0 for an in-place edit.
        frontmatter_end: 1-based line of the closing ``---`` in the *input*; lines after it shift.
    """

    text: str
    changed: bool
    body_shift: int = 0
    frontmatter_end: int = 0


def stamp_version(text: str, version: int) -> Stamped:
    """Set ``metadata.version`` of the SKILL.md ``text`` to ``str(version)``.

    Args:
        text: SKILL.md content.
        version: the version number (1, 2, …).

    Returns:
        A :class:`Stamped`. Text without a YAML mapping frontmatter is returned unchanged (the
        validator reports it; the store does not judge content).
    """
    match = _FRONTMATTER.match(text)
    if not match:
        return Stamped(text, False)
    raw = match.group(1) or ""
    end_line = match.group(0).count("\n") if match.group(0).endswith("\n") else match.group(0).count("\n") + 1
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return Stamped(text, False)
    if not isinstance(data, dict):
        return Stamped(text, False)
    wanted = str(version)
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and metadata.get("version") == wanted:
        return Stamped(text, False, 0, end_line)
    expected = dict(data)
    expected["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), "version": wanted}
    in_place = _edit_version_line(raw, wanted)
    if in_place is not None and _loads(in_place) == expected:
        return Stamped(text[: match.start(1)] + in_place + text[match.end(1) :], True, 0, end_line)
    newline = "\r\n" if "\r\n" in match.group(0) else "\n"
    dumped = yaml.safe_dump(expected, sort_keys=False, allow_unicode=True, width=100000)
    block = f"---{newline}{dumped.replace(chr(10), newline)}---{newline}"
    shift = block.count("\n") - end_line
    return Stamped(block + text[match.end() :], True, shift, end_line)


def _edit_version_line(raw: str, wanted: str) -> str | None:
    """Replace the ``version:`` line directly under a block ``metadata:`` key, or None."""
    lines = raw.splitlines(keepends=True)
    inside = False
    child_indent: str | None = None
    for index, line in enumerate(lines):
        top = _TOP_KEY.match(line)
        if top:
            if inside:
                return None  # metadata block ended without a version line
            inside = top.group(1) == "metadata" and line.split(":", 1)[1].strip() == ""
            continue
        if not inside or not line.strip():
            continue
        indent = line[: len(line) - len(line.lstrip())]
        child_indent = child_indent if child_indent is not None else indent
        version_line = _CHILD_VERSION.match(line.rstrip("\r\n"))
        if indent == child_indent and version_line:
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = f"{version_line.group(1)}version: '{wanted}'{ending}"
            return "".join(lines)
    return None


def _loads(raw: str) -> object:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return None


def stamp_bytes(data: bytes, version: int) -> bytes:
    """SKILL.md bytes with ``metadata.version`` set to ``version``, the rest unchanged (bytes that
    are not UTF-8 kept as they are, through ``surrogateescape``)."""
    text = data.decode("utf-8", errors="surrogateescape")
    return stamp_version(text, version).text.encode("utf-8", errors="surrogateescape")


def stamp_copy(
    folder: Path, number: int, provenance: Provenance | None, *, always: bool, rendered: int | None
) -> Provenance | None:
    """Stamp a copy of a skill folder that is about to be stored as version ``number``.

    Writes ``number`` into ``folder``'s SKILL.md when ``always``, or when it holds the number the
    caller ``rendered`` and that number was not the one allocated (a concurrent writer took it).

    Returns:
        ``provenance`` with its version set to ``number`` and its SKILL.md spans shifted by the
        lines the frontmatter grew (None when ``provenance`` is None).
    """
    skill_md = folder / "SKILL.md"
    shift, frontmatter_end = 0, 0
    if skill_md.is_file():
        original = skill_md.read_bytes().decode("utf-8", errors="surrogateescape")
        superseded = rendered is not None and rendered != number and metadata_version(original) == str(rendered)
        if always or superseded:
            stamped = stamp_version(original, number)
            if stamped.changed:
                write_atomic(skill_md, stamped.text.encode("utf-8", errors="surrogateescape"), fsync=True)
            shift, frontmatter_end = stamped.body_shift, stamped.frontmatter_end
    if provenance is None:
        return None
    if shift:
        spans = [
            replace(s, start=s.start + shift, end=s.end + shift)
            if s.file == "SKILL.md" and s.start > frontmatter_end
            else s
            for s in provenance.spans
        ]
        provenance = replace(provenance, spans=spans)
    return replace(provenance, version=number) if provenance.version != number else provenance


def metadata_version(text: str) -> str | None:
    """``metadata.version`` of SKILL.md text, or None (no frontmatter, no such key, bad YAML)."""
    try:
        frontmatter, _ = parse_frontmatter(text)
    except yaml.YAMLError:
        return None
    metadata = (frontmatter or {}).get("metadata")
    return str(metadata["version"]) if isinstance(metadata, dict) and "version" in metadata else None
