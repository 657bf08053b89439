"""Deepening never duplicates: re-distilling logs that overlap the stored version's merges equal items.

Version 1 is built from the first 12 tau-bench runs of ``sample_traces/``, version 2 deepens it with
all 16 (so the lessons of both overlap), once on the offline path and once on the LLM path (the
scripted model of ``tests/merge/skill_model.py`` proposes one item per lesson, the way a careful model
would). In version 2 no two items share a title (near-equal ones counted as one) and a merged item's
support mark is the number of distinct runs behind the lesson ids of its line: the support adds up.
"""

from __future__ import annotations

import asyncio
import json
import re
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from skillforge.analyze.subjects import subject_of
from skillforge.distill.build import BuildOptions, SkillBuild, build_skill
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.start import seed_start, store_start
from skillforge.llm.client import LLMClient, LLMSettings
from skillforge.merge.offline import SIMILARITY, normalize_title
from skillforge.store.git_store import SkillStore
from tests.conftest import SAMPLE_TRACES
from tests.merge.skill_model import heuristic_lessons, responder
from tests.scripted_llm import install

TAU = SAMPLE_TRACES / "tau-bench" / "gpt-4o-airline-sample.json"
TITLE = re.compile(r"^- \*\*(.+?)\*\*", re.MULTILINE)
SUPPORT = re.compile(r"_\(support: (\d+)\)_")


def _build(lessons, start, run_dir: Path, client, **options) -> SkillBuild:
    return asyncio.run(
        build_skill(lessons, start, client=client, options=BuildOptions(**options), run=RunFolder(run_dir))
    )


def _titles(text: str) -> list[str]:
    body = text.split("## Evidence", 1)[0]
    return [normalize_title(t.rstrip(".")) for t in TITLE.findall(body)]


@pytest.mark.parametrize("path", ["offline", "llm"])
def test_deepening_with_overlapping_logs_merges_equal_items(path: str, tmp_path: Path) -> None:
    runs = json.loads(TAU.read_text(encoding="utf-8"))
    first_logs = tmp_path / "first" / "tau-bench"
    first_logs.mkdir(parents=True)
    (first_logs / "part.json").write_text(json.dumps(runs[:12]), encoding="utf-8")
    first_lessons, _ = heuristic_lessons(first_logs)
    all_lessons, _ = heuristic_lessons(TAU)
    client = None
    if path == "llm":
        install(responder())
        client = LLMClient(LLMSettings(model="scripted/build", backoff_initial_s=0.01))
    first = _build(
        first_lessons, seed_start(RunFolder(tmp_path / "r1"), "airline"), tmp_path / "r1", client, min_support=1
    )
    assert first.ok
    store = SkillStore(tmp_path / "skills")
    store.commit_version("airline", 1, first.folder, {"run": "r1"}, provenance=first.provenance)
    first_titles = _titles((first.folder / "SKILL.md").read_text(encoding="utf-8"))
    # the overlap is real: some lessons of the deepening have the title of a version-1 item
    new_titles = {normalize_title(lesson.title.rstrip(".")) for lesson in all_lessons}
    overlapping = [t for t in first_titles if t in new_titles]
    assert overlapping

    start = store_start(RunFolder(tmp_path / "r2"), store, "airline")
    second = _build(all_lessons, start, tmp_path / "r2", client, min_support=1, version=2)
    assert second.ok, [str(v) for v in second.validation.violations]
    text = (second.folder / "SKILL.md").read_text(encoding="utf-8")
    titles = _titles(text)
    for index, title in enumerate(titles):
        for other in titles[index + 1 :]:
            assert SequenceMatcher(None, title, other, autojunk=False).ratio() < SIMILARITY, (title, other)
    for title in overlapping:
        assert titles.count(title) == 1, title
    # the merged item stands on the lessons of both versions (support added, nothing lost)
    lines = text.splitlines()
    for title in overlapping:
        [number] = [n for n, line in enumerate(lines, start=1) if _titles(line) == [title]]
        behind = {
            i
            for span in second.provenance.spans
            if span.file == "SKILL.md" and span.start <= number <= span.end
            for i in span.lesson_ids
        }
        before = {
            i
            for span in first.provenance.spans
            if span.file == "SKILL.md"
            for i in span.lesson_ids
            if _span_title(first, span) == title
        }
        now = {lesson.id for lesson in all_lessons if normalize_title(lesson.title.rstrip(".")) == title}
        assert before and before <= behind and now <= behind, title
    # every support mark is the number of distinct runs behind the lesson ids of its line
    lessons = second.provenance.lessons
    checked = 0
    for span in second.provenance.spans:
        if span.file != "SKILL.md":
            continue
        for line in lines[span.start - 1 : span.end]:
            mark = SUPPORT.search(line)
            if mark:
                runs_behind = {e["session_id"] for i in span.lesson_ids for e in lessons[i]["evidence"]}
                assert int(mark.group(1)) == len(runs_behind), line
                checked += 1
    assert checked or path == "llm"  # the scripted model writes no support marks


