"""Lessons: what an analyst learned from one trajectory (or one task's trials), with evidence.

After Trace2Skill's failure/success memory items (arXiv 2603.25158 §3; ``analysis/report_parsing.py``
in Qwen-Applications/Trace2Skill), with skillforge's addition that every lesson cites the
``session_id`` and ``step_ids`` it comes from plus a ``quote`` found in those steps (DESIGN §3).
JSON Schema: ``schemas/lesson.schema.json``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from skillforge.resources import schema_validator

LessonKind = Literal["failure", "success"]


@dataclass
class Evidence:
    """Where a lesson comes from: steps of one trajectory and a quote that occurs in them."""

    session_id: str
    step_ids: list[int]
    quote: str


@dataclass
class Lesson:
    """One trajectory-local lesson.

    Attributes:
        id: stable id (``L-`` + 12 hex digits of a hash of kind, title and first evidence).
        kind: ``failure`` (what went wrong and how to avoid it) or ``success`` (what worked).
        title: one line, the lesson in short.
        when: the situation it applies to.
        guidance: what a future agent should do, in the imperative.
        rationale: why (what the evidence shows).
        evidence: at least one :class:`Evidence`.
        tags: free-form labels (``tool:<name>``, ``signal:<kind>``…).
        confidence: 0..1, the analyst's own estimate.
    """

    id: str
    kind: LessonKind
    title: str
    when: str
    guidance: str
    rationale: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    confidence: float = 0.5

    @property
    def session_ids(self) -> list[str]:
        """Distinct sessions cited as evidence, in citation order."""
        return list(dict.fromkeys(e.session_id for e in self.evidence))

    def to_dict(self) -> dict[str, Any]:
        """Serialize to the shape of ``schemas/lesson.schema.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lesson:
        """Build a Lesson from a dict that validates against ``lesson.schema.json``.

        Raises:
            jsonschema.ValidationError: when ``data`` does not match the schema.
        """
        schema_validator("lesson").validate(data)
        return cls(**{**data, "evidence": [Evidence(**e) for e in data["evidence"]]})


def lesson_id(kind: str, title: str, evidence: list[Evidence]) -> str:
    """Deterministic lesson id: ``L-`` + 12 hex digits of sha256(kind, title, first evidence)."""
    first = evidence[0] if evidence else None
    key = "\x1f".join(
        [kind, title, first.session_id if first else "", ",".join(map(str, first.step_ids)) if first else ""]
    )
    return "L-" + hashlib.sha256(key.encode()).hexdigest()[:12]
