"""Keep the evidence table out of always-loaded instruction files (AGENTS.md, CLAUDE.md).

Hosts load those files into every conversation, whatever the task, so each line costs context on
every turn. The evidence table skillforge generates (SKILL.md's ``## Evidence`` section and the
full table in ``references/evidence.md``; :mod:`skillforge.skill.layout`) is for people auditing
a skill, not for the agent: :func:`without_evidence` replaces it with one line saying where it is
kept. A section a person wrote under the same heading is left alone, as
:func:`skillforge.skill.evidence_table.remove_evidence` leaves it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from skillforge.export.source import SkillSource
from skillforge.skill.evidence_table import (
    EVIDENCE_HEADING,
    EVIDENCE_REFERENCE,
    EVIDENCE_REFERENCE_TITLE,
    EVIDENCE_TABLE_HEADER,
)

_FENCE = re.compile(r"^\s*(```|~~~)")
_SECTION_END = re.compile(r"^#{1,2}\s")


def evidence_pointer(skill: SkillSource) -> str:
    """The line that stands for the evidence table: which command shows it, from the skill store."""
    ref = f"{skill.name}@v{skill.version}" if skill.version is not None else skill.name
    return (
        "The lessons and trajectory steps behind each item are kept in the skill store, out of this "
        f"always-loaded file: `skillforge blame {ref}` shows them."
    )


def without_evidence(skill: SkillSource) -> SkillSource:
    """A copy of ``skill`` without the generated evidence table: the ``## Evidence`` section of its
    SKILL.md body keeps its heading and gets :func:`evidence_pointer` as its only line, and the
    generated ``references/evidence.md`` is left out. ``skill`` itself is not changed; a skill
    without a generated table is returned as it is."""
    lines = skill.body.splitlines(keepends=True)
    start = _generated_section(lines)
    reference = skill.file(EVIDENCE_REFERENCE)
    generated_reference = reference is not None and reference.data.lstrip().startswith(
        EVIDENCE_REFERENCE_TITLE.encode()
    )
    if start is None and not generated_reference:
        return skill
    body = skill.body
    if start is not None:
        end = _section_end(lines, start)
        newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
        section = [lines[start].rstrip("\r\n") + newline, newline, evidence_pointer(skill) + newline]
        if end < len(lines):
            section.append(newline)
        body = "".join(lines[:start] + section + lines[end:])
    files = [f for f in skill.files if not (generated_reference and f.path == EVIDENCE_REFERENCE)]
    return replace(skill, body=body, files=files)


def _generated_section(lines: list[str]) -> int | None:
    """Index of the ``## Evidence`` heading whose first non-blank line is the generated table's header."""
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.rstrip() == EVIDENCE_HEADING:
            following = next((later.strip() for later in lines[index + 1 :] if later.strip()), "")
            if following == EVIDENCE_TABLE_HEADER:
                return index
    return None


def _section_end(lines: list[str], start: int) -> int:
    """Index of the next heading of level 1 or 2 after ``start`` (outside code fences), or the end."""
    in_fence = False
    for index in range(start + 1, len(lines)):
        if _FENCE.match(lines[index]):
            in_fence = not in_fence
        elif not in_fence and _SECTION_END.match(lines[index]):
            return index
    return len(lines)
