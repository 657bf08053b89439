"""LLM analyst passes through litellm with the scripted model: each trajectory once, faults retried,
repaired or reported, lessons grounded, cache hits, every ingest format."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.pass_plan import plan_comparative_passes, plan_trajectory_passes
from skillforge.analyze.pass_runner import PassRunner
from skillforge.analyze.passes import analyze_with_llm
from skillforge.distill.count_prompts import AnalysisEstimate
from skillforge.distill.runfolder import RunFolder
from skillforge.ingest import detect, discover, ingest
from skillforge.ingest.command import run_ingest
from skillforge.ingest.formats import FORMATS
from skillforge.ingest.report import IngestReport
from skillforge.llm.cache import ResponseCache
from skillforge.llm.client import LLMClient
from skillforge.llm.tokens import count_tokens, messages_size_bound
from skillforge.llm.types import LLMSettings
from skillforge.resources import schema_validator
from skillforge.trajectory import Trajectory
from tests.conftest import SHARED_TRACES
from tests.scripted_llm import analyst_reply, install, lesson_responder, rate_limited, read_prompt, timed_out


def _client(tmp_path: Path, concurrency: int = 4, **settings) -> LLMClient:
    settings.setdefault("max_attempts", 3)
    return LLMClient(
        LLMSettings(model="scripted/test", backoff_initial_s=0.01, **settings),
        concurrency,
        cache=ResponseCache(tmp_path / "cache"),
    )


def _analyze(trajectories: list[Trajectory], tmp_path: Path, client: LLMClient, run: RunFolder | None = None):
    run = run or RunFolder.create(tmp_path / "ws")
    return analyze_with_llm(trajectories, PassRunner(client, 8192), run), run


def _first_calls(state) -> list:
    """Prompts of first calls (not repairs), as PromptViews."""
    views = [read_prompt(call.messages) for call in state.calls]
    return [v for v in views if v.repair is None]


def _sample(sample_traces: Path) -> list[Trajectory]:
    return list(ingest([sample_traces], IngestReport()))


def test_each_trajectory_analysed_exactly_once_by_the_right_analyst(sample_traces: Path, tmp_path: Path) -> None:
    trajectories = _sample(sample_traces)
    outcomes = {t.session_id: t.outcome.status for t in trajectories}
    state = install(lesson_responder(), latency_s=0.01)
    report, run = _analyze(trajectories, tmp_path, _client(tmp_path))
    single = [v for v in _first_calls(state) if v.analyst != "comparative"]
    assert Counter(next(iter(v.sessions)) for v in single) == Counter({t.session_id: 1 for t in trajectories})
    expected_analyst = {"failure": "failure", "success": "success", "unknown": "judge"}
    for view in single:
        assert len(view.sessions) == 1
        assert view.analyst == expected_analyst[outcomes[next(iter(view.sessions))]]
    compared = [v for v in _first_calls(state) if v.analyst == "comparative"]
    tasks = {t.task_id for t in trajectories if t.task_id}
    assert (
        len(compared) == len(plan_comparative_passes(trajectories)) == 4 == len(tasks)
    )  # every sample task has both outcomes
    for view in compared:
        shown = [s for s in trajectories if s.session_id in view.sessions]
        assert len({t.task_id for t in shown}) == 1 and {t.outcome.status for t in shown} == {"success", "failure"}
    assert state.max_in_flight > 1  # passes ran in parallel
    # journal: one done record per pass; every kept lesson valid and grounded
    journal = run.read_passes()
    assert len(journal) == len(trajectories) + 4 and all(r["status"] == "done" for r in journal.values())
    by_id = {t.session_id: t for t in trajectories}
    assert report.lessons
    for lesson in report.lessons:
        schema_validator("lesson").validate(lesson.to_dict())
        assert grounding_problems(lesson, by_id) == []
    # outcomes the judge decided are recorded as judged
    judged = [t for t in trajectories if outcomes[t.session_id] == "unknown"]
    assert judged and all(t.outcome.origin == "judge" and t.outcome.status in ("success", "failure") for t in judged)
    summary = report.summary()
    assert summary["lessons"] == {
        "unique": len(report.lessons),
        "kept": len(trajectories) + 4,
        "repaired": 0,
        "quotes_snapped": 0,
        "dropped": 0,
    }
    assert 0 < summary["trajectory_tokens"]["sent"] <= summary["trajectory_tokens"]["raw"]


def test_faults_are_retried_repaired_or_reported_and_nothing_is_lost(sample_traces: Path, tmp_path: Path) -> None:
    trajectories = [t for t in _sample(sample_traces) if t.outcome.status != "unknown"]
    ids = [t.session_id for t in trajectories]
    plan = {
        ids[0]: "429",
        ids[1]: "429",
        ids[2]: "timeout",
        ids[3]: "invalid-json",
        ids[4]: "schema-invalid",
        ids[5]: "missing-step",  # repaired in the grounding round
        ids[6]: "missing-step-twice",  # still wrong after the repair round: dropped
        ids[7]: "down",  # every attempt times out: the pass fails and is reported
    }
    seen: Counter = Counter()

    def fault(view, index):
        if view.analyst == "comparative":
            return None
        session = next(iter(view.sessions))
        seen[session, view.repair] += 1
        first = seen[session, view.repair] == 1
        kind = plan.get(session)
        if kind == "429" and first:
            return rate_limited(0.05)
        if kind == "timeout" and first:
            return timed_out()
        if kind == "down":
            return timed_out()
        if kind == "invalid-json" and first and view.repair is None:
            return "Here are my lessons: {lessons: [oops"
        if kind == "schema-invalid" and first and view.repair is None:
            return json.dumps({"lessons": [{"title": "x"}]})
        if kind == "missing-step" and view.repair is None:
            return json.dumps(analyst_reply(view, step_id=9999))
        if kind == "missing-step-twice":
            reply = analyst_reply(view, quote="words that never occur in this trajectory")
            return json.dumps({"lessons": reply["lessons"]} if view.repair == "grounding" else reply)
        return None

    state = install(lesson_responder(fault))
    client = _client(tmp_path)
    report, run = _analyze(trajectories, tmp_path, client)
    records = {r["pass_id"]: r for r in report.records}
    single = {r["sessions"][0]: r for r in records.values() if r["analyst"] != "comparative"}
    assert set(single) == set(ids)  # every trajectory has a record: nothing lost
    assert single[ids[7]]["status"] == "failed" and "retries exhausted after 3 attempt" in single[ids[7]]["error"]
    assert [f["pass_id"] for f in report.summary()["failed_passes"]] == [single[ids[7]]["pass_id"]]
    for session in ids[:7]:
        assert single[session]["status"] == "done", single[session]
    assert client.totals.retries == 2 + 1 + 2  # two 429s, one timeout, two more attempts of the pass that is down
    assert sum(1 for c in state.calls if read_prompt(c.messages).repair == "json") == 2  # invalid + schema-invalid
    assert single[ids[3]]["kept"] == 1 and single[ids[4]]["kept"] == 1
    assert single[ids[5]]["repaired"] == 1 and single[ids[5]]["kept"] == 1 and not single[ids[5]]["dropped"]
    dropped = single[ids[6]]["dropped"]
    assert single[ids[6]]["kept"] == 0 and len(dropped) == 1 and "quote not found" in dropped[0]["problems"][0]
    summary = report.summary()
    assert summary["lessons"]["repaired"] == 1 and summary["lessons"]["dropped"] == 1
    # the failed pass is tried again on the next attempt; finished passes are not repeated
    state = install(lesson_responder())
    again, _ = _analyze(trajectories, tmp_path, _client(tmp_path), run)
    calls = _first_calls(state)
    assert [next(iter(v.sessions)) for v in calls] == [ids[7]]
    assert again.resumed == len(report.records) - 1
    assert all(r["status"] == "done" for r in again.records)


def estimate_llm_analysis(trajectories: list[Trajectory], runner: PassRunner, processes: bool):
    """The dry run's estimate of the analysis of ``trajectories``, added one by one."""
    with AnalysisEstimate(runner, processes=processes) as estimate:
        for trajectory in trajectories:
            estimate.add(trajectory)
        return estimate.finish(trajectories)


