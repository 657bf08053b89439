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

REPLY_MAX_CHARS = {"title": 160, "when": 300, "guidance": 400, "rationale": 400, "quote": 300, "tag": 40}
"""Longest string per lesson field in a reply (characters). With at most 3 lessons, a complete
reply stays within the ~1,000 completion tokens the prompt fitting keeps free; servers that turn
the schema into a grammar (llama.cpp) also stop a small model that loops inside a string there."""
MAX_EVIDENCE = 3
MAX_STEP_IDS = 8
MAX_TAGS = 5


def lesson_item_schema(kinds: tuple[str, ...]) -> dict[str, Any]:
    """The lesson schema without ``id`` and with ``kind`` limited to ``kinds``."""
    schema = copy.deepcopy(load_schema("lesson"))
    for key in ("$schema", "$id", "title", "description"):
        schema.pop(key, None)
    schema["properties"].pop("id")
    schema["required"] = [key for key in schema["required"] if key != "id"]
    schema["properties"]["kind"] = {"enum": list(kinds)}
    properties = schema["properties"]
    for key in ("title", "when", "guidance", "rationale"):
        properties[key]["maxLength"] = REPLY_MAX_CHARS[key]
    properties["tags"]["maxItems"] = MAX_TAGS
    properties["tags"]["items"]["maxLength"] = REPLY_MAX_CHARS["tag"]
    evidence = properties["evidence"]
    evidence["maxItems"] = MAX_EVIDENCE
    evidence["items"]["properties"]["quote"]["maxLength"] = REPLY_MAX_CHARS["quote"]
    evidence["items"]["properties"]["step_ids"]["maxItems"] = MAX_STEP_IDS
    return schema


def bind_evidence(schema: dict[str, Any], session_ids: list[str]) -> dict[str, Any]:
    """A copy of a reply schema whose evidence can only cite the sessions the prompt shows.

    ``session_id`` becomes an ``enum`` of ``session_ids``, so a model with schema-constrained
    decoding (llama.cpp's grammar, OpenAI's structured outputs) cannot invent or decorate an id
    (a 0.5B model wrote ``"tau-bench"`` and ``"<id> step 3"``), and every other model reads the
    allowed ids in the schema of its prompt. Step ids and quotes are still checked after the
    reply (:func:`skillforge.analyze.grounding.grounding_problems`), with a repair round.
    """
    bound = copy.deepcopy(schema)
    evidence = bound["properties"]["lessons"]["items"]["properties"]["evidence"]["items"]["properties"]
    evidence["session_id"] = {"enum": list(dict.fromkeys(session_ids))}
    return bound


def reply_schema(
    kinds: tuple[str, ...], properties: dict[str, Any] | None = None, max_lessons: int = MAX_LESSONS
) -> dict[str, Any]:
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
