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
            problems.append(f"{evidence.session_id}: quote not found in steps {evidence.step_ids}: {evidence.quote[:80]!r}")
    return problems
