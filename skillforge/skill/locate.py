"""Finding an edit's target in a skill document, exactly (DESIGN §2: a missing target is reported,
never guessed): a section by its heading line, text by an exact substring that occurs once.
"""

from __future__ import annotations

from skillforge.skill.document import Heading, Line, SkillDoc


class TargetMissing(Exception):
    """The edit's target is not in the file (→ ``unmatched``)."""


class EditRefused(Exception):
    """The edit breaks a rule (→ ``rejected``)."""


def find_section(doc: SkillDoc, file: str, target: str) -> Heading:
    """The one heading of ``file`` whose line is ``target``.

    Raises:
        TargetMissing: no such heading, or more than one.
    """
    if not target.strip():
        raise TargetMissing("no target_section given")
    found = doc.find_headings(file, target)
    if not found:
        raise TargetMissing(f"section {target.strip()!r} not found in {file}")
    if len(found) > 1:
        raise TargetMissing(f"section {target.strip()!r} occurs {len(found)} times in {file}")
    return found[0]


def edit_region(doc: SkillDoc, file: str, target_section: str | None) -> tuple[int, int]:
    """Line range [start, end) an edit may touch: its section, or the file after the frontmatter."""
    if target_section and target_section.strip():
        heading = find_section(doc, file, target_section)
        return heading.index, doc.section_end(file, heading)
    return doc.body_start(file), len(doc.files[file])


def find_once(doc: SkillDoc, file: str, start: int, end: int, needle: str, where: str | None) -> int:
    """Offset of the one occurrence of ``needle`` in lines [start, end) of ``file``."""
    place = f" in section {where.strip()!r}" if where else ""
    if not needle:
        raise TargetMissing("empty target text")
    lines = doc.files[file]
    text = "".join(line.text for line in lines[start:end])
    count = text.count(needle)
    if count == 0:
        if needle in "".join(line.text for line in lines[: doc.body_start(file)]):
            raise EditRefused("the frontmatter is not editable by patches (the skill's name never changes)")
        raise TargetMissing(f"text {shorten(needle)!r} not found{place}")
    if count > 1:
        raise TargetMissing(f"text {shorten(needle)!r} occurs {count} times{place}; it must occur once")
    return text.index(needle)


def find_text(doc: SkillDoc, file: str, needle: str, target_section: str | None) -> tuple[int, int]:
    """Indexes of the first and last line the exact text ``needle`` covers."""
    start, end = edit_region(doc, file, target_section)
    lines = doc.files[file]
    position = find_once(doc, file, start, end, needle, target_section)
    first, _ = locate(lines, start, position)
    last, _ = locate(lines, start, position + max(len(needle.rstrip("\r\n")), 1) - 1)
    return first, last


def locate(lines: list[Line], start: int, offset: int) -> tuple[int, int]:
    """(line index, offset in that line) of character ``offset`` of the text starting at line ``start``."""
    for index in range(start, len(lines)):
        size = len(lines[index].text)
        if offset < size:
            return index, offset
        offset -= size
    return len(lines) - 1, len(lines[-1].text) - 1


def shorten(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
