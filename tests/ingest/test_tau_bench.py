"""tau-bench results arrays: the real 200-run file and the bundled sample."""

from __future__ import annotations

from pathlib import Path

import orjson

from skillforge.ingest import detect, ingest, tau_bench
from skillforge.ingest.report import IngestReport
from skillforge.resources import schema_validator


def test_real_file_outcomes_and_errors(shared_traces: Path) -> None:
    report = IngestReport()
    trajectories = list(ingest([shared_traces / "tau-bench"], report))
    assert not report.errors
    assert len(trajectories) == 200
    statuses = [t.outcome.status for t in trajectories]
    assert statuses.count("success") == 84 and statuses.count("failure") == 116  # PROVENANCE.md
    assert {t.outcome.origin for t in trajectories} == {"log"}
    errors = sum(1 for t in trajectories for s in t.steps if s.observation for r in s.observation.results if r.is_error)
    assert errors == 73  # docs/trace-formats.md §4: 73 "Error: " results
    assert len({t.session_id for t in trajectories}) == 200
    assert len({t.task_id for t in trajectories}) == 50


def test_sample_structure(sample_traces: Path) -> None:
    report = IngestReport()
    trajectories = list(ingest([sample_traces / "tau-bench"], report))
    first = next(t for t in trajectories if any(s.tool_calls for s in t.steps))
    assert first.steps[0].source == "system" and first.steps[0].message.startswith("# Airline Agent Policy")
    call_step = next(s for s in first.steps if s.tool_calls)
    call = call_step.tool_calls[0]
    assert isinstance(call.arguments, dict) and call.arguments  # JSON string parsed
    assert call_step.result_for(call.tool_call_id) is not None
    for trajectory in trajectories:
        schema_validator("trajectory").validate(orjson.loads(orjson.dumps(trajectory.to_dict())))


def test_bad_run_reported_by_index_others_kept(sample_traces: Path, tmp_path: Path) -> None:
    runs = orjson.loads((sample_traces / "tau-bench" / "gpt-4o-airline-sample.json").read_bytes())
    runs[2]["traj"] = "not a list"
    runs[5]["traj"][3] = 42
    path = tmp_path / "results.json"
    path.write_bytes(orjson.dumps(runs))
    report = IngestReport()
    trajectories = list(ingest([path], report))
    assert len(trajectories) == len(runs) - 2
    assert sorted(p.line for p in report.errors) == [2, 5]


def test_detect(sample_traces: Path, tmp_path: Path) -> None:
    assert detect(sample_traces / "tau-bench" / "gpt-4o-airline-sample.json") is tau_bench
    truncated = tmp_path / "t.json"
    truncated.write_bytes((sample_traces / "tau-bench" / "gpt-4o-airline-sample.json").read_bytes()[:5000])
    report = IngestReport()
    assert list(ingest([truncated], report)) == []
    assert "not valid JSON" in report.errors[0].message
