"""Value coercion for log fields, which hold odd types everywhere: typed getters, lenient
tool-call arguments, message content flattened to text.
"""

from __future__ import annotations

import ast
from typing import Any

import orjson


def literal(raw: Any) -> Any:
    """Decode a value that a log stored as text: JSON first, then a Python literal (SWE-agent
    writes ``tool_calls`` as ``repr()`` of a list); anything else is returned unchanged."""
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return raw


def as_str(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None (logs put odd types in every field)."""
    return value if isinstance(value, str) and value else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty dict (a missing or malformed field)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """``value`` when it is an integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    """``value`` as a float when it is a number (not a bool), else None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse_arguments(raw: Any) -> dict[str, Any]:
    """Turn tool-call arguments into a dict, leniently.

    Formats store arguments as a dict or as a JSON string written by a model (which may be
    invalid). Dicts pass through; a string that parses to a dict is used; anything else is
    kept as ``{"_raw": <text>}`` so no information is lost.
    """
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        if raw[:1] != "{" and not raw.lstrip().startswith("{"):
            return {"_raw": raw}  # cannot parse to an object (a patch, a command): no failed parse to pay for
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {"_raw": raw}
        return value if isinstance(value, dict) else {"_raw": raw}
    return {"_raw": raw}


def content_text(content: Any) -> str:
    """Flatten message content (a string, or a list of text/image blocks) into text.

    Handles the Anthropic and OpenAI block shapes (``{"type": "text", "text": ...}``); images
    become ``[image]`` so no base64 reaches analysts.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict):
                kind = block.get("type")
                if kind in ("text", "input_text", "output_text"):
                    parts.append(str(block.get("text", "")))
                elif kind in ("image", "image_url", "input_image"):
                    parts.append("[image]")
                elif "text" in block:
                    parts.append(str(block["text"]))
                elif "content" in block:
                    parts.append(content_text(block["content"]))
        return "\n".join(p for p in parts if p)
    return str(content)
