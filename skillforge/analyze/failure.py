"""Failure analyst: one failed trajectory → its root cause and at most 3 lessons.

After Trace2Skill's error analyst (``analysis/error_analysis_system.txt`` in
Qwen-Applications/Trace2Skill): trace the failure to the first wrong decision (not the last
symptom), then write generalisable lessons that would have prevented it, never mentioning a
ground truth or evaluator. Prompt: ``templates/prompts/failure.md.j2``.
"""

from __future__ import annotations

from typing import Any

from skillforge.analyze.output_schema import reply_schema

NAME = "failure"
TEMPLATE = "failure"
KINDS: tuple[str, ...] = ("failure",)


def output_schema() -> dict[str, Any]:
    """The reply: ``root_cause {step_id, description}`` and ``lessons``."""
    root_cause = {
        "type": "object",
        "additionalProperties": False,
        "required": ["step_id", "description"],
        "properties": {"step_id": {"type": "integer", "minimum": 1}, "description": {"type": "string", "minLength": 1, "maxLength": 400}},
    }
    return reply_schema(KINDS, {"root_cause": root_cause})


def notes(reply: dict[str, Any]) -> dict[str, Any]:
    """What to keep from the reply besides lessons (written to the run journal)."""
    return {"root_cause": reply["root_cause"]}
