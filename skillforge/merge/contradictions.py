"""Contradictions: lessons that prescribe opposite actions for the same situation, both with support.

Trace2Skill's merge resolves conflicts "by the stronger justification" (``merge_system_prompt.txt``);
skillforge also lists the conflicts nobody could settle in the run report instead of resolving them
silently. Two sources feed the list:

* :func:`find_contradictions`, a deterministic check over all lessons of the run: two lessons
  contradict when their situations (``when``) are at least :data:`SITUATION_SIMILARITY` alike, the
  actions of their guidance's first clause (negation words removed) at least
  :data:`ACTION_SIMILARITY` alike, and exactly one of them is negated ("do not", "never", "avoid"…).
  Lessons agreeing with a side (same situation, same action, same polarity) add to its support;
* the merge model, which lists pairs it could not settle (:func:`from_model`).

A contradiction is reported when both sides have at least the run's minimum support (the one-off
threshold of :mod:`skillforge.merge.support`): a side below it is dropped as one-off anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from skillforge.lesson import Lesson
from skillforge.merge.offline import normalize_title
from skillforge.skill.document import support_of

SITUATION_SIMILARITY = 0.8
ACTION_SIMILARITY = 0.75

_NEGATION = re.compile(
    r"\b(do not|don't|dont|never|avoid|stop|must not|should not|shouldn't|no need to|refrain from|skip)\b",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"\b(always|must|make sure to|be sure to|please|first)\b", re.IGNORECASE)


@dataclass
class Side:
    """One side of a contradiction: its lessons, a representative guidance, support and evidence."""

    lesson_ids: list[str]
    guidance: str
    support: int
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson_ids": self.lesson_ids,
            "guidance": self.guidance,
            "support": self.support,
            "evidence": self.evidence,
        }


@dataclass
class Contradiction:
    """Two sides prescribing opposite actions for one situation.

    Attributes:
        situation: the situation (a lesson's ``when``, or the model's wording).
        sides: the two :class:`Side` objects.
        source: ``detected`` (deterministic check) or ``model`` (a merge call reported it).
        level: the consolidation level where the two sides first met (0: the same proposal batch).
        note: the model's note, if any.
    """

    situation: str
    sides: list[Side]
    source: str = "detected"
    level: int | None = None
    note: str = ""

    @property
    def key(self) -> frozenset[frozenset[str]]:
        """Identity regardless of side order (for de-duplication)."""
        return frozenset(frozenset(side.lesson_ids) for side in self.sides)

    def to_dict(self) -> dict[str, Any]:
        return {
            "situation": self.situation,
            "source": self.source,
            "level": self.level,
            "note": self.note,
            "sides": [s.to_dict() for s in self.sides],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contradiction:
        return cls(
            data["situation"],
            [Side(**s) for s in data["sides"]],
            data.get("source", "detected"),
            data.get("level"),
            data.get("note", ""),
        )


def _first_clause(text: str) -> str:
    return re.split(r"[.;:]\s|[.;:]$|\n", text.strip(), maxsplit=1)[0]


def _features(lesson: Lesson) -> tuple[str, bool, str]:
    clause = _first_clause(lesson.guidance)
    negative = bool(_NEGATION.search(clause))
    action = normalize_title(_EMPHASIS.sub(" ", _NEGATION.sub(" ", clause)))
    return normalize_title(lesson.when), negative, action


@lru_cache(maxsize=1 << 16)
def _similar(a: str, b: str, threshold: float) -> bool:
    """SequenceMatcher ratio of ``a`` and ``b`` ≥ ``threshold`` (cached: situations repeat a lot)."""
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold
    )


def find_contradictions(lessons: Sequence[Lesson], needed_support: int) -> list[Contradiction]:
    """Deterministic contradiction check over ``lessons`` (see the module doc).

    Args:
        lessons: all lessons of the run.
        needed_support: minimum support of each side.

    Returns:
        Contradictions with ``source="detected"``, most supported first.
    """
    features = [_features(lesson) for lesson in lessons]
    parent = list(range(len(lessons)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    opposed: set[int] = set()
    for i in range(len(lessons)):
        for j in range(i + 1, len(lessons)):
            (when_i, neg_i, act_i), (when_j, neg_j, act_j) = features[i], features[j]
            if neg_i == neg_j or not act_i or not act_j:
                continue
            if _similar(when_i, when_j, SITUATION_SIMILARITY) and _similar(act_i, act_j, ACTION_SIMILARITY):
                parent[find(i)] = find(j)
                opposed.update((i, j))
    components: dict[int, list[int]] = {}
    for i in sorted(opposed):
        components.setdefault(find(i), []).append(i)
    by_id = {lesson.id: lesson for lesson in lessons}
    found = []
    for members in components.values():
        sides_index: dict[bool, list[int]] = {True: [], False: []}
        for i in members:
            sides_index[features[i][1]].append(i)
        for k in range(len(lessons)):  # agreeing lessons add support to a side
            if k in opposed:
                continue
            when_k, neg_k, act_k = features[k]
            if any(
                _similar(when_k, features[i][0], SITUATION_SIMILARITY)
                and _similar(act_k, features[i][2], ACTION_SIMILARITY)
                for i in sides_index[neg_k]
            ):
                sides_index[neg_k].append(k)
        sides = [_side([lessons[i] for i in sides_index[flag]], by_id) for flag in (False, True)]
        if all(side.support >= needed_support for side in sides):
            found.append(Contradiction(lessons[members[0]].when, sides))
    return sorted(found, key=lambda c: -min(s.support for s in c.sides))


def from_model(
    reported: Sequence[Mapping[str, Any]], lessons: Mapping[str, Lesson], level: int, needed_support: int
) -> list[Contradiction]:
    """Contradictions a merge call reported (``{situation, lesson_ids_a, lesson_ids_b, note}``),
    kept when both sides reach ``needed_support``."""
    found = []
    for item in reported:
        sides = [
            _side([lessons[i] for i in item.get(key, []) if i in lessons], lessons)
            for key in ("lesson_ids_a", "lesson_ids_b")
        ]
        if all(side.lesson_ids for side in sides) and all(side.support >= needed_support for side in sides):
            found.append(
                Contradiction(str(item.get("situation", "")), sides, "model", level, str(item.get("note", "")))
            )
    return found


def _side(members: list[Lesson], lessons: Mapping[str, Lesson]) -> Side:
    ids = list(dict.fromkeys(lesson.id for lesson in members))
    representative = max(members, key=lambda lesson: (len(lesson.session_ids), lesson.confidence)) if members else None
    evidence = list(
        dict.fromkeys(
            f"{e.session_id}: {', '.join(map(str, e.step_ids))}" for lesson in members for e in lesson.evidence
        )
    )
    return Side(ids, representative.guidance if representative else "", support_of(ids, lessons), evidence)


def meeting_level(contradiction: Contradiction, levels: Sequence[Sequence[set[str]]]) -> int | None:
    """The first level at which one node saw lessons of both sides.

    Args:
        levels: per level (0 = proposal batches, then merge levels), the lesson-id sets of its nodes' inputs.
    """
    first, second = (set(side.lesson_ids) for side in contradiction.sides)
    for number, nodes in enumerate(levels):
        if any(node & first and node & second for node in nodes):
            return number
    return None
