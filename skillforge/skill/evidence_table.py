"""The ``## Evidence`` section of SKILL.md, generated from provenance after a patch is applied (no LLM).

:func:`write_evidence` builds one table row per item from the lesson ids its lines carry (kind,
support, the sessions and steps cited); past :data:`MAX_EVIDENCE_IN_SKILL` rows the full table goes
to ``references/evidence.md`` and SKILL.md keeps the strongest rows and a link.
:func:`remove_evidence` takes a generated section out again (before a deepening run rewrites it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from skillforge.skill.document import SKILL_MD, Heading, Line, SkillDoc, support_of

EVIDENCE_HEADING = "## Evidence"


EVIDENCE_TABLE_HEADER = "| Lesson | Kind | Support | Evidence (session: steps) |"


EVIDENCE_REFERENCE = "references/evidence.md"


EVIDENCE_REFERENCE_TITLE = "# Evidence: all items"


MAX_EVIDENCE_IN_SKILL = 20
"""Rows of the evidence table kept in SKILL.md; the rest go to :data:`EVIDENCE_REFERENCE`."""


MAX_EVIDENCE_IN_REFERENCE = 90
"""Rows in :data:`EVIDENCE_REFERENCE` (it stays under 100 lines, so it needs no table of contents)."""


MAX_EVIDENCE_PER_ROW = 6


def remove_evidence(doc: SkillDoc) -> bool:
    """Remove the evidence section skillforge generated (and its reference file); True if removed.

    The generated section is a ``## Evidence`` heading whose first non-blank line is
    :data:`EVIDENCE_TABLE_HEADER`; a section a person wrote under the same heading is left alone.
    """
    removed = False
    generated = _generated_evidence(doc)
    if generated is not None:
        lines = doc.files[SKILL_MD]
        start, end = generated.index, doc.section_end(SKILL_MD, generated)
        if end == len(lines):  # at the end of the file: the blank lines before it go too
            while start > doc.body_start(SKILL_MD) and not lines[start - 1].bare.strip():
                start -= 1
        del lines[start:end]
        removed = True
    reference = doc.files.get(EVIDENCE_REFERENCE)
    if reference and reference[0].bare.strip() == EVIDENCE_REFERENCE_TITLE:
        del doc.files[EVIDENCE_REFERENCE]
        removed = True
    return removed


def write_evidence(doc: SkillDoc, lessons: Mapping[str, Any]) -> int:
    """Regenerate the evidence table from the lesson ids on the lines; return the number of items.

    One row per distinct set of lesson ids (an item of the skill), most supported first: a label
    (the item's bold lead or first words), kind(s), support, and the cited sessions and steps.
    Rows carry their item's lesson ids (so ``skillforge blame`` on a row names its lessons).
    """
    remove_evidence(doc)
    items: dict[tuple[str, ...], dict[str, Any]] = {}
    for span in doc.spans(lessons):
        key = tuple(span.lesson_ids)
        if key in items or not any(i in lessons for i in key):
            continue
        first_line = doc.files[span.file][span.start - 1].bare
        items[key] = {"label": _label(first_line), "support": span.support, "order": len(items)}
    if not items:
        return 0
    ranked = sorted(items.items(), key=lambda kv: (-kv[1]["support"], kv[1]["order"]))
    newline = doc.newline(SKILL_MD)
    rows = [(ids, _row(ids, item["label"], lessons)) for ids, item in ranked]
    section = [
        Line(EVIDENCE_HEADING + newline, (), "code"),
        Line(newline, (), "code"),
        *_table(rows[:MAX_EVIDENCE_IN_SKILL], newline),
    ]
    if len(rows) > MAX_EVIDENCE_IN_SKILL:
        shown = rows[:MAX_EVIDENCE_IN_REFERENCE]
        intro = "Every item of this skill and the lessons behind it, the most supported first."
        if len(rows) > len(shown):
            intro += f" {len(rows) - len(shown)} items with the least support are not listed here; `skillforge blame` shows them all."
        doc.files[EVIDENCE_REFERENCE] = [
            Line(EVIDENCE_REFERENCE_TITLE + "\n", (), "code"),
            Line("\n"),
            Line(intro + "\n", (), "code"),
            Line("\n"),
            *_table(shown, "\n"),
        ]
        section += [
            Line(newline),
            Line(f"The full table is in [{EVIDENCE_REFERENCE}]({EVIDENCE_REFERENCE}).{newline}", (), "code"),
        ]
    lines = doc.files[SKILL_MD]
    while len(lines) > doc.body_start(SKILL_MD) and not lines[-1].bare.strip():
        lines.pop()
    if lines and not lines[-1].text.endswith(("\n", "\r")):
        lines[-1].text += newline
    lines.extend([Line(newline, (), "code"), *section])
    return len(rows)


def _generated_evidence(doc: SkillDoc) -> Heading | None:
    lines = doc.files.get(SKILL_MD, [])
    for heading in doc.find_headings(SKILL_MD, EVIDENCE_HEADING):
        following = next((line.bare.strip() for line in lines[heading.index + 1 :] if line.bare.strip()), "")
        if following == EVIDENCE_TABLE_HEADER:
            return heading
    return None


def _label(line: str) -> str:
    bold = re.search(r"\*\*(.+?)\*\*", line)
    text = bold.group(1) if bold else re.sub(r"^\s*([-*+]|\d+[.)]|#+)\s*", "", line)
    text = " ".join(text.replace("|", "\\|").split()).rstrip(".:")
    return text if len(text) <= 100 else text[:99].rstrip() + "…"


def _row(ids: tuple[str, ...], label: str, lessons: Mapping[str, Any]) -> str:
    kinds, evidence, seen = [], [], set()
    for lesson_id in ids:
        lesson = lessons.get(lesson_id)
        if lesson is None:
            continue
        kind = lesson["kind"] if isinstance(lesson, dict) else lesson.kind
        if kind not in kinds:
            kinds.append(kind)
        for item in lesson["evidence"] if isinstance(lesson, dict) else lesson.evidence:
            session, steps = (
                (item["session_id"], item["step_ids"]) if isinstance(item, dict) else (item.session_id, item.step_ids)
            )
            if (session, tuple(steps)) not in seen:
                seen.add((session, tuple(steps)))
                evidence.append(f"`{session}`: {', '.join(map(str, steps))}")
    cell = "; ".join(evidence[:MAX_EVIDENCE_PER_ROW])
    if len(evidence) > MAX_EVIDENCE_PER_ROW:
        cell += f"; +{len(evidence) - MAX_EVIDENCE_PER_ROW} more"
    return f"| {label} | {', '.join(sorted(kinds))} | {support_of(ids, lessons)} | {cell.replace('|', chr(92) + '|')} |"


def _table(rows: list[tuple[tuple[str, ...], str]], newline: str) -> list[Line]:
    out = [Line(EVIDENCE_TABLE_HEADER + newline, (), "code"), Line("|---|---|---|---|" + newline, (), "code")]
    out += [Line(text + newline, ids, "code") for ids, text in rows]
    return out
