"""build_skill end to end: the scripted model (LLM path) and the offline path, on real traces."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from skillforge.distill.build import BuildOptions, SkillBuild, build_skill
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.start import folder_start, seed_start, store_start
from skillforge.lesson import Evidence, Lesson
from skillforge.llm.client import LLMClient
from skillforge.llm.types import LLMSettings
from skillforge.merge.report import ConsolidationReport
from skillforge.skill.validate import validate_skill
from skillforge.store.git_store import SkillStore
from tests.cli_runner import run as run_cli
from tests.conftest import REPO, SAMPLE_TRACES, require_shared_traces
from tests.merge.skill_model import (
    block_after,
    heuristic_lessons,
    propose_reply,
    propose_with_broken_link,
    responder,
    useless_fix,
)
from tests.scripted_llm import install


@cache
def _lessons(path: Path):
    return heuristic_lessons(path)


def _client(**settings) -> LLMClient:
    return LLMClient(LLMSettings(model="scripted/build", backoff_initial_s=0.01, **settings))


def _build(lessons, start, run_dir: Path, client=None, **options) -> SkillBuild:
    return asyncio.run(
        build_skill(lessons, start, client=client, options=BuildOptions(**options), run=RunFolder(run_dir))
    )


def _assert_spans_point_at_items(build: SkillBuild, lessons: list[Lesson]) -> None:
    by_id = {lesson.id: lesson for lesson in lessons}
    assert build.provenance.spans
    for span in build.provenance.spans:
        lines = (build.folder / span.file).read_text(encoding="utf-8").splitlines()
        assert 1 <= span.start <= span.end <= len(lines)
        text = "\n".join(lines[span.start - 1 : span.end])
        assert text.strip() and set(span.lesson_ids) <= set(by_id)
        assert span.support == len({e.session_id for i in span.lesson_ids for e in by_id[i].evidence})
        # the lines hold the item the lessons stand behind (its title, possibly shortened in a table)
        assert any(by_id[i].title.rstrip(".")[:40] in text for i in span.lesson_ids), (span, text)
        assert set(build.provenance.lessons) >= set(span.lesson_ids)


# --- the LLM path with the scripted model -----------------------------------------------------------


def test_tau_bench_call_count_depth_and_valid_skill(shared_traces: Path, tmp_path: Path) -> None:
    lessons, trajectories = _lessons(shared_traces / "tau-bench")
    log: list[str] = []
    state = install(responder(log=log))
    start = seed_start(
        RunFolder(tmp_path), "airline-support", trajectory_count=len(trajectories), formats=["tau-bench"]
    )
    build = _build(lessons, start, tmp_path, _client(), trajectory_count=len(trajectories))
    batch, fan_in = 4, 5
    proposals = math.ceil(len(lessons) / batch)
    depth = math.ceil(math.log(proposals, fan_in))
    merges = sum(
        math.ceil(proposals / fan_in**level) for level in range(1, depth + 1)
    )  # no group of one arises for 16 and 5
    print(
        f"\ntau-bench: {len(lessons)} lessons, {proposals} proposals, {merges} merges, depth {depth}; scripted calls {len(state.calls)}"
    )
    assert len(state.calls) == proposals + merges == build.report.calls["total"]
    assert log.count("propose") == proposals and log.count("merge") == merges
    assert build.report.calls["merge_depth"] == depth == build.report.calls["expected_depth"]
    assert [level.stage for level in build.report.levels] == ["propose"] + ["merge"] * depth + ["filter"]
    assert build.report.levels[-2].outputs == 1
    assert all(level.prompt_tokens > 0 for level in build.report.levels[:-1])
    assert build.ok, [str(v) for v in build.validation.violations]
    assert validate_skill(build.folder).ok
    assert build.report.status == "ok"
    # every lesson is accounted for: in the skill, or dropped with a reason
    accounted = {i for span in build.provenance.spans for i in span.lesson_ids}
    accounted |= {i for level in build.report.levels for d in level.dropped for i in d["lesson_ids"]}
    assert accounted == {lesson.id for lesson in lessons}
    assert all(d["reason"].startswith("one-off") for d in build.report.levels[-1].dropped)
    _assert_spans_point_at_items(build, lessons)


def _planted(sessions: list[str]) -> list[Lesson]:
    when = "The user asks to cancel a reservation that has already been flown"
    return [
        Lesson(
            id="L-plant-confirm",
            kind="failure",
            title="Confirm before cancelling a flown reservation",
            when=when,
            guidance="Always confirm with the user before calling cancel_reservation on it.",
            evidence=[Evidence(s, [2], "cancel") for s in sessions[:2]],
        ),
        Lesson(
            id="L-plant-direct",
            kind="success",
            title="Cancel flown reservations directly",
            when=when,
            guidance="Do not confirm with the user before calling cancel_reservation on it; act directly.",
            evidence=[Evidence(s, [3], "cancel") for s in sessions[2:5]],
        ),
    ]


def test_planted_contradiction_is_reported_with_evidence(shared_traces: Path, tmp_path: Path) -> None:
    lessons, trajectories = _lessons(shared_traces / "tau-bench")
    planted = _planted([t.session_id for t in trajectories])
    install(responder())
    start = seed_start(RunFolder(tmp_path / "run"), "airline-support", trajectory_count=len(trajectories))
    build = _build([*lessons, *planted], start, tmp_path / "run", _client(), trajectory_count=len(trajectories))
    [found] = [
        c
        for c in build.report.contradictions
        if {"L-plant-confirm", "L-plant-direct"} <= {i for s in c["sides"] for i in s["lesson_ids"]}
    ]
    sides = {tuple(s["lesson_ids"]): s for s in found["sides"]}
    assert sides[("L-plant-confirm",)]["support"] == 2 and sides[("L-plant-direct",)]["support"] == 3
    assert len(sides[("L-plant-direct",)]["evidence"]) == 3
    assert found["level"] is not None
    level = next(level for level in build.report.levels if level.level == found["level"] and level.stage != "filter")
    assert found in level.contradictions
    # both sides stay in the skill: the conflict is reported, not settled silently
    skill = (build.folder / "SKILL.md").read_text()
    assert "Always confirm with the user" in skill and "Do not confirm with the user" in skill
    shown = run_cli("report", str(tmp_path / "run"), cwd=tmp_path, columns=250)
    assert shown.returncode == 0, shown.stderr
    assert "Contradictions" in shown.stdout and "L-plant" not in shown.stdout  # guidance and evidence shown, not ids
    assert "Always confirm with the user" in shown.stdout and trajectories[0].session_id in shown.stdout


def test_contradiction_reported_by_the_merge_model(tmp_path: Path) -> None:
    lessons, trajectories = _lessons(SAMPLE_TRACES)
    a, b = lessons[0], next(l for l in lessons if set(l.session_ids) != set(lessons[0].session_ids))

    def merge_with_conflict(prompt: str):
        from tests.merge.skill_model import merge_reply

        reply = merge_reply(prompt)
        ids = {i for e in reply["patch"]["edits"] for i in e["lesson_ids"]}
        if {a.id, b.id} <= ids:
            reply["contradictions"] = [
                {"situation": "both apply", "lesson_ids_a": [a.id], "lesson_ids_b": [b.id], "note": "cannot tell"}
            ]
        return reply

    install(responder({"merge": merge_with_conflict}))
    start = seed_start(RunFolder(tmp_path), "sample-traces")
    build = _build(lessons, start, tmp_path, _client(), propose_batch=1, min_support=1)
    [found] = [c for c in build.report.contradictions if c["source"] == "model"]
    assert found["note"] == "cannot tell" and found["sides"][0]["lesson_ids"] == [a.id]


def test_rerun_reuses_every_finished_call(tmp_path: Path) -> None:
    lessons, trajectories = _lessons(SAMPLE_TRACES)
    state = install(responder())
    start = seed_start(RunFolder(tmp_path), "sample-traces")
    first = _build(lessons, start, tmp_path, _client(), propose_batch=1)
    made = len(state.calls)
    assert made == first.report.calls["total"] > 0
    second = _build(lessons, seed_start(RunFolder(tmp_path), "sample-traces"), tmp_path, _client(), propose_batch=1)
    assert len(state.calls) == made  # no new call
    assert second.report.calls["reused"] == made and second.report.calls["total"] == 0
    assert (second.folder / "SKILL.md").read_bytes() == (first.folder / "SKILL.md").read_bytes()


def test_killed_during_consolidation_resumes_without_repeating_finished_calls(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, "-m", "tests.merge.killed_build", str(run_dir), "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr  # SIGKILL
    saved = [
        p
        for p in [*run_dir.glob("patches/*.json"), *run_dir.glob("merge_level_*/node_*.json")]
        if json.loads(p.read_text())["status"] == "done"
    ]
    saved_merges = [p for p in saved if "merge_level" in str(p)]
    assert saved_merges, "the kill came before any merge finished"
    assert not (run_dir / "final_patch.json").exists()
    lessons, trajectories = _lessons(SAMPLE_TRACES)
    log: list[str] = []
    state = install(responder(log=log))
    start = seed_start(RunFolder(run_dir), "sample-traces", trajectory_count=len(trajectories))
    build = _build(lessons, start, run_dir, _client(), propose_batch=1, fan_in=2, trajectory_count=len(trajectories))
    proposals = math.ceil(len(lessons) / 1)
    expected_total = proposals + build.report.calls["expected_merges"]
    print(
        f"\nkilled at merge 3: {len(saved)} steps saved ({len(saved_merges)} merges); resumed run made {len(state.calls)} of {expected_total} calls"
    )
    assert len(state.calls) == expected_total - len(saved)
    assert build.report.calls["reused"] == len(saved)
    assert log.count("propose") == 0  # every proposal had finished before the kill
    assert build.ok


def test_unmatched_target_is_translated_once_then_reported(tmp_path: Path) -> None:
    lessons, _ = _lessons(SAMPLE_TRACES)

    def inexact(prompt: str):
        reply = propose_reply(prompt)
        for number, edit in enumerate(reply["edits"]):
            edit["target_section"] = "## pitfalls" if number % 2 == 0 else "## Section That Does Not Exist"
        return reply

    def translate(prompt: str):
        edits = block_after(prompt, "## Edits that did not apply")
        return {
            "edits": [
                {
                    "index": e["index"],
                    "target_section": "## Pitfalls" if e["target_section"] == "## pitfalls" else e["target_section"],
                }
                for e in edits
            ]
        }

    log: list[str] = []
    install(responder({"propose": inexact, "translate": translate}, log=log))
    start = seed_start(RunFolder(tmp_path), "sample-traces")
    build = _build(lessons, start, tmp_path, _client(), propose_batch=2, min_support=1)
    assert log.count("translate") == 1
    applied = build.report.apply
    assert applied["translated"] > 0
    assert applied["unmatched"] and all("Section That Does Not Exist" in u["reason"] for u in applied["unmatched"])
    assert applied["applied"] == applied["translated"]
    reported = {i for u in applied["unmatched"] for i in u["edit"]["lesson_ids"]}
    in_skill = {i for s in build.provenance.spans for i in s.lesson_ids}
    assert reported and not reported & in_skill
    assert build.ok


def test_fix_loop_repairs_a_broken_link_and_reports_failure_when_it_cannot(tmp_path: Path) -> None:
    lessons, _ = _lessons(SAMPLE_TRACES)
    with_broken_link = propose_with_broken_link

    def fix(prompt: str):
        return {
            "reasoning": "drop the dead link",
            "edits": [
                {
                    "file": "SKILL.md",
                    "op": "replace_in_section",
                    "old_text": " See [details](references/missing.md).",
                    "content": "",
                    "lesson_ids": [],
                }
            ],
        }

    log: list[str] = []
    install(responder({"propose": with_broken_link, "fix": fix}, log=log))
    build = _build(
        lessons,
        seed_start(RunFolder(tmp_path / "a"), "sample-traces"),
        tmp_path / "a",
        _client(),
        propose_batch=20,
        min_support=1,
    )
    assert log.count("fix") == 1 and build.ok
    assert build.report.fix_rounds[0]["applied"] == 1
    assert "missing.md" not in (build.folder / "SKILL.md").read_text()
    # the fixed line keeps its lessons (provenance survives the fix)
    assert len({i for s in build.provenance.spans for i in s.lesson_ids}) == len(lessons)

    log.clear()
    install(responder({"propose": with_broken_link, "fix": useless_fix}, log=log))
    build = _build(
        lessons,
        seed_start(RunFolder(tmp_path / "b"), "sample-traces"),
        tmp_path / "b",
        _client(),
        propose_batch=20,
        min_support=1,
        max_fix_rounds=2,
    )
    assert log.count("fix") == 2 and not build.ok
    assert build.report.status == "failed" and ConsolidationReport.load(RunFolder(tmp_path / "b")).status == "failed"
    assert any(v["rule"] == "links.resolve" for v in build.report.validation["violations"])


def test_failed_merge_passes_its_inputs_up(tmp_path: Path) -> None:
    lessons, _ = _lessons(SAMPLE_TRACES)
    state = install(responder({"merge": lambda prompt: "I would rather not."}))
    build = _build(
        lessons, seed_start(RunFolder(tmp_path), "sample-traces"), tmp_path, _client(), propose_batch=1, min_support=1
    )
    merge_levels = [level for level in build.report.levels if level.stage == "merge"]
    assert merge_levels[0].failed == merge_levels[0].calls > 0
    assert merge_levels[0].passed_up == merge_levels[0].inputs
    assert any("concatenated in code" in note for note in merge_levels[-1].notes)
    assert len(state.calls) == len(lessons) + 2 * merge_levels[0].calls  # each merge: one call + one repair
    assert {i for s in build.provenance.spans for i in s.lesson_ids} == {lesson.id for lesson in lessons}
    assert build.ok


def test_propose_failure_falls_back_to_the_deterministic_patch(tmp_path: Path) -> None:
    lessons, _ = _lessons(SAMPLE_TRACES)
    from tests.scripted_llm import server_error

    install(responder({"propose": lambda prompt: server_error()}))
    build = _build(
        lessons,
        seed_start(RunFolder(tmp_path), "sample-traces"),
        tmp_path,
        _client(max_attempts=1),
        propose_batch=4,
        min_support=1,
    )
    level0 = build.report.levels[0]
    assert level0.failed == level0.outputs == math.ceil(len(lessons) / 4)
    assert {i for s in build.provenance.spans for i in s.lesson_ids} == {lesson.id for lesson in lessons}
    assert build.ok


# --- deepening ---------------------------------------------------------------------------------------

HUMAN_SKILL = """---
name: careful-agent
description: How to work carefully with the airline tools.   
license: Apache-2.0
---
# Careful agent

