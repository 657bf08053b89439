"""Support counts and the drop rules applied to the consolidated patch (Trace2Skill's error-record
guidance, ``skill_evolving_agent/error_record_section_generic.txt`` in Qwen-Applications/Trace2Skill:
"prioritize by frequency", ignore "one-off failures" and "file paths, environment issues").

Support of an edit = distinct trajectories behind it: its ``lesson_ids`` → lessons → evidence
``session_id``s. The thresholds, applied in code to the final patch of every path (LLM or offline):

* **one-off**: an edit whose support is below :func:`min_support` is dropped. In a run of at least
  :data:`ONE_OFF_CORPUS_MIN` trajectories that means support 1; smaller runs keep support-1 edits,
  because there every lesson is seen once. ``BuildOptions.min_support`` overrides it.
* **environment-only**: an edit all of whose lessons are about one machine's environment is dropped: a
  lesson tagged with one of :data:`ENVIRONMENT_TAGS`, or whose situation/title matches
  :data:`ENVIRONMENT_PATTERN` (missing commands, files or modules, permissions, network, disk).
* an edit that links to a file whose ``create_file`` edit was dropped is dropped with it.

Edits with no ``lesson_ids`` (written by code or by the fix loop) are never dropped here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skillforge.lesson import Lesson
from skillforge.patch import Edit, Patch
from skillforge.skill.document import support_of

ONE_OFF_CORPUS_MIN = 10
"""Runs with at least this many trajectories drop one-off edits (support 1)."""
ONE_OFF_SUPPORT = 2
"""The minimum support in such runs."""

ENVIRONMENT_TAGS = frozenset({"environment", "env", "scope:environment", "signal:environment"})
ENVIRONMENT_PATTERN = re.compile(
    r"command not found|no such file or directory|modulenotfounderror|no module named|permission denied"
    r"|\beacces\b|\benoent\b|connection refused|could not resolve host|network is unreachable"
    r"|no space left on device|disk quota exceeded|address already in use",
    re.IGNORECASE,
)


def min_support(trajectory_count: int) -> int:
    """The support an edit needs to be kept in a run over ``trajectory_count`` trajectories (1 or 2)."""
    return ONE_OFF_SUPPORT if trajectory_count >= ONE_OFF_CORPUS_MIN else 1


def is_environment_only(lesson: Lesson) -> bool:
    """True when the lesson is about one machine's environment (tag or situation pattern, see module doc)."""
    if ENVIRONMENT_TAGS & set(lesson.tags):
        return True
    return bool(ENVIRONMENT_PATTERN.search(f"{lesson.title}\n{lesson.when}"))


@dataclass
class DroppedEdit:
    """An edit left out of the skill, and why.

    Attributes:
        lesson_ids: the lessons behind it.
        reason: the rule (``one-off: support 1 < 2``, ``environment-only``, the merge model's reason…).
        support: distinct trajectories behind it.
        edit: one-line summary of the edit ('' when only lessons were dropped by a merge).
    """

    lesson_ids: list[str]
    reason: str
    support: int = 0
    edit: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"lesson_ids": self.lesson_ids, "reason": self.reason, "support": self.support, "edit": self.edit}


def filter_edits(patch: Patch, lessons: Mapping[str, Lesson], needed_support: int) -> tuple[Patch, list[DroppedEdit]]:
    """Drop one-off and environment-only edits (module doc).

    Args:
        patch: the consolidated patch.
        lessons: lesson id → lesson.
        needed_support: the minimum support (:func:`min_support` or the user's choice).

    Returns:
        (the patch with the kept edits, the dropped edits with reasons).
    """
    kept: list[Edit] = []
    dropped: list[DroppedEdit] = []
    dropped_files: set[str] = set()
    for edit in patch.edits:
        if not edit.lesson_ids:
            kept.append(edit)
            continue
        support = support_of(edit.lesson_ids, lessons)
        known = [lessons[i] for i in edit.lesson_ids if i in lessons]
        reason = None
        if known and all(is_environment_only(lesson) for lesson in known):
            reason = "environment-only: every lesson behind it is about one machine's environment"
        elif support < needed_support:
            reason = f"one-off: support {support} < {needed_support}"
        if reason is None:
            kept.append(edit)
            continue
        dropped.append(DroppedEdit(edit.lesson_ids, reason, support, edit.summary()))
        if edit.op == "create_file":
            dropped_files.add(edit.file)
    if dropped_files:
        still = []
        for edit in kept:
            linked = [f for f in dropped_files if f in (edit.content or "")]
            if linked and edit.op != "create_file":
                dropped.append(
                    DroppedEdit(
                        edit.lesson_ids,
                        f"links to {linked[0]}, whose create_file was dropped",
                        support_of(edit.lesson_ids, lessons),
                        edit.summary(),
                    )
                )
            else:
                still.append(edit)
        kept = still
    return Patch(reasoning=patch.reasoning, edits=kept, changelog_entries=list(patch.changelog_entries)), dropped
