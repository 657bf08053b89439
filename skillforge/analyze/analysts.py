"""The registry of LLM analysts: one module per analyst with the same small interface.

An analyst module has ``NAME``, ``TEMPLATE`` (a prompt in ``templates/prompts/``), ``KINDS`` (the
lesson kinds it may emit), ``output_schema()`` (the JSON Schema of its reply) and
``notes(reply)`` (what it found besides lessons). Which analyst reads a trajectory depends on
its outcome (:data:`BY_OUTCOME`); the comparative analyst reads the runs of one task together.
"""

from __future__ import annotations

from typing import Any, Protocol

from skillforge.analyze import comparative, failure, judge, success
from skillforge.trajectory import Trajectory


class Analyst(Protocol):
    """An LLM analyst module (see the module docstring); modules satisfy it structurally, and mypy
    checks every module of the registry against it."""

    NAME: str
    TEMPLATE: str
    KINDS: tuple[str, ...]

    def output_schema(self) -> dict[str, Any]:
        """The JSON Schema of the analyst's reply."""
        ...

    def notes(self, reply: dict[str, Any]) -> dict[str, Any]:
        """What to keep from a reply besides its lessons (written to the run journal)."""
        ...


BY_OUTCOME: dict[str, Analyst] = {"failure": failure, "success": success, "unknown": judge}
"""Outcome status → the analyst of a single trajectory."""

ANALYSTS: dict[str, Analyst] = {m.NAME: m for m in (failure, success, judge, comparative)}


def analyst_for(trajectory: Trajectory) -> Analyst:
    """The analyst module for one trajectory, from its outcome status.

    An outcome the judge decided (``origin == "judge"``) still maps to the judge, so that a
    resumed run finds the judge's pass in its journal instead of planning a new one.
    """
    if trajectory.outcome.origin == "judge":
        return judge
    return BY_OUTCOME[trajectory.outcome.status]