@pytest.mark.parametrize("context", [1_000_000, 8192, 3000])
def test_dry_run_prompts_are_the_real_prompts_counted_in_parts_only_when_cut(
    sample_traces: Path, tmp_path: Path, context: int
) -> None:
    trajectories = _sample(sample_traces)
    runner = PassRunner(_client(tmp_path), context)
    passes = [*plan_trajectory_passes(trajectories), *plan_comparative_passes(trajectories)]
    cut = 0
    for analysis in passes:
        real, dry = runner.prompt(analysis), runner.prompt(analysis, exact=False)
        whole = count_tokens("scripted/test", messages=dry.messages)
        assert real.exact and real.tokens == count_tokens(
            "scripted/test", messages=real.messages
        ) <= messages_size_bound(real.messages)
        if dry.exact:  # nothing cut: counted whole, the very prompt a real run sends
            assert not any(r.in_parts for r in dry.rendered) and dry.tokens == whole and dry.messages == real.messages
        else:
            cut += 1
            assert any(r.in_parts for r in dry.rendered) and abs(dry.tokens - whole) <= max(16, 0.01 * whole)
            if whole <= context - runner.client.expected_completion_tokens:
                assert dry.messages == real.messages  # the real run's first render fitted: the same prompt
    assert (cut == 0) == (context == 1_000_000)
    stages = estimate_llm_analysis(trajectories, runner, True)
    assert [s.calls for s in stages] == [len(trajectories), len(plan_comparative_passes(trajectories))]
    assert sum(s.prompt_tokens for s in stages) == sum(runner.prompt(a, exact=False).tokens for a in passes)
    assert multiprocessing.active_children() == []  # the workers are gone
    assert estimate_llm_analysis(trajectories, runner, False) == stages  # threads count the same


