"""The merge tree's shape, the drop rules and the contradiction check."""

from __future__ import annotations

import math

import pytest

from skillforge.lesson import Evidence, Lesson
from skillforge.merge.consolidate import balanced_groups, expected_tree
from skillforge.merge.contradictions import find_contradictions, meeting_level
from skillforge.merge.support import filter_edits, min_support
from skillforge.patch import Edit, Patch


def _lesson(
    lesson_id: str,
    sessions: list[str],
    *,
    when: str = "w",
    guidance: str = "g",
    tags: list[str] | None = None,
    kind: str = "failure",
) -> Lesson:
    return Lesson(
        id=lesson_id,
        kind=kind,
        title=f"title {lesson_id}",
        when=when,
        guidance=guidance,
        evidence=[Evidence(s, [1], "q") for s in sessions],
        tags=tags or [],
    )


@pytest.mark.parametrize(
    ("count", "fan_in"), [(1, 5), (2, 5), (5, 5), (6, 5), (16, 5), (26, 5), (100, 5), (7, 2), (33, 3)]
)
def test_tree_depth_is_ceil_log_k(count: int, fan_in: int) -> None:
    groups = balanced_groups(list(range(count)), fan_in)
    assert len(groups) == math.ceil(count / fan_in)
    assert [i for g in groups for i in g] == list(range(count))
    assert max(map(len, groups)) - min(map(len, groups)) <= 1 and max(map(len, groups)) <= fan_in
    calls, depth = expected_tree(count, fan_in)
    assert depth == (math.ceil(math.log(count, fan_in) - 1e-9) if count > 1 else 0)
    assert calls >= depth and (count == 1 or calls <= count - 1)


def test_min_support_threshold() -> None:
    assert min_support(5) == 1 and min_support(9) == 1 and min_support(10) == 2 and min_support(200) == 2


def test_filter_drops_one_off_environment_only_and_orphaned_links() -> None:
    lessons = {
        "a": _lesson("a", ["s1", "s2"]),
        "b": _lesson("b", ["s3"]),
        "env": _lesson("env", ["s1", "s2", "s3"], when='`Bash` returns an error like "bash: jq: command not found"'),
        "tagged": _lesson("tagged", ["s4", "s5"], tags=["environment"]),
        "ref": _lesson("ref", ["s6"]),
    }
    patch = Patch(
        edits=[
            Edit("SKILL.md", "append_to_section", ["a"], target_section="## Pitfalls", content="- kept"),
            Edit("SKILL.md", "append_to_section", ["b"], target_section="## Pitfalls", content="- one-off"),
            Edit(
                "SKILL.md", "append_to_section", ["env", "tagged"], target_section="## Pitfalls", content="- install jq"
            ),
            Edit(
                "SKILL.md",
                "append_to_section",
                ["b", "env"],
                target_section="## Pitfalls",
                content="- mixed: support 3",
            ),
            Edit("references/x.md", "create_file", ["ref"], content="# X\n\ntext"),
            Edit(
                "SKILL.md",
                "append_to_section",
                ["a"],
                target_section="## Pitfalls",
                content="- see [x](references/x.md)",
            ),
            Edit("SKILL.md", "append_to_section", [], target_section="## Pitfalls", content="- from a fix"),
        ]
    )
    kept, dropped = filter_edits(patch, lessons, 2)
    assert [e.content for e in kept.edits] == ["- kept", "- mixed: support 3", "- from a fix"]
    reasons = {tuple(d.lesson_ids): d.reason for d in dropped}
    assert reasons[("b",)] == "one-off: support 1 < 2"
    assert reasons[("env", "tagged")].startswith("environment-only")
    assert reasons[("ref",)] == "one-off: support 1 < 2"
    assert reasons[("a",)].startswith("links to references/x.md")


def test_contradictions_need_the_same_situation_opposite_action_and_support_on_both_sides() -> None:
    when = "The user asks to cancel a flown reservation"
    lessons = [
        _lesson("yes1", ["s1"], when=when, guidance="Always confirm with the user before cancelling."),
        _lesson("yes2", ["s2"], when=when + ".", guidance="Confirm with the user before cancelling; then cancel."),
        _lesson("no", ["s3", "s4"], when=when, guidance="Never confirm with the user before cancelling."),
        _lesson("other", ["s5", "s6"], when="A payment fails", guidance="Do not retry the same payment."),
        _lesson("lonely-pos", ["s7", "s8"], when="A flight is full", guidance="Offer another cabin."),
        _lesson("lonely-neg", ["s9"], when="A flight is full", guidance="Do not offer another cabin."),
    ]
    [found] = find_contradictions(lessons, 2)
    pos, neg = found.sides
    assert set(pos.lesson_ids) == {"yes1", "yes2"} and pos.support == 2  # an agreeing lesson adds support
    assert neg.lesson_ids == ["no"] and neg.support == 2
    assert "s3: 1" in neg.evidence
    assert len(find_contradictions(lessons, 1)) == 2  # the one-off side counts when support 1 is enough
    assert meeting_level(found, [[{"yes1"}, {"no"}], [{"yes1", "no", "x"}]]) == 1
    assert meeting_level(found, [[{"yes1"}, {"no"}]]) is None
