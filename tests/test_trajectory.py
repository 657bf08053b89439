"""The normalized model: serialization round trip and ATIF output."""

from __future__ import annotations

from pathlib import Path

from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.trajectory import Trajectory


def test_round_trip_and_atif(sample_traces: Path) -> None:
    trajectories = list(ingest([sample_traces], IngestReport()))
    assert {t.source.format for t in trajectories} == {"claude-code", "tau-bench"}
    for trajectory in trajectories:
        assert Trajectory.from_dict(trajectory.to_dict()) == trajectory
        atif = trajectory.to_atif()
        assert atif["schema_version"] == "ATIF-v1.4"
        assert atif["session_id"] == trajectory.session_id
        assert [s["step_id"] for s in atif["steps"]] == list(range(1, len(trajectory.steps) + 1))
        assert all(isinstance(s["message"], str) for s in atif["steps"])
        for step, original in zip(atif["steps"], trajectory.steps):
            assert set(step) <= {"step_id", "timestamp", "source", "message", "reasoning_content", "tool_calls", "observation", "metrics", "extra"}
            errors = {r.source_call_id for r in (original.observation.results if original.observation else []) if r.is_error}
            assert set(step.get("extra", {}).get("error_call_ids", [])) == errors
        assert atif["extra"]["skillforge"]["outcome"]["status"] == trajectory.outcome.status