def test_rerun_is_answered_from_the_cache(sample_traces: Path, tmp_path: Path) -> None:
    trajectories = _sample(sample_traces)
    state = install(lesson_responder())
    first, _ = _analyze(trajectories, tmp_path, _client(tmp_path))
    made = len(state.calls)
    assert made == len(trajectories) + 4
    state = install(lesson_responder())
    client = _client(tmp_path)
    second, _ = _analyze(_sample(sample_traces), tmp_path, client)  # a new run folder, same cache
    assert state.calls == [] and client.totals.calls == 0 and client.totals.cached == made
    assert [lesson.to_dict() for lesson in second.lessons] == [lesson.to_dict() for lesson in first.lessons]
    assert all(r["cached"] == 1 and r["calls"] == 0 for r in second.records)


WILD = Path(__file__).resolve().parents[1] / "data" / "wild"
"""Real logs from other sources and agent versions (tests/data/wild/PROVENANCE.md)."""


@cache
def _file_per_format(root: Path) -> dict[str, Path]:
    """The first file under ``root`` that detect() assigns to each format."""
    found: dict[str, Path] = {}
    for path in discover([root]):
        try:
            module = detect(path)
        except OSError:
            continue
        if module is not None:
            found.setdefault(module.NAME, path)
    return found


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_analysts_on_every_format(shared_traces: Path, tmp_path: Path, format_name: str) -> None:
    path = _file_per_format(shared_traces).get(format_name) or _file_per_format(WILD).get(format_name)
    if path is None and format_name == "atif":  # ATIF as skillforge writes it, from a real tau-bench file
        tau_bench = _file_per_format(shared_traces)["tau-bench"]
        path = run_ingest([tau_bench], convert=("atif", tmp_path / "atif"), jobs=1).written[0]
    if path is None:
        pytest.skip(f"no real {format_name} file in {SHARED_TRACES} or {WILD}")
    trajectories = list(ingest([path], IngestReport()))[:12]
    assert trajectories
    state = install(lesson_responder())
    client = _client(tmp_path, concurrency=8)
    report, _ = _analyze(trajectories, tmp_path, client)
    for call in state.calls:  # every prompt leaves room for the completion in the 8192-token context
        assert count_tokens("scripted/test", messages=call.messages) + client.expected_completion_tokens <= 8192
    single = [v for v in _first_calls(state) if v.analyst != "comparative"]
    assert sorted(next(iter(v.sessions)) for v in single) == sorted(t.session_id for t in trajectories)
    by_id = {t.session_id: t for t in trajectories}
    assert all(r["status"] == "done" for r in report.records)
    assert report.summary()["lessons"]["dropped"] == 0
    assert {e.session_id for lesson in report.lessons for e in lesson.evidence} == set(by_id)
    for lesson in report.lessons:
        assert grounding_problems(lesson, by_id) == []
    per_session = defaultdict(int)
    for record in report.records:
        if record["analyst"] != "comparative":
            per_session[record["sessions"][0]] += 1
            assert record["trajectory_tokens"] <= 8192
    assert set(per_session.values()) == {1}
