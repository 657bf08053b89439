"""Claude Code transcripts: real files from ../shared/traces/claude-code and the bundled samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from skillforge.ingest import claude_code, detect, ingest
from skillforge.ingest.report import IngestReport
from skillforge.resources import schema_validator


def _read(path: Path) -> tuple[list, IngestReport]:
    report = IngestReport()
    return list(ingest([path], report)), report


def test_short_session_rejections_and_interrupt(sample_traces: Path) -> None:
    [trajectory], report = _read(sample_traces / "claude-code" / "short.jsonl")
    assert not report.errors
    assert trajectory.session_id == "55604662-cf2a-4331-851a-ec234028f8ca"
    assert [s.source for s in trajectory.steps] == ["user", "agent", "user"]
    agent = trajectory.steps[1]
    # five records share message.id msg_01MKH1cc…: one step, thinking separated, two tool calls
    assert [c.function_name for c in agent.tool_calls] == ["Bash", "Glob"]
    assert agent.reasoning_content and agent.reasoning_content.startswith("The user is having trouble")
    assert agent.message == "Let me check the project structure and try running the server to see the error."
    assert all(r.is_error for r in agent.observation.results)
    assert len(agent.extra["rejected_call_ids"]) == 2
    assert trajectory.steps[2].extra.get("interrupted") is True
    # usage (output_tokens 13) is repeated on all five records of the message: counted once
    assert agent.metrics.completion_tokens == 13
    assert trajectory.final_metrics["total_completion_tokens"] == 13
    assert trajectory.final_metrics["total_steps"] == 3


def test_every_tool_call_gets_its_result_on_real_sessions(shared_traces: Path) -> None:
    trajectories, report = _read(shared_traces / "claude-code")
    assert not report.errors
    by_id = {t.session_id: t for t in trajectories}
    assert len(trajectories) == 5  # 4 sessions + 1 subagent; the compaction helper is skipped
    big = by_id["258c7280-ae70-4798-800f-63464d01a85d"]
    errors = [r for s in big.steps if s.observation for r in s.observation.results if r.is_error]
    assert len(errors) == 7  # PROVENANCE.md: 7 is_error results
    for trajectory in trajectories:
        calls = {c.tool_call_id for s in trajectory.steps for c in s.tool_calls}
        results = {r.source_call_id for s in trajectory.steps if s.observation for r in s.observation.results}
        assert calls == results, trajectory.session_id
        assert [s.step_id for s in trajectory.steps] == list(range(1, len(trajectory.steps) + 1))
        schema_validator("trajectory").validate(orjson.loads(orjson.dumps(trajectory.to_dict())))


def test_agent_steps_are_one_per_api_response(shared_traces: Path) -> None:
    path = shared_traces / "claude-code" / "spotter" / "subagent.jsonl"
    message_ids = set()
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        if record.get("type") == "assistant":
            message_ids.add(record["message"]["id"])
    [trajectory], _ = _read(path)
    assert sum(1 for s in trajectory.steps if s.source == "agent") == len(message_ids)


def test_subagent_is_linked_and_compaction_helper_skipped(shared_traces: Path) -> None:
    trajectories, _ = _read(shared_traces / "claude-code" / "spotter" / "258c7280-ae70-4798-800f-63464d01a85d")
    [sub] = trajectories
    assert sub.extra["parent_session_id"] == "258c7280-ae70-4798-800f-63464d01a85d"
    assert sub.session_id == "258c7280-ae70-4798-800f-63464d01a85d/agent-a881341"
    assert [c.function_name for s in sub.steps for c in s.tool_calls] == ["WebFetch", "WebFetch"]


def test_compaction_summary_is_not_user_intent(shared_traces: Path) -> None:
    [trajectory], _ = _read(shared_traces / "claude-code" / "spotter" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl")
    summaries = [s for s in trajectory.steps if s.extra.get("compaction_summary")]
    assert summaries and all(s.source == "system" for s in summaries)
    assert summaries[0].message.startswith("This session is being continued")
    assert any(s.extra.get("compact_boundary") for s in trajectory.steps)
    assert not any(s.source == "user" and s.message.startswith("This session is being continued") for s in trajectory.steps)


def test_malformed_line_reported_with_line_number_and_skipped(sample_traces: Path, tmp_path: Path) -> None:
    lines = (sample_traces / "claude-code" / "short.jsonl").read_bytes().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"\n".join(lines[:3] + [b'{"type": "user", "message": {"con'] + lines[3:]) + b"\n")
    [trajectory], report = _read(broken)
    assert [str(p) for p in report.errors] == [f"{broken}:4: malformed JSON line skipped (unexpected end of data: line 1 column 34 (char 33))"]
    assert len(trajectory.steps) == 3  # nothing else lost


def test_abandoned_branch_is_kept_as_linked_trajectory(sample_traces: Path, tmp_path: Path) -> None:
    """A rewind: a second user prompt hangs off the first prompt's parent. The main line follows
    the rewind; the first continuation becomes its own trajectory, linked to the main one."""
    records = [orjson.loads(line) for line in (sample_traces / "claude-code" / "short.jsonl").read_bytes().splitlines()]
    first_prompt = next(r for r in records if r.get("type") == "user")
    rewind = {**first_prompt, "uuid": "rewind-0001", "message": {"role": "user", "content": "try again, but only read files"}}
    rewind["parentUuid"] = first_prompt["parentUuid"]
    path = tmp_path / "rewind.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in [*records, rewind]) + b"\n")
    [trajectory, branch], _ = _read(path)
    assert [s.message for s in trajectory.steps] == ["try again, but only read files"]
    assert branch.session_id == f"{trajectory.session_id}/branch-1"
    assert branch.extra["branch_of"] == trajectory.session_id and branch.extra["fork_step"] == 0
    assert [s.source for s in branch.steps] == ["user", "agent", "user"]  # the original, abandoned line
    assert branch.steps[1].extra["rejected_call_ids"]


def test_detect_uses_content_not_names(sample_traces: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "notes.txt"
    shutil.copy(sample_traces / "claude-code" / "short.jsonl", renamed)
    assert detect(renamed) is claude_code
    other = tmp_path / "session.jsonl"
    other.write_text('{"hello": "world"}\n')
    assert detect(other) is None


@pytest.mark.parametrize("payload", [b"", b"\x00\xff\xfe garbage", b"[1, 2, 3]", b'{"type": "user"'])
def test_bad_files_do_not_crash(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(payload)
    trajectories, report = _read(path)
    assert trajectories == []
    assert report.files[0].format in (None, "claude-code")