Written by a person, with trailing spaces   
and a tab\tinside, and ünïcödé.

## Procedure

Step one.
Step two.

## Gotchas

- Use the old API.
- Never guess a reservation id.

```text
## not a section
```

## Links

See [the guide](references/guide.md).
"""


HUMAN_GUIDE = b"# Guide\n\nA person's reference, kept as is.\r\nWith a CRLF line.\n"


def write_human_skill(source: Path) -> None:
    """Write :data:`HUMAN_SKILL` and its reference :data:`HUMAN_GUIDE` into the folder ``source``."""
    (source / "references").mkdir(parents=True)
    (source / "SKILL.md").write_bytes(HUMAN_SKILL.encode())
    (source / "references" / "guide.md").write_bytes(HUMAN_GUIDE)


def gotcha_edits(prompt: str) -> tuple[list[str], list[dict]]:
    """The lesson ids of a scripted proposal prompt, and one ``## Gotchas`` line per lesson."""
    ids = [lesson["id"] for lesson in block_after(prompt, "## Lessons (batch")]
    edits = [
        {
            "file": "SKILL.md",
            "op": "append_to_section",
            "target_section": "## Gotchas",
            "content": f"- lesson {i}",
            "lesson_ids": [i],
        }
        for i in ids
    ]
    return ids, edits


