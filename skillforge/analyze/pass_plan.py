"""Plan the LLM analyst passes: one per trajectory (stage ``analyse``), one per comparable task
(stage ``compare``), and carry the outcomes a judge pass decided back onto the trajectories.

Which analyst reads a trajectory is decided by its outcome (:mod:`skillforge.analyze.analysts`);
the passes are run by :class:`skillforge.analyze.pass_runner.PassRunner`, stage by stage, in
:func:`skillforge.analyze.passes.analyze_with_llm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skillforge.analyze import comparative, judge
from skillforge.analyze.analysts import ANALYSTS, Analyst, analyst_for
from skillforge.trajectory import Trajectory

STAGE_ANALYSE = "analyse"
STAGE_COMPARE = "compare"
STAGES = (STAGE_ANALYSE, STAGE_COMPARE)


@dataclass
class AnalystPass:
    """One planned analyst call.

    Attributes:
        pass_id: ``<analyst>:<session_id>`` or ``comparative:<task_id>`` (the journal key).
        analyst: the analyst module.
        trajectories: what it reads (one, or the runs of a task).
        task_id: the task of a comparative pass.
    """

    pass_id: str
    analyst: Analyst
    trajectories: list[Trajectory]
    task_id: str | None = None

    def __reduce__(self):
        """Pickled with the analyst's name (a module does not pickle), for worker processes."""
        return _analyst_pass, (self.pass_id, self.analyst.NAME, self.trajectories, self.task_id)


def _analyst_pass(pass_id: str, analyst: str, trajectories: list[Trajectory], task_id: str | None) -> AnalystPass:
    return AnalystPass(pass_id, ANALYSTS[analyst], trajectories, task_id)


def plan_trajectory_passes(trajectories: list[Trajectory]) -> list[AnalystPass]:
    """One pass per trajectory, by the analyst for its outcome."""
    passes = []
    for trajectory in trajectories:
        analyst = analyst_for(trajectory)
        passes.append(AnalystPass(f"{analyst.NAME}:{trajectory.session_id}", analyst, [trajectory]))
    return passes


def plan_comparative_passes(trajectories: list[Trajectory]) -> list[AnalystPass]:
    """One comparative pass per task with both successful and failed runs."""
    return [
        AnalystPass(f"{comparative.NAME}:{task}", comparative, runs, task)
        for task, runs in comparative.comparable_tasks(trajectories).items()
    ]


def apply_judged_outcomes(trajectories: list[Trajectory], records: list[dict[str, Any]]) -> int:
    """Set the outcome of each trajectory a judge pass judged (``origin: judge``); return how many."""
    by_id = {t.session_id: t for t in trajectories}
    changed = 0
    for record in records:
        if record["status"] == "done" and record["analyst"] == judge.NAME and record["sessions"][0] in by_id:
            by_id[record["sessions"][0]].outcome = judge.judged_outcome(record["notes"])
            changed += 1
    return changed
