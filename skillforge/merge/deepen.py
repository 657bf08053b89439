"""Deepening never duplicates: an item equal or near-equal to one the start version holds merges into it.

Used by the build for both paths (offline and LLM) just before the patch is applied
(:func:`absorb_start_items`), and after every apply (:func:`refresh_support_marks`):

* an edit that adds a list item whose title (its bold lead, else its first line) is equal or
  near-equal to the title of a list item of the start version's SKILL.md — ratio at least
  :data:`skillforge.merge.offline.SIMILARITY` (:class:`difflib.SequenceMatcher`) on titles normalised
  by :func:`skillforge.merge.offline.normalize_title` — takes that item's place: the old item's lines
  are removed, its lesson ids join the edit's (the support adds up), and the new text stands. When the
  start version's item cites runs the new text does not count, the item says so ("Earlier versions
  cite N more runs."). An item of the offline analyst is also one with the start version's item about
  the same subject (:func:`skillforge.analyze.subjects.subject_of`: the write a procedure ends with,
  the tool a comparison is about, a pitfall's tool and error), however more runs changed its wording;
* ``_(support: N)_`` marks on lines with lesson ids are set to the support of those ids (distinct
  trajectories, :func:`skillforge.skill.document.support_of`), so a merged item shows the sum.

A start-version item that another edit of the patch targets (its text is a ``target_text`` or
``old_text``) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

from skillforge.analyze.subjects import subject_of
from skillforge.merge.offline import SIMILARITY, normalize_title
from skillforge.patch import Edit, Patch
from skillforge.skill.document import SKILL_MD, SkillDoc, support_of

ADDING_OPS = frozenset({"append_to_section", "insert_after", "insert_before", "add_section"})
"""Edit operations that add text (and so may add a list item)."""

SUPPORT_MARK = re.compile(r"_\(support: \d+\)_")
"""The support mark the offline path writes after an item (``templates/skill/item.md.j2``)."""

_ITEM = re.compile(r"^([-*+]|\d+[.)])\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass
class _Item:
    start: int
    end: int
    key: str
    lesson_ids: tuple[str, ...]
    text: str
    subject: tuple[str, str, str] | None = None


def item_title(line: str) -> str:
    """The title of a list item line: its bold lead, else the text after the bullet, normalised."""
    return normalize_title(_lead(line).rstrip("."))


def _lead(line: str) -> str:
    """The bold lead of a list item line as written, else the text after the bullet."""
    match = _ITEM.match(line.strip())
    text = match.group(2) if match else line.strip()
    bold = _BOLD.search(text)
    return bold.group(1) if bold else text


def absorb_start_items(
    doc: SkillDoc, patch: Patch, lessons: Mapping[str, Any], similarity: float = SIMILARITY
) -> tuple[Patch, list[str]]:
    """Merge the patch's new items into the start version's equal or near-equal items (module doc).

    Args:
        doc: the start version, loaded with its provenance (changed in place: merged items removed).
        patch: the patch about to be applied.
        lessons: lesson id → lesson (new and the start version's), for support.
        similarity: the title ratio at or above which two items are one.

    Returns:
        (the patch with the merged edits' lesson ids and texts, one note per merge).
    """
    targeted = " ".join(filter(None, (e.target_text for e in patch.edits))) + " ".join(
        filter(None, (e.old_text for e in patch.edits))
    )
    items = [
        item for item in _start_items(doc) if not (targeted and item.text.strip() and item.text.strip() in targeted)
    ]
    edits: list[Edit] = []
    notes: list[str] = []
    removed: list[_Item] = []
    for edit in patch.edits:
        if edit.op not in ADDING_OPS or edit.file != SKILL_MD or not edit.content or not edit.lesson_ids:
            edits.append(edit)
            continue
        first = next((line for line in edit.content.splitlines() if _ITEM.match(line.strip())), None)
        match = _best(items, item_title(first), subject_of(_lead(first)), similarity) if first else None
        if match is None or any(match is r for r in removed):
            edits.append(edit)
            continue
        removed.append(match)
        ids = list(dict.fromkeys([*match.lesson_ids, *edit.lesson_ids]))
        content = edit.content
        earlier = support_of(ids, lessons) - support_of(edit.lesson_ids, lessons)
        if earlier > 0:
            content = _add_to_first_item(
                content, f"Earlier versions cite {earlier} more run{'s' if earlier != 1 else ''}."
            )
        edits.append(replace(edit, lesson_ids=ids, content=content))
        notes.append(f"merged a new item into the start version's item {match.key[:60]!r} (support adds up)")
    lines = doc.files.get(SKILL_MD, [])
    for item in sorted(removed, key=lambda i: -i.start):
        end = item.end
        if (
            end < len(lines)
            and not lines[end].bare.strip()
            and (item.start == 0 or not lines[item.start - 1].bare.strip())
        ):
            end += 1
        del lines[item.start : end]
    return Patch(reasoning=patch.reasoning, edits=edits, changelog_entries=list(patch.changelog_entries)), notes


def refresh_support_marks(doc: SkillDoc, lessons: Mapping[str, Any]) -> int:
    """Set every ``_(support: N)_`` on a line with lesson ids to the support of those ids; return how many changed."""
    changed = 0
    for lines in doc.files.values():
        for line in lines:
            if not line.lesson_ids or not SUPPORT_MARK.search(line.text):
                continue
            text = SUPPORT_MARK.sub(f"_(support: {support_of(line.lesson_ids, lessons)})_", line.text)
            if text != line.text:
                line.text = text
                changed += 1
    return changed


def _start_items(doc: SkillDoc) -> list[_Item]:
    """List items of the start version's SKILL.md body (lines read from it), with their continuation lines."""
    lines = doc.files.get(SKILL_MD, [])
    items, index = [], doc.body_start(SKILL_MD)
    while index < len(lines):
        line = lines[index]
        if line.origin != "start" or not _ITEM.match(line.bare) or line.bare[:1].isspace():
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].bare.strip() and lines[end].bare[:1].isspace():
            end += 1
        text = "".join(part.text for part in lines[index:end])
        key, subject = item_title(line.bare), subject_of(_lead(line.bare))
        items.append(_Item(index, end, key, tuple(line.lesson_ids), text, subject))
        index = end
    return items


def _best(items: list[_Item], key: str, subject: tuple[str, str, str] | None, similarity: float) -> _Item | None:
    """The start item with the same subject, else the one whose title is most similar (at least ``similarity``)."""
    if subject is not None:
        same = next((item for item in items if item.subject == subject), None)
        if same is not None:
            return same
    best, best_ratio = None, similarity
    for item in items:
        ratio = 1.0 if item.key == key else SequenceMatcher(None, key, item.key, autojunk=False).ratio()
        if ratio >= best_ratio:
            best, best_ratio = item, ratio
    return best


def _add_to_first_item(content: str, sentence: str) -> str:
    lines = content.splitlines()
    for position, line in enumerate(lines):
        if _ITEM.match(line.strip()):
            mark = SUPPORT_MARK.search(line)
            lines[position] = (
                line[: mark.start()] + sentence + " " + line[mark.start() :] if mark else f"{line} {sentence}"
            )
            break
    return "\n".join(lines)