def new_api_edit(ids: list[str]) -> dict:
    """The one edit that targets a line of the human-written skill (``- Use the old API.``)."""
    return {
        "file": "SKILL.md",
        "op": "replace_in_section",
        "target_section": "## Gotchas",
        "old_text": "- Use the old API.",
        "content": "- Use the new API.",
        "lesson_ids": ids[:1],
    }


def test_deepening_keeps_every_untargeted_human_line_byte_for_byte(tmp_path: Path) -> None:
    source = tmp_path / "careful-agent"
    write_human_skill(source)
    guide = HUMAN_GUIDE
    lessons, trajectories = _lessons(SAMPLE_TRACES)

    def deepen(prompt: str):
        ids, edits = gotcha_edits(prompt)
        if "Step two." in prompt:
            edits.append(new_api_edit(ids))
            edits.append(
                {
                    "file": "SKILL.md",
                    "op": "insert_after",
                    "target_text": "Step two.",
                    "content": "Step three.",
                    "lesson_ids": ids[:1],
                }
            )
        return {"reasoning": "deepen", "edits": edits}

    install(responder({"propose": deepen}))
    run_dir = tmp_path / "run"
    start = folder_start(RunFolder(run_dir), source)
    assert start.name == "careful-agent" and start.mode == "folder"
    build = _build(lessons, start, run_dir, _client(), propose_batch=100, min_support=1, version=2)
    assert build.ok, [str(v) for v in build.validation.violations]
    out_lines = (build.folder / "SKILL.md").read_bytes().splitlines(keepends=True)
    targeted = {"- Use the old API.\n"}
    remaining = iter(out_lines)
    for line in HUMAN_SKILL.encode().splitlines(keepends=True):
        if line.decode() in targeted:
            continue
        assert any(candidate == line for candidate in remaining), f"human line lost or changed: {line!r}"
    text = b"".join(out_lines).decode()
    assert "- Use the new API." in text and "Step two.\n\nStep three.\n\n## Gotchas" in text
    assert "name: careful-agent\n" in text and "  version: '2'\n" in text
    assert (build.folder / "references" / "guide.md").read_bytes() == guide
    assert text.count("## Evidence") == 1
    # lines no edit wrote carry no provenance; lines edits wrote do
    human = set(HUMAN_SKILL.splitlines())
    for span in build.provenance.spans:
        for line in text.splitlines()[span.start - 1 : span.end]:
            assert line not in human or not line.strip()


