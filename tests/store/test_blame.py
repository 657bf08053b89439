"""Blame: every SKILL.md line → lessons → trajectories and steps, from the committed provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.provenance import Provenance, Span
from skillforge.store.blame import Citation, blame
from skillforge.store.git_store import SkillStore

TEXT = """---
name: demo
description: Demo. Use when testing blame.
metadata:
  version: '1'
---
# Demo

## Pitfalls

- Change payment_id before retrying update_reservation_flights.
- Ask before running mix phx.server.
  The user refused it once.
"""

LESSONS = {
    "L-pay": {
        "title": "Change payment_id before retrying",
        "kind": "failure",
        "evidence": [{"session_id": "tau:1", "step_ids": [8, 4], "quote": "payment method not found"}, {"session_id": "tau:2", "step_ids": [3]}],
    },
    "L-ask": {"title": "Ask before mix phx.server", "kind": "failure", "evidence": [{"session_id": "cc:9", "step_ids": [12]}]},
    "L-dup": {"title": "Same pitfall seen again", "kind": "failure", "evidence": [{"session_id": "tau:1", "step_ids": [4, 9]}]},
}


def _store(tmp_path: Path, provenance: Provenance | None) -> SkillStore:
    folder = tmp_path / "staged" / "demo"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(TEXT)
    (folder / "references").mkdir()
    (folder / "references" / "more.md").write_text("# More\n\nline two\n")
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, folder, {}, provenance)
    return store


def test_each_line_maps_to_its_lessons_and_steps(tmp_path: Path) -> None:
    spans = [
        Span("SKILL.md", 11, 11, ["L-pay", "L-dup"], 3, "## Pitfalls"),
        Span("SKILL.md", 12, 13, ["L-ask"], 1, "## Pitfalls"),
        Span("references/more.md", 3, 3, ["L-gone"], 1),
    ]
    store = _store(tmp_path, Provenance("demo", 1, spans, LESSONS))
    result = blame(store, "demo")
    assert result.version.version == 1 and len(result.lines) == len(TEXT.splitlines())
    by_number = {line.number: line for line in result.lines}
    assert by_number[11].text.startswith("- Change payment_id")
    assert by_number[11].lesson_ids == ["L-pay", "L-dup"] and by_number[11].support == 3
    # steps of one session are merged across lessons, without repeats
    assert by_number[11].citations == [Citation("tau:1", [4, 8, 9]), Citation("tau:2", [3])]
    assert by_number[12].lesson_ids == by_number[13].lesson_ids == ["L-ask"]
    assert by_number[13].citations == [Citation("cc:9", [12])]
    assert all(not by_number[n].lesson_ids for n in range(1, 11))  # frontmatter, headings: no lesson
    assert result.traced == 3 and result.titles["L-ask"] == "Ask before mix phx.server"
    other = blame(store, "demo", 1, "references/more.md")
    assert other.lines[2].lesson_ids == ["L-gone"] and other.lines[2].citations == []  # unknown lesson: no evidence


def test_a_version_without_provenance_says_so(tmp_path: Path) -> None:
    store = _store(tmp_path, None)
    with pytest.raises(SkillforgeError, match="demo v1 has no provenance recorded"):
        blame(store, "demo")
    with pytest.raises(SkillforgeError, match="has no file"):
        blame(store, "demo", 1, "references/none.md")


def test_blame_on_a_version_built_from_real_logs(sample_traces: Path, tmp_path: Path) -> None:
    """Provenance from the offline build stage, stored, then blamed: each traced line cites the
    real sessions and steps of its lessons."""
    import asyncio

    from skillforge.distill.build import BuildOptions, build_skill
    from skillforge.distill.runfolder import RunFolder
    from skillforge.distill.start import seed_start
    from tests.merge.skill_model import heuristic_lessons

    lessons, trajectories = heuristic_lessons(sample_traces)
    run = RunFolder(tmp_path / "run")
    start = seed_start(run, "airline", description="Airline pitfalls. Use when a booking change fails.", trajectory_count=len(trajectories))
    build = asyncio.run(build_skill(lessons, start, client=None, options=BuildOptions(trajectory_count=len(trajectories)), run=run))
    assert build.ok
    store = SkillStore(tmp_path / "skills")
    store.commit_version("airline", 1, build.folder, {}, build.provenance)
    result = blame(store, "airline")
    by_id = {lesson.id: lesson for lesson in lessons}
    steps = {t.session_id: {s.step_id for s in t.steps} for t in trajectories}
    traced = [line for line in result.lines if line.lesson_ids]
    assert traced and result.traced == len(traced)
    for line in traced:
        assert set(line.lesson_ids) <= set(by_id)
        assert any(by_id[i].title.rstrip(".")[:30] in line.text for i in line.lesson_ids) or not line.text.startswith("- ")
        for citation in line.citations:
            assert set(citation.step_ids) <= steps[citation.session_id]  # real steps of real trajectories
