"""The registry of LLM analysts: one module per analyst with the same small interface.

An analyst module has ``NAME``, ``TEMPLATE`` (a prompt in ``templates/prompts/``), ``KINDS`` (the
lesson kinds it may emit), ``output_schema()`` (the JSON Schema of its reply) and
``notes(reply)`` (what it found besides lessons). Which analyst reads a trajectory depends on
its outcome (:data:`BY_OUTCOME`); the comparative analyst reads the runs of one task together.
"""

from __future__ import annotations

from types import ModuleType

from skillforge.analyze import comparative, failure, judge, success
from skillforge.trajectory import Trajectory

BY_OUTCOME: dict[str, ModuleType] = {"failure": failure, "success": success, "unknown": judge}
"""Outcome status → the analyst of a single trajectory."""

ANALYSTS: dict[str, ModuleType] = {m.NAME: m for m in (failure, success, judge, comparative)}


def analyst_for(trajectory: Trajectory) -> ModuleType:
    """The analyst module for one trajectory, from its outcome status.

    An outcome the judge decided (``origin == "judge"``) still maps to the judge, so that a
    resumed run finds the judge's pass in its journal instead of planning a new one.
    """
    if trajectory.outcome.origin == "judge":
        return judge
    return BY_OUTCOME[trajectory.outcome.status]
