"""The skill part of the HTML report's model: its files, its items (the provenance spans) and the
line diff of each file against the start version.

An *item* is one provenance span (:class:`skillforge.provenance.Span`): lines of a skill file
and the lessons behind them, with their support (distinct trajectories). The diff is difflib's
(:class:`difflib.SequenceMatcher` opcodes over lines): ``insert`` → added lines, ``replace`` →
changed lines, ``delete`` → removed lines; long unchanged runs are shortened to
:data:`DIFF_CONTEXT` lines around each change, as ``diff -U3`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher
from typing import Any

from skillforge.provenance import Span

DIFF_CONTEXT = 3
"""Unchanged lines kept around each change in the diff view."""

_FRONTMATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)


def skill_model(
    files: Mapping[str, str], start_files: Mapping[str, str] | None, spans: Iterable[Span]
) -> dict[str, Any]:
    """Files, items and diffs of one skill version.

    Args:
        files: path inside the skill folder → text (``SKILL.md`` first, then the others sorted).
        start_files: the same for the start version; None when there is none to compare with
            (every line then counts as added).
        spans: the provenance spans of the version (their lines are 1-based and inclusive).

    Returns:
        ``{"files": [file model], "removed_files": [path], "items": [item], "changes": {"added",
        "changed", "removed"}}``; a file model is ``{"path", "anchor", "markdown", "frontmatter",
        "body", "body_offset", "added_lines", "changed_lines", "diff": [row]}`` (line numbers 1-based) and an
        item ``{"id", "file", "start", "end", "section", "support", "lessons", "text"}``.
    """
    start_files = start_files or {}
    models = []
    totals = {"added": 0, "changed": 0, "removed": 0}
    for path, text in files.items():
        model = _file_model(path, text, start_files.get(path, ""))
        for row in model["diff"]:
            if row["op"] == "-":
                totals["removed"] += 1
        totals["added"] += len(model["added_lines"])
        totals["changed"] += len(model["changed_lines"])
        models.append(model)
    removed_files = sorted(path for path in start_files if path not in files)
    for path in removed_files:
        totals["removed"] += len(start_files[path].splitlines())
    items = []
    for index, span in enumerate(sorted(spans, key=lambda s: (_file_order(files, s.file), s.start, s.end))):
        lines = files.get(span.file, "").splitlines()[span.start - 1 : span.end]
        items.append(
            {
                "id": index,
                "file": span.file,
                "start": span.start,
                "end": span.end,
                "section": span.section,
                "support": span.support,
                "lessons": list(span.lesson_ids),
                "text": "\n".join(lines),
            }
        )
    return {"files": models, "removed_files": removed_files, "items": items, "changes": totals}


def anchor(path: str) -> str:
    """The in-page anchor of a skill file (``references/x.md`` → ``file-references-x-md``)."""
    return "file-" + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-").lower()


def split_frontmatter(text: str) -> tuple[str, str, int]:
    """``(frontmatter, body, body_offset)``: the YAML between the ``---`` fences (empty when there
    is none), the text after them, and how many lines precede the body."""
    match = _FRONTMATTER.match(text)
    if not match:
        return "", text, 0
    head = match.group(0)
    return (match.group(1) or "").rstrip("\n"), text[match.end() :], head.count("\n")


def line_diff(old: str, new: str) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The line diff of ``old`` → ``new``.

    Returns:
        ``(rows, line_changes)``: rows ``{"op": " "|"+"|"-"|"…", "old": n|None, "new": n|None,
        "text"}`` (1-based line numbers; ``…`` rows stand for unchanged lines left out, ``text``
        says how many), and new line number → ``added`` or ``changed``.
    """
    old_lines, new_lines = old.splitlines(), new.splitlines()
    rows: list[dict[str, Any]] = []
    changes: dict[int, str] = {}
    opcodes = SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes()
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            keep_head = DIFF_CONTEXT if position > 0 else 0
            keep_tail = DIFF_CONTEXT if position < len(opcodes) - 1 else 0
            if i2 - i1 > keep_head + keep_tail:
                rows += [_row(" ", i1 + k, j1 + k, old_lines[i1 + k]) for k in range(keep_head)]
                rows.append({"op": "…", "old": None, "new": None, "text": _unchanged(i2 - i1 - keep_head - keep_tail)})
                rows += [_row(" ", k, j1 + k - i1, old_lines[k]) for k in range(i2 - keep_tail, i2)]
            else:
                rows += [_row(" ", i1 + k, j1 + k, old_lines[i1 + k]) for k in range(i2 - i1)]
            continue
        rows += [_row("-", k, None, old_lines[k]) for k in range(i1, i2)]
        rows += [_row("+", None, k, new_lines[k]) for k in range(j1, j2)]
        for k in range(j1, j2):
            changes[k + 1] = "added" if tag == "insert" else "changed"
    return rows, changes


def _file_model(path: str, text: str, start_text: str) -> dict[str, Any]:
    frontmatter, body, offset = split_frontmatter(text) if path.endswith(".md") else ("", text, 0)
    rows, changes = line_diff(start_text, text)
    added = sorted(line for line, change in changes.items() if change == "added")
    changed = sorted(line for line, change in changes.items() if change == "changed")
    return {
        "path": path,
        "anchor": anchor(path),
        "markdown": path.endswith(".md"),
        "frontmatter": frontmatter,
        "body": body,
        "body_offset": offset,
        "added_lines": added,
        "changed_lines": changed,
        "diff": rows if rows and any(row["op"] in "+-" for row in rows) else [],
    }


def _row(op: str, old: int | None, new: int | None, text: str) -> dict[str, Any]:
    return {"op": op, "old": None if old is None else old + 1, "new": None if new is None else new + 1, "text": text}


def _file_order(files: Mapping[str, str], path: str) -> int:
    order = list(files)
    return order.index(path) if path in order else len(order)


def _unchanged(count: int) -> str:
    return f"{count} unchanged line" + ("" if count == 1 else "s")
