"""The response cache: validated model replies stored by a content hash of the call."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from skillforge.fsutil import write_atomic


class ResponseCache:
    """Content-addressed store of validated model replies, one JSON file per key.

    Layout: ``<folder>/<key[:2]>/<key>.json`` holding ``{"model", "template", "messages", "data",
    "text", "prompt_tokens", "completion_tokens", "cost_usd"}``: the prompt sent (the messages, already
    redacted like everything a model sees), the reply, and the tokens and USD of the call that
    produced it, so every call can be audited later (as simonw/llm logs every prompt and response).
    Records written before the prompt was kept have no ``messages``. Files are written to a temporary name and renamed, so a killed run never leaves a torn
    entry, and two processes writing the same key write the same content. A file that cannot be
    read or parsed counts as a miss.

    Args:
        folder: the cache folder (created on first write), usually ``.skillforge/cache``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @staticmethod
    def key(model: str, template_hash: str, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
        """sha256 hex of (model, template hash, sha256 of the canonical JSON of messages + schema)."""
        inputs = hashlib.sha256(
            orjson.dumps({"messages": messages, "schema": schema}, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        return hashlib.sha256("\x1f".join((model, template_hash, inputs)).encode()).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record for ``key``, or None (missing or unreadable)."""
        try:
            record = orjson.loads(self.path(key).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return record if isinstance(record, dict) and "data" in record else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key`` atomically.

        Raises:
            OSError: when the cache folder cannot be written.
        """
        write_atomic(self.path(key), orjson.dumps(record))
