"""Grounding check: does a lesson's evidence point at real steps that contain its quote?

Every lesson must cite a ``session_id`` that was ingested, ``step_ids`` that exist in that
trajectory, and a ``quote`` that occurs in the text of those steps after whitespace
normalisation (DESIGN §3; issue "grounded lessons").
"""

from __future__ import annotations

from collections.abc import Mapping

from skillforge.lesson import Lesson
from skillforge.trajectory import Trajectory


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return " ".join(text.split())


def grounding_problems(lesson: Lesson, trajectories: Mapping[str, Trajectory]) -> list[str]:
    """Return what is wrong with the lesson's evidence (an empty list when it is grounded).

    Args:
        lesson: the lesson to check.
        trajectories: ingested trajectories by ``session_id``.

    Returns:
        One message per problem: unknown session, missing step, quote not found in the steps.
    """
    problems = []
    if not lesson.evidence:
        return ["lesson has no evidence"]
    for evidence in lesson.evidence:
        trajectory = trajectories.get(evidence.session_id)
        if trajectory is None:
            problems.append(f"unknown session_id {evidence.session_id!r}")
            continue
        steps = [trajectory.step(step_id) for step_id in evidence.step_ids]
        missing = [sid for sid, step in zip(evidence.step_ids, steps) if step is None]
        if missing:
            problems.append(f"{evidence.session_id}: no step(s) {missing}")
            continue
        haystack = normalize_whitespace("\n".join(step.text() for step in steps if step))
        if normalize_whitespace(evidence.quote) not in haystack:
            problems.append(
                f"{evidence.session_id}: quote not found in steps {evidence.step_ids}: {evidence.quote[:80]!r}"
            )
    return problems


SNAP_MIN_CHARS = 12
"""Quotes shorter than this (after whitespace normalisation) are never snapped: too little to match on."""
SNAP_RATIO = 0.8
"""Share of a quote's characters that must match the step text, in order, for it to be snapped."""
SNAP_MAX_SPREAD = 1.5
"""The matched window may be at most this many times the quote's length."""


def snap_quote(quote: str, text: str) -> str | None:
    """The passage of ``text`` that ``quote`` almost reproduces, or None when there is none.

    Small models paraphrase a little when they quote (a changed word, dropped punctuation,
    different spacing). When at least :data:`SNAP_RATIO` of the quote's characters match a
    window of ``text`` in order (difflib's matching blocks) and the window is not much longer
    than the quote, that window — real text of the step — is returned to replace the quote.
    An exact quote is returned unchanged. Both strings are compared whitespace-normalised.
    """
    from difflib import SequenceMatcher

    needle = normalize_whitespace(quote)
    haystack = normalize_whitespace(text)
    if needle and needle in haystack:
        return needle
    if len(needle) < SNAP_MIN_CHARS or not haystack:
        return None
    matcher = SequenceMatcher(None, haystack, needle, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= 3]
    if not blocks or sum(b.size for b in blocks) < SNAP_RATIO * len(needle):
        return None
    first, last = blocks[0], blocks[-1]
    start = max(0, first.a - first.b)
    end = min(len(haystack), last.a + last.size + (len(needle) - last.b - last.size))
    while start > 0 and haystack[start - 1].isalnum():  # whole words, not a cut one
        start -= 1
    while end < len(haystack) and haystack[end].isalnum():
        end += 1
    if end - start > SNAP_MAX_SPREAD * len(needle):
        return None
    return haystack[start:end].strip() or None


def snap_evidence(lesson: Lesson, trajectories: Mapping[str, Trajectory]) -> tuple[Lesson, int]:
    """Repair near-miss evidence in code, before any LLM repair round.

    For each evidence entry whose quote is not found verbatim in its cited steps: replace the
    quote with the step text it almost reproduces (:func:`snap_quote`), looking first in the
    cited steps, then — when exactly one other step of the same trajectory holds it (verbatim
    first, else nearly) — in that step, whose id then replaces the cited ones. Entries with unknown sessions or step ids that
    do not exist are left alone (:func:`grounding_problems` reports them; the model repairs them).

    Returns:
        ``(lesson, snapped)``: the lesson with repaired evidence (a new object when anything
        changed) and how many entries were repaired.
    """
    from dataclasses import replace

    changed = 0
    evidence = []
    for item in lesson.evidence:
        trajectory = trajectories.get(item.session_id)
        if trajectory is None:
            evidence.append(item)
            continue
        cited = [s for s in (trajectory.step(i) for i in item.step_ids) if s is not None]
        if len(cited) < len(item.step_ids):
            evidence.append(item)  # a step that does not exist: a real mistake, left to the model's repair
            continue
        text = "\n".join(step.text() for step in cited)
        if normalize_whitespace(item.quote) in normalize_whitespace(text):
            evidence.append(item)
            continue
        snapped = snap_quote(item.quote, text)
        if snapped:
            evidence.append(replace(item, quote=snapped))
            changed += 1
            continue
        others = [step for step in trajectory.steps if step not in cited]
        needle = normalize_whitespace(item.quote)
        elsewhere = [(step, needle) for step in others if needle and needle in normalize_whitespace(step.text())]
        if not elsewhere:
            elsewhere = [(step, found) for step in others if (found := snap_quote(item.quote, step.text()))]
        if len(elsewhere) == 1:
            step, found = elsewhere[0]
            evidence.append(replace(item, step_ids=[step.step_id], quote=found))
            changed += 1
        else:
            evidence.append(item)
    return (replace(lesson, evidence=evidence) if changed else lesson), changed
