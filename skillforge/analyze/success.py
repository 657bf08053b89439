"""Success analyst: one successful trajectory → its lean solution path and at most 3 lessons.

After Trace2Skill's success analyst (``success_analysis_system_llm.txt``): write the path that
worked with failed attempts stripped, then the lessons that made it work. Prompt:
``templates/prompts/success.md.j2``.
"""

from __future__ import annotations

from typing import Any

from skillforge.analyze.output_schema import reply_schema

NAME = "success"
TEMPLATE = "success"
KINDS: tuple[str, ...] = ("success",)


def output_schema() -> dict[str, Any]:
    """The reply: ``lean_path`` (ordered steps, in words) and ``lessons``."""
    lean_path = {"type": "array", "minItems": 1, "maxItems": 15, "items": {"type": "string", "minLength": 1, "maxLength": 200}}
    return reply_schema(KINDS, {"lean_path": lean_path})


def notes(reply: dict[str, Any]) -> dict[str, Any]:
    """What to keep from the reply besides lessons (written to the run journal)."""
    return {"lean_path": reply["lean_path"]}