def test_deepening_the_latest_store_version_keeps_its_provenance(tmp_path: Path) -> None:
    lessons, trajectories = _lessons(SAMPLE_TRACES)
    half = len(lessons) // 2
    first_start = seed_start(RunFolder(tmp_path / "r1"), "sample-traces")
    first = _build(lessons[:half], first_start, tmp_path / "r1", min_support=1)
    store = SkillStore(tmp_path / "skills")
    store.commit_version("sample-traces", 1, first.folder, {"run": "r1"}, provenance=first.provenance)
    start = store_start(RunFolder(tmp_path / "r2"), store, "sample-traces")
    assert start.mode == "store" and start.provenance is not None
    assert "## Evidence" not in (start.folder / "SKILL.md").read_text()  # regenerated, not edited
    second = _build(lessons[half:], start, tmp_path / "r2", min_support=1, version=2)
    assert second.ok
    old = {i for s in first.provenance.spans for i in s.lesson_ids}
    new = {i for s in second.provenance.spans for i in s.lesson_ids}
    assert old <= new and new - old  # the first version's lessons are still behind its lines
    store.commit_version("sample-traces", 2, second.folder, {"run": "r2"}, provenance=second.provenance)
    assert store.provenance("sample-traces", 2).lessons.keys() >= old


# --- the offline path ---------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus", ["sample_traces", "tau-bench", "claude-code"])
def test_offline_path_gives_a_valid_skill_with_real_provenance(corpus: str, tmp_path: Path) -> None:
    path = SAMPLE_TRACES if corpus == "sample_traces" else require_shared_traces(corpus)
    lessons, trajectories = _lessons(path)
    start = seed_start(RunFolder(tmp_path), "offline-skill", trajectory_count=len(trajectories))
    build = _build(lessons, start, tmp_path, None, trajectory_count=len(trajectories))
    assert build.ok, [str(v) for v in build.validation.violations]
    assert build.report.mode == "offline" and build.report.calls["total"] == 0
    _assert_spans_point_at_items(build, lessons)
    # the evidence table cites real steps of real trajectories
    steps = {(t.session_id, s.step_id) for t in trajectories for s in t.steps}
    table = (build.folder / "SKILL.md").read_text().split("## Evidence", 1)[1]
    import re

    cited = [
        (m.group(1), int(step)) for m in re.finditer(r"`([^`]+)`: ([\d, ]+)", table) for step in m.group(2).split(",")
    ]
    assert cited and all(item in steps for item in cited)
    # offline and LLM paths build the same kind of patch objects: the final patch validates
    from skillforge.patch import Patch

    saved = json.loads((tmp_path / "final_patch.json").read_text())
    assert Patch.from_dict(saved["patch"]).lesson_ids


