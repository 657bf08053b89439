"""Deterministic grouping of lessons."""

from __future__ import annotations

from skillforge.lesson import Evidence, Lesson
from skillforge.merge.offline import group_lessons


def _lesson(title: str, session: str, tool: str = "Bash", kind: str = "failure") -> Lesson:
    return Lesson(
        id=f"L-{title[:5]}-{session}",
        kind=kind,
        title=title,
        when="w",
        guidance="g",
        evidence=[Evidence(session, [1], "q")],
        tags=[f"tool:{tool}"],
    )


def test_equal_and_near_equal_titles_group_and_support_counts_sessions() -> None:
    lessons = [
        _lesson("Stop retrying `Bash` with identical arguments", "s1"),
        _lesson("Stop retrying `Bash` with identical arguments.", "s2"),
        _lesson("Stop retrying `Bash` with identical argument", "s3"),
        _lesson("Stop retrying `Bash` with identical arguments", "s3"),
        _lesson("Ask before `Bash` calls like `rm -rf`", "s1"),
    ]
    groups = group_lessons(lessons)
    assert [g.support for g in groups] == [3, 1]
    assert len(groups[0].lessons) == 4
    assert groups[0].lesson_ids == [lessons[i].id for i in (0, 1, 2, 3)]


def test_lessons_about_different_tools_or_kinds_never_group() -> None:
    lessons = [
        _lesson("Call `get_user_details` when the task calls for it", "s1", "get_user_details", "success"),
        _lesson(
            "Call `get_reservation_details` when the task calls for it", "s2", "get_reservation_details", "success"
        ),
        _lesson("Call `get_user_details` when the task calls for it", "s3", "get_user_details", "failure"),
    ]
    assert len(group_lessons(lessons)) == 3


def test_ranking_is_by_support_then_failure_first() -> None:
    lessons = [
        _lesson("B pattern", "s1", kind="success"),
        _lesson("A pitfall", "s1"),
        _lesson("C pitfall", "s1"),
        _lesson("C pitfall", "s2"),
    ]
    assert [g.key for g in group_lessons(lessons)] == ["c pitfall", "a pitfall", "b pattern"]
