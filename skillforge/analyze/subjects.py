"""What an offline item is about, read back from its title, so that a deepening can tell two wordings
of one lesson apart from two lessons.

The offline analyst's titles are fixed shapes (:mod:`skillforge.analyze.procedure`,
:mod:`~skillforge.analyze.contrast`, :mod:`~skillforge.analyze.pitfalls`): the part that names the
subject (the write a procedure ends with, the tool a comparison is about, the tool and error of a
pitfall) stays when more runs change the rest (the steps of a procedure, the situation of a
comparison, the example error's literals). :func:`subject_of` returns that part, or None for any
other title (an LLM analyst's, a user's line); :mod:`skillforge.merge.deepen` merges a new item into
the start version's item with the same subject.
"""

from __future__ import annotations

import re

from skillforge.analyze.errors import error_key

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("procedure", re.compile(r"^Before `(?P<a>[^`]+)` in (?P<b>\S+) tasks, ")),
    ("procedure", re.compile(r"^In (?P<b>\S+) tasks, work in the order the successful runs shared$")),
    ("comparative", re.compile(r"^(?:Start by calling|Call) `(?P<a>[^`]+)`(?: in tasks like these)?$")),
    ("comparative", re.compile(r"^(?:Before|After) calling `[^`]+`, call `(?P<a>[^`]+)`$")),
    ("ending", re.compile(r"^Call `(?P<a>[^`]+)` only when the request calls for it$")),
    ("pitfall", re.compile(r'^When `(?P<a>[^`]+)` fails with "(?P<b>[^"]*)"')),
)
"""(kind, the title shape with the subject's parts ``a`` and ``b``)."""


def subject_of(title: str) -> tuple[str, str, str] | None:
    """``(kind, a, b)`` of an offline item's title (module doc), or None when it has none of the shapes.

    ``title`` is the item's bold lead as written (any final full stop is ignored). For a pitfall ``b``
    is the :func:`~skillforge.analyze.errors.error_key` of the quoted error (a cut quote's "…" dropped),
    so the same error with other literals is one subject.
    """
    text = title.strip().rstrip(".")
    for kind, shape in _SHAPES:
        match = shape.match(text)
        if match:
            parts = match.groupdict()
            a, b = parts.get("a") or "", parts.get("b") or ""
            if kind == "pitfall":
                b = error_key(b.rstrip("…"))
            return kind, a, b
    return None
