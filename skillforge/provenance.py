"""Provenance of a skill version: which lessons (and through them which trajectories and steps)
stand behind each part of each file.

Stored beside the skill, never inside its folder: ``<store>/.provenance/<name>.json``, committed
in the same commit as the version it describes, so ``git show <name>/v<N>:.provenance/<name>.json``
gives the provenance of any version. Written by the merge/apply stages, read by
``skillforge blame`` and the SKILL.md evidence table.

Shape (JSON)::

    {"skill": "<name>", "version": 3,
     "spans": [{"file": "SKILL.md", "start": 12, "end": 14, "section": "## Pitfalls",
                "lesson_ids": ["L-…"], "support": 3}],
     "lessons": {"L-…": {"title": "…", "kind": "failure",
                         "evidence": [{"session_id": "…", "step_ids": [4, 5], "quote": "…"}]}},
     "dropped": {"L-…": "one-off: support 1 < 2"}}

``start``/``end`` are 1-based inclusive line numbers in the version's file; ``support`` is the
number of distinct trajectories behind the span's lessons. ``dropped`` names the lessons the builds up
to this version weighed and left out by a rule (one-off, environment-only, a merge's reason): with
the lessons behind the spans, they are what a later build deepening this version need not propose
again (absent in files written before it existed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

PROVENANCE_DIR = ".provenance"


@dataclass
class Span:
    """Lines ``start``..``end`` (1-based, inclusive) of ``file`` and the lessons behind them."""

    file: str
    start: int
    end: int
    lesson_ids: list[str]
    support: int
    section: str | None = None


@dataclass
class Provenance:
    """Provenance of one skill version (see the module docstring for the JSON shape)."""

    skill: str
    version: int
    spans: list[Span] = field(default_factory=list)
    lessons: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Serialize (indented, keys sorted) for committing to the store."""
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"

    @classmethod
    def from_json(cls, data: bytes | str) -> Provenance:
        """Parse :meth:`to_json` output.

        Raises:
            orjson.JSONDecodeError, KeyError, TypeError: on malformed data.
        """
        raw = orjson.loads(data)
        return cls(
            skill=raw["skill"],
            version=raw["version"],
            spans=[Span(**s) for s in raw.get("spans", [])],
            lessons=raw.get("lessons", {}),
            dropped=raw.get("dropped", {}),
        )

    def spans_for(self, file: str, line: int) -> list[Span]:
        """The spans of ``file`` that cover ``line``."""
        return [s for s in self.spans if s.file == file and s.start <= line <= s.end]


def provenance_path(store_root: Path, name: str) -> Path:
    """Where the provenance of skill ``name`` lives in the store's work tree."""
    return Path(store_root) / PROVENANCE_DIR / f"{name}.json"
