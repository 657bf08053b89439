"""The run folder's saved steps: each finished LLM step is a JSON file keyed by what produced it.

A build writes every proposal (``patches/patch_NNNN.json``), every merge node
(``merge_level_N/node_NNNN.json``) and every translation or fix call to the run folder as soon as it
finishes (written to a temporary file, then renamed, so a killed run never leaves half a file).
Each file records a ``key``: the sha256 of the model, the prompt template's hash and the inputs.
A rerun over the same folder reuses a file whose key matches, so a killed run repeats no finished
call (DESIGN §4, "a run that stops half way resumes from what it has").
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson


def digest(*parts: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``parts`` (dict keys sorted)."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


class RunFolder:
    """Saved steps under ``root`` (the run folder, created on first save)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def load(self, relative: str, key: str) -> dict[str, Any] | None:
        """The saved step at ``relative`` when it exists, parses, finished (``status`` is not
        ``failed``) and has ``key``; else None (a stale or broken file is simply redone)."""
        path = self.root / relative
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or data.get("status") == "failed":
            return None
        return data

    def save(self, relative: str, data: dict[str, Any]) -> Path:
        """Write ``data`` as JSON to ``relative`` atomically (temporary file, then rename); return the path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        scratch.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        os.replace(scratch, path)
        return path
