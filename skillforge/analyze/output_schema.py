"""JSON Schemas of what LLM analysts reply, derived from ``schemas/lesson.schema.json``.

An analyst writes lessons without ``id`` (the id is computed in code from kind, title and first
evidence, :func:`skillforge.lesson.lesson_id`), so the lesson items of a reply are the lesson
schema less ``id``, with ``kind`` narrowed to what the analyst may emit. Keeping one source (the
lesson schema) means a lesson that passes the reply check also passes :meth:`Lesson.from_dict`.
"""

from __future__ import annotations

import copy
from typing import Any

from skillforge.resources import load_schema

MAX_LESSONS = 3
"""Lessons per analyst pass (Trace2Skill: at most 3 memory items per analysis)."""


def lesson_item_schema(kinds: tuple[str, ...]) -> dict[str, Any]:
    """The lesson schema without ``id`` and with ``kind`` limited to ``kinds``."""
    schema = copy.deepcopy(load_schema("lesson"))
    for key in ("$schema", "$id", "title", "description"):
        schema.pop(key, None)
    schema["properties"].pop("id")
    schema["required"] = [key for key in schema["required"] if key != "id"]
    schema["properties"]["kind"] = {"enum": list(kinds)}
    return schema


def reply_schema(kinds: tuple[str, ...], properties: dict[str, Any] | None = None, max_lessons: int = MAX_LESSONS) -> dict[str, Any]:
    """An analyst reply: ``properties`` (all required, in order) followed by ``lessons``.

    Args:
        kinds: lesson kinds the analyst may emit.
        properties: the analyst's own fields (root cause, lean path…), each a JSON Schema.
        max_lessons: most lessons in the reply.

    Returns:
        A Draft 2020-12 JSON Schema (an object; no other keys allowed).
    """
    properties = dict(properties or {})
    properties["lessons"] = {"type": "array", "maxItems": max_lessons, "items": lesson_item_schema(kinds)}
    return {"type": "object", "additionalProperties": False, "required": list(properties), "properties": properties}
