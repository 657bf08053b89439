"""Outcome judge: a trajectory whose log does not say whether it succeeded.

One call: judge the outcome first (success, failure, or unknown when the trajectory cannot
tell), then analyse it as the failure or success analyst would. The judged outcome is recorded
on the trajectory with ``origin: judge`` (DESIGN §3). Prompt: ``templates/prompts/judge.md.j2``.
"""

from __future__ import annotations

from typing import Any

from skillforge.analyze.output_schema import reply_schema
from skillforge.trajectory import Outcome

NAME = "judge"
TEMPLATE = "judge"
KINDS: tuple[str, ...] = ("failure", "success")


def output_schema() -> dict[str, Any]:
    """The reply: ``outcome {status, reason}`` then ``lessons``."""
    outcome = {
        "type": "object",
        "additionalProperties": False,
        "required": ["status", "reason"],
        "properties": {"status": {"enum": ["success", "failure", "unknown"]}, "reason": {"type": "string", "minLength": 1, "maxLength": 300}},
    }
    return reply_schema(KINDS, {"outcome": outcome})


def notes(reply: dict[str, Any]) -> dict[str, Any]:
    """What to keep from the reply besides lessons (written to the run journal)."""
    return {"outcome": reply["outcome"]}


def judged_outcome(reply: dict[str, Any]) -> Outcome:
    """The outcome the judge gave, as an :class:`Outcome` with ``origin="judge"``."""
    return Outcome(status=reply["outcome"]["status"], reward=None, origin="judge", detail=reply["outcome"]["reason"][:300])
