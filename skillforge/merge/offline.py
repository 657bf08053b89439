"""Deterministic consolidation for the offline path: group equal or near-equal lessons, count
support, rank.

Support is the number of distinct trajectories (``session_id``) behind a group, after
Trace2Skill's "prioritize by frequency: a failure cause appearing in 10 records matters more
than one appearing in 1" (``skill_evolving_agent/error_record_section_generic.txt``).
Near-equality uses :class:`difflib.SequenceMatcher` on normalised titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from skillforge.lesson import Lesson

SIMILARITY = 0.9
"""Titles of the same kind at least this similar (SequenceMatcher ratio, 0..1) are one group."""


@dataclass
class LessonGroup:
    """Lessons that say the same thing, from one or more trajectories.

    Attributes:
        key: the normalised title the group was formed on.
        lessons: members, in input order.
    """

    key: str
    lessons: list[Lesson] = field(default_factory=list)

    @property
    def tools(self) -> frozenset[str]:
        """The ``tool:`` tags the members share (lessons about different tools never group)."""
        return _tools(self.lessons[0])

    @property
    def kind(self) -> str:
        """``failure`` or ``success`` (all members share it)."""
        return self.lessons[0].kind

    @property
    def support(self) -> int:
        """Distinct trajectories behind the group."""
        return len({e.session_id for lesson in self.lessons for e in lesson.evidence})

    @property
    def representative(self) -> Lesson:
        """The member to show: highest confidence, then most evidence, then first seen."""
        return max(self.lessons, key=lambda item: (item.confidence, len(item.evidence), -self.lessons.index(item)))

    @property
    def lesson_ids(self) -> list[str]:
        """Ids of the member lessons (provenance)."""
        return [lesson.id for lesson in self.lessons]


def normalize_title(title: str) -> str:
    """Lowercase, drop punctuation other than placeholders and backticks, collapse spaces."""
    text = re.sub(r"[^\w\s{}`]", " ", title.lower())
    return " ".join(text.split())


def group_lessons(lessons: list[Lesson], similarity: float = SIMILARITY) -> list[LessonGroup]:
    """Group equal or near-equal lessons and rank the groups.

    Args:
        lessons: lessons from all analyst passes.
        similarity: SequenceMatcher ratio at or above which two titles match; only lessons of
            the same kind about the same tools (``tool:`` tags) are compared.

    Returns:
        Groups sorted by support (descending), then kind (failure first), then key.
    """
    groups: list[LessonGroup] = []
    exact: dict[tuple[str, str], LessonGroup] = {}
    for lesson in lessons:
        key = normalize_title(lesson.title)
        tools = _tools(lesson)
        group = exact.get((lesson.kind, tools, key))
        if group is None:
            group = _similar_group(groups, lesson.kind, tools, key, similarity)
        if group is None:
            group = LessonGroup(key)
            groups.append(group)
        exact[(lesson.kind, tools, key)] = group
        group.lessons.append(lesson)
    return sorted(groups, key=lambda g: (-g.support, g.kind != "failure", g.key))


def _tools(lesson: Lesson) -> frozenset[str]:
    return frozenset(tag for tag in lesson.tags if tag.startswith("tool:"))


def _similar_group(
    groups: list[LessonGroup], kind: str, tools: frozenset[str], key: str, similarity: float
) -> LessonGroup | None:
    best, best_ratio = None, similarity
    for group in groups:
        if group.kind != kind or group.tools != tools:
            continue
        matcher = SequenceMatcher(None, key, group.key, autojunk=False)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = group, ratio
    return best
