"""Model replies to JSON: reasoning blocks, code fences and prose skipped, the value checked
against the call's JSON Schema (jsonschema, Draft 2020-12).
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

TRUNCATED_ECHO_CHARS = 600
"""Characters of a reply cut off at ``max_tokens`` that the repair round shows the model again."""


class InvalidOutput(Exception):
    """The model's reply is not JSON, or not JSON that satisfies the schema."""


_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)


_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)


_MAX_STARTS = 50  # top-level ``{``/``[`` positions tried per candidate text


def parse_json_reply(text: str, validator: Draft202012Validator) -> Any:
    """Parse a model reply as JSON and validate it, tolerating what chat models wrap around JSON.

    Stripped or skipped: ``<think>…</think>`` reasoning blocks, code fences (with or without a
    language tag or a newline), prose before and after the value, and values that do not parse
    (a ``[note]`` in the prose). Fenced blocks are tried first, then the whole reply; among the
    top-level JSON values found, the first one valid against the schema wins (a model that echoes
    an example before its answer still passes).

    Returns:
        The parsed value (dict, list, …).

    Raises:
        InvalidOutput: when no JSON value can be parsed, or none fits the schema (the message
            lists up to three schema errors of the longest value, with their paths).
    """
    text = _THINKING.sub("", text)
    decoder = json.JSONDecoder()
    values: list[tuple[int, Any]] = []  # (length in characters, value) of each parsed, invalid value
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        position, tried = 0, 0
        while tried < _MAX_STARTS:
            starts = [i for i in (candidate.find("{", position), candidate.find("[", position)) if i >= 0]
            if not starts:
                break
            start, tried = min(starts), tried + 1
            try:
                value, end = decoder.raw_decode(candidate, start)
            except ValueError:
                position = start + 1
                continue
            if not any(True for _ in validator.iter_errors(value)):
                return value
            values.append((end - start, value))
            position = end  # values nested inside this one are not answers of their own
    if not values:
        raise InvalidOutput("the reply contains no parseable JSON")
    longest = max(values, key=lambda pair: pair[0])[1]
    errors = sorted(validator.iter_errors(longest), key=lambda e: list(e.path))
    described = "; ".join(f"at {'/'.join(map(str, e.path)) or '(root)'}: {e.message[:200]}" for e in errors[:3])
    raise InvalidOutput(f"JSON does not match the schema: {described}")