def test_report_command_shows_levels(tmp_path: Path) -> None:
    lessons, trajectories = _lessons(SAMPLE_TRACES)
    # a one-off (one trajectory behind it), grounded in a real step, so the report shows the rule
    one_off = Lesson(
        "L-one0ff000000",
        "failure",
        "Start the server in the background",
        "Starting a dev server",
        "Run it with run_in_background",
        evidence=[Evidence("d6e0bada-1959-4eec-a9d2-0bfade768d8f", [2], "mix phx.server")],
        tags=["tool:Bash"],
    )
    lessons = [*lessons, one_off]
    runs = tmp_path / ".skillforge" / "runs"
    _build(
        lessons,
        seed_start(RunFolder(runs / "r1"), "sample-traces", trajectory_count=len(trajectories)),
        runs / "r1",
        trajectory_count=len(trajectories),
    )
    shown = run_cli("report", "r1", cwd=tmp_path, columns=200)
    assert shown.returncode == 0, shown.stderr
    assert "Consolidation, level by level" in shown.stdout and "offline" in shown.stdout and "filter" in shown.stdout
    assert "one-off: support 1 < 2" in shown.stdout and "the skill validates" in shown.stdout
    missing = run_cli("report", "nope", cwd=tmp_path)
    assert missing.returncode == 1 and "no run 'nope'" in missing.stderr and "Traceback" not in missing.stderr
