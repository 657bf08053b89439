"""Comparative analyst: runs of the same task, some successful and some failed → what the successful
ones did differently, as at most 3 lessons.

Tasks are recognised by ``Trajectory.task_id`` (tau-bench trials share one). At most
:data:`MAX_PER_OUTCOME` successful and as many failed runs go into one prompt (the first ones in
input order), sharing the token budget. Prompt: ``templates/prompts/comparative.md.j2``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from skillforge.analyze.output_schema import reply_schema
from skillforge.trajectory import Trajectory

NAME = "comparative"
TEMPLATE = "comparative"
KINDS: tuple[str, ...] = ("success", "failure")
MAX_PER_OUTCOME = 2


def output_schema() -> dict[str, Any]:
    """The reply: ``difference`` (what the successful runs did differently) and ``lessons``."""
    return reply_schema(KINDS, {"difference": {"type": "string", "minLength": 1, "maxLength": 400}})


def notes(reply: dict[str, Any]) -> dict[str, Any]:
    """What to keep from the reply besides lessons (written to the run journal)."""
    return {"difference": reply["difference"]}


def comparable_tasks(trajectories: Iterable[Trajectory]) -> dict[str, list[Trajectory]]:
    """Tasks seen both succeeding and failing → the runs to compare (successes first).

    Returns:
        ``task_id`` → up to :data:`MAX_PER_OUTCOME` successful then as many failed runs, tasks in
        first-seen order.
    """
    by_task: dict[str, dict[str, list[Trajectory]]] = defaultdict(lambda: {"success": [], "failure": []})
    for trajectory in trajectories:
        if trajectory.task_id is not None and trajectory.outcome.status in ("success", "failure"):
            by_task[trajectory.task_id][trajectory.outcome.status].append(trajectory)
    return {
        task: runs["success"][:MAX_PER_OUTCOME] + runs["failure"][:MAX_PER_OUTCOME]
        for task, runs in by_task.items()
        if runs["success"] and runs["failure"]
    }