def _span_title(build: SkillBuild, span) -> str | None:
    lines = (build.folder / span.file).read_text(encoding="utf-8").splitlines()
    titles = _titles(lines[span.start - 1])
    return titles[0] if titles else None


def test_a_new_wording_of_an_offline_item_merges_by_its_subject(shared_traces: Path, tmp_path: Path) -> None:
    """More runs change an offline item's wording (the steps of a procedure, the situation of a
    comparison, the literals of an example error); the item is still the one about the same write, tool
    or error, so version 2 holds it once, standing on both versions' lessons."""
    runs = json.loads((shared_traces / "tau-bench" / "gpt-4o-airline.json").read_text(encoding="utf-8"))
    first_logs = tmp_path / "first"
    first_logs.mkdir()
    (first_logs / "gpt-4o-airline.json").write_text(json.dumps(runs[:100]), encoding="utf-8")  # same session ids
    first_lessons, _ = heuristic_lessons(first_logs)
    all_lessons, _ = heuristic_lessons(shared_traces / "tau-bench")
    first = _build(first_lessons, seed_start(RunFolder(tmp_path / "r1"), "airline"), tmp_path / "r1", None)
    store = SkillStore(tmp_path / "skills")
    store.commit_version("airline", 1, first.folder, {"run": "r1"}, provenance=first.provenance)
    second = _build(
        all_lessons, store_start(RunFolder(tmp_path / "r2"), store, "airline"), tmp_path / "r2", None, version=2
    )
    assert second.ok
    old = TITLE.findall((first.folder / "SKILL.md").read_text(encoding="utf-8").split("## Evidence", 1)[0])
    new_text = (second.folder / "SKILL.md").read_text(encoding="utf-8")
    new = TITLE.findall(new_text.split("## Evidence", 1)[0])
    subjects = [subject_of(title) for title in new]
    assert all(subjects) and len(set(subjects)) == len(subjects), new  # one item per subject
    # the drift is real: an item of version 1 is worded differently in version 2 and stands once
    reworded = [t for t in old if t not in new and subject_of(t) in subjects]
    assert reworded, (old, new)
    lines = new_text.splitlines()
    for title in reworded:
        [number] = [
            n
            for n, line in enumerate(lines, 1)
            if line.startswith("- **") and subject_of(TITLE.findall(line)[0]) == subject_of(title)
        ]
        behind = {
            i
            for s in second.provenance.spans
            if s.file == "SKILL.md" and s.start <= number <= s.end
            for i in s.lesson_ids
        }
        before = {
            i
            for s in first.provenance.spans
            if s.file == "SKILL.md" and TITLE.findall(_first_line(first, s)) == [title]
            for i in s.lesson_ids
        }
        assert before and before <= behind, title


def _first_line(build: SkillBuild, span) -> str:
    """The first line of a provenance span of ``build``."""
    return (build.folder / span.file).read_text(encoding="utf-8").splitlines()[span.start - 1]


def test_subjects_of_offline_titles() -> None:
    assert subject_of("Before `cancel_reservation` in tau-bench tasks, call `get_reservation_details`.") == (
        "procedure",
        "cancel_reservation",
        "tau-bench",
    )
    assert subject_of("Start by calling `get_reservation_details`") == subject_of(
        "After calling `get_user_details`, call `get_reservation_details`"
    )
    error = 'When `book_reservation` fails with "Error: payment amount does not add up, total price is {}, but paid {}"'
    assert subject_of(error.format(305, 255) + ", change it") == subject_of(error.format(91, 1))
    assert subject_of("Read the policy before you change a flight") is None
