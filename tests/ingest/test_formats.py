"""Every format on its real files (../shared/traces), and on files built from the documented schema
where no real file exists (tau2-bench, OTel GenAI, OpenAI chat, legacy Codex); the registry's shape."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import orjson
import pytest

from skillforge.ingest import detect, formats, ingest
from skillforge.ingest.report import IngestReport
from skillforge.resources import schema_validator


def _read(*paths: Path) -> tuple[list, IngestReport]:
    report = IngestReport()
    return list(ingest(list(paths), report)), report


def _results(trajectory):
    return [r for s in trajectory.steps if s.observation for r in s.observation.results]


def _valid(trajectory) -> None:
    schema_validator("trajectory").validate(orjson.loads(orjson.dumps(trajectory.to_dict())))
    assert [s.step_id for s in trajectory.steps] == list(range(1, len(trajectory.steps) + 1))


# ----------------------------------------------------------------------------------- real files


def test_codex_rollouts(shared_traces: Path) -> None:
    trajectories, report = _read(shared_traces / "codex")
    assert not report.errors
    by_id = {t.session_id: t for t in trajectories}
    live = by_id["019e1625-789d-76c0-80ab-3724b5ddb799"]
    assert live.agent.model_name == "gpt-5.5" and live.agent.version == "0.125.0"
    # injected context is not the user's request; the first real request is "show tools"
    first_user = next(s for s in live.steps if s.source == "user" and not s.extra.get("injected"))
    assert first_user.message == "show tools"
    assert all(s.extra.get("injected") for s in live.steps[: first_user.step_id - 1])
    # one stream only: the event_msg copy of the answer does not add a second agent step
    answers = [s for s in live.steps if s.message.startswith("Available tool groups in this session")]
    assert len(answers) == 1
    # 99 function_call + 3 custom_tool_call + 3 web_search_call items (counted in the file)
    assert sum(len(s.tool_calls) for s in live.steps) == 105
    # every function/custom call has its output (web searches have none)
    calls = {c.tool_call_id for s in live.steps for c in s.tool_calls if c.function_name != "web_search"}
    assert calls == {r.source_call_id for r in _results(live)}
    # exit codes from exec_command_end / "Process exited with code N" / JSON metadata
    codes = {call: code for s in live.steps for call, code in s.extra.get("exit_codes", {}).items()}
    assert codes and any(code != 0 for code in codes.values())
    failed = {r.source_call_id for r in _results(live) if r.is_error}
    assert {call for call, code in codes.items() if code != 0} <= failed
    apply_patch = [c for s in live.steps for c in s.tool_calls if c.function_name == "apply_patch"]
    assert apply_patch and apply_patch[0].arguments["input"].startswith("*** Begin Patch")
    redacted = by_id["019c8a59-e9dd-71f0-9ae3-4079fe9726a9"]  # a file whose text was replaced by its publisher
    assert any(s.extra.get("compaction_summary") for s in redacted.steps)
    for trajectory in trajectories:
        _valid(trajectory)


def test_swe_agent_both_shapes_and_no_demonstrations(shared_traces: Path) -> None:
    trajectories, report = _read(shared_traces / "swe-agent")
    assert not report.errors
    by_id = {t.session_id: t for t in trajectories}
    classic = by_id["swe-agent:pydicom__pydicom-1458"]
    text = "\n".join(s.message for s in classic.steps)
    assert "Here is a demonstration" not in text  # is_demo messages left out
    assert classic.steps[1].source == "user" and "Pixel Representation" in classic.steps[1].message
    assert [c.function_name for c in classic.steps[2].tool_calls] == ["create"]
    assert classic.final_metrics["total_cost_usd"] == pytest.approx(1.26719)
    fc = by_id["swe-agent:marshmallow-code__marshmallow-1867.function_calling"]
    call = fc.steps[2].tool_calls[0]  # tool_calls stored as repr() of a list, ids linked by tool_call_ids
    assert (call.function_name, call.arguments) == ("create", {"filename": "reproduce.py"})
    assert fc.steps[2].result_for(call.tool_call_id).content.startswith("[File: reproduce.py")
    for trajectory in trajectories:
        assert trajectory.outcome.status == "unknown"  # "submitted" says nothing about correctness
        assert trajectory.extra["exit_status"] == "submitted"
        _valid(trajectory)


def test_mini_swe_agent_with_report_json_outcomes(shared_traces: Path) -> None:
    trajectories, report = _read(shared_traces / "mini-swe-agent")
    assert not report.errors
    verdicts = {t.task_id: (t.outcome.status, t.outcome.origin) for t in trajectories}
    # PROVENANCE.md: resolved 3 true, 3 false; every exit_status is Submitted
    assert verdicts == {
        "django__django-10097": ("success", "labels"),
        "django__django-10999": ("failure", "labels"),
        "pallets__flask-5014": ("success", "labels"),
        "psf__requests-2317": ("failure", "labels"),
        "scikit-learn__scikit-learn-10844": ("success", "labels"),
        "scikit-learn__scikit-learn-26194": ("failure", "labels"),
    }
    django = next(t for t in trajectories if t.task_id == "django__django-10097")
    assert "report.json" in django.outcome.detail
    first_call = next(s for s in django.steps if s.tool_calls)
    assert first_call.tool_calls[0].function_name == "bash"
    assert first_call.tool_calls[0].arguments["command"] == "ls -R django/core | grep validators.py"
    assert first_call.observation.results[0].content.startswith("<returncode>0</returncode>")
    assert first_call.reasoning_content and "URL" in first_call.reasoning_content
    errors = [r for t in trajectories for r in _results(t) if r.is_error]
    assert errors and all("<returncode>0</returncode>" not in r.content[:40] for r in errors)
    for trajectory in trajectories:
        _valid(trajectory)


def test_mini_swe_agent_exit_status_failure(shared_traces: Path, tmp_path: Path) -> None:
    data = orjson.loads((shared_traces / "mini-swe-agent/django__django-10999/django__django-10999.traj.json").read_bytes())
    data["info"]["exit_status"] = "LimitsExceeded"
    path = tmp_path / "x.traj.json"
    path.write_bytes(orjson.dumps(data))
    [trajectory], _ = _read(path)
    assert (trajectory.outcome.status, trajectory.outcome.origin, trajectory.outcome.detail) == ("failure", "log", "exit_status LimitsExceeded")


def test_openhands_events_and_eval_rows(shared_traces: Path) -> None:
    trajectories, report = _read(shared_traces / "openhands")
    assert not report.errors
    by_id = {t.session_id: t for t in trajectories}
    failed = by_id["openhands:ponylang__ponyc-4588"]
    assert failed.outcome.status == "failure" and "maximum iteration" in failed.outcome.detail
    assert {by_id[f"openhands:ponylang__ponyc-{n}"].outcome.status for n in (4593, 4595)} == {"unknown"}
    row = by_id["openhands:ponylang__ponyc-4593"]
    assert row.agent.model_name == "openai/openrouter-llama-4-maverick"
    assert row.steps[0].source == "system" and row.steps[1].source == "user"
    # the controller's "error" observation (no cause) is a failed result
    assert any(r.is_error and "expected to be one of" in r.content for r in _results(row))
    gui = by_id["openhands:basic_gui_mode"]
    run = next(c for s in gui.steps for c in s.tool_calls if c.function_name == "execute_bash")
    assert run.arguments["command"] == "mkdir -p /workspace/todo-app"
    for trajectory in trajectories:
        calls = {c.tool_call_id for s in trajectory.steps for c in s.tool_calls}
        answered = {r.source_call_id for r in _results(trajectory)}
        assert answered - {None} <= calls  # None: an error raised before any action existed (orphan step)
        _valid(trajectory)


def test_inspect_json_and_eval(shared_traces: Path) -> None:
    trajectories, report = _read(shared_traces / "inspect-ai")
    assert not report.errors
    browser = next(t for t in trajectories if t.session_id.startswith("inspect:browser"))
    assert (browser.outcome.status, browser.outcome.origin) == ("success", "log")  # score "C"
    # attachment:// references resolved
    assert browser.steps[0].message.startswith("Use the web browser tool to navigate to https://www.aisi.gov.uk/")
    assert not any("attachment://" in s.text() for t in trajectories for s in t.steps)
    calls = [c for s in browser.steps for c in s.tool_calls]
    assert calls[0].function_name == "web_browser_go" and calls[0].arguments == {"url": "https://www.aisi.gov.uk/"}
    zipped = [t for t in trajectories if t.session_id.startswith("inspect:popularity")]
    assert len(zipped) == 10 and all(t.outcome.status == "unknown" for t in zipped)  # no scores in that log
    assert sorted(int(t.task_id.split(":")[1]) for t in zipped) == list(range(1, 11))
    for trajectory in trajectories:
        _valid(trajectory)


def test_gemini_cli_session(shared_traces: Path) -> None:
    [trajectory], report = _read(shared_traces / "gemini-cli")
    assert not report.errors
    assert trajectory.session_id and trajectory.agent.model_name == "gemini-3-pro"
    assert trajectory.steps[0].message == "show tools"
    write = next(c for s in trajectory.steps for c in s.tool_calls if c.function_name == "write_file")
    step = next(s for s in trajectory.steps if write in s.tool_calls)
    assert step.result_for(write.tool_call_id).content.startswith("Successfully created and wrote to new file")
    _valid(trajectory)


def test_detection_picks_the_right_format_for_every_real_file(shared_traces: Path) -> None:
    expected = {
        "claude-code": "claude-code",
        "codex": "codex",
        "tau-bench": "tau-bench",
        "swe-agent": "swe-agent",
        "mini-swe-agent": "mini-swe-agent",
        "openhands": "openhands",
        "inspect-ai": "inspect-ai",
        "gemini-cli": "gemini-cli",
    }
    for folder, name in expected.items():
        for path in (shared_traces / folder).rglob("*"):
            if path.is_file() and path.suffix in (".jsonl", ".json", ".traj", ".eval") and path.name != "report.json":
                module = detect(path)
                assert module is not None and module.NAME == name, path


# ----------------------------------------------------------------- formats without a real file


def _write(path: Path, data) -> Path:
    path.write_bytes(orjson.dumps(data))
    return path


def _tau_messages(shared_traces: Path) -> list[dict]:
    """The messages of one real tau-bench run (real content for the chat-shaped formats)."""
    runs = orjson.loads((shared_traces / "tau-bench" / "gpt-4o-airline.json").read_bytes())
    return next(run for run in runs if any(m.get("role") == "tool" for m in run["traj"]))["traj"]


def test_tau2_simulations(shared_traces: Path, tmp_path: Path) -> None:
    """A tau2 results object built from the documented schema around real tau-bench messages."""
    messages = []
    for m in _tau_messages(shared_traces)[1:]:
        if m.get("tool_calls"):
            calls = [{"id": c["id"], "name": c["function"]["name"], "arguments": orjson.loads(c["function"]["arguments"]), "requestor": "assistant"} for c in m["tool_calls"]]
            messages.append({"role": "assistant", "content": m.get("content"), "tool_calls": calls, "usage": {"prompt_tokens": 10, "completion_tokens": 3}, "cost": 0.001})
        elif m["role"] == "tool":
            messages.append({"role": "tool", "id": m["tool_call_id"], "content": m["content"], "requestor": "assistant", "error": m["content"].startswith("Error")})
        else:
            messages.append({"role": m["role"], "content": m["content"]})
    # the telecom domain's user simulator calls tools on "their phone"
    messages.append({"role": "user", "content": "let me toggle it", "tool_calls": [{"id": "u1", "name": "toggle_roaming", "arguments": {}, "requestor": "user"}]})
    messages.append({"role": "tool", "id": "u1", "content": "Error: no SIM", "requestor": "user", "error": True})
    simulations = [
        {"id": "sim-1", "task_id": "7", "trial": 0, "termination_reason": "user_stop", "agent_cost": 0.12, "reward_info": {"reward": 1.0}, "messages": messages},
        {"id": "sim-2", "task_id": "7", "trial": 1, "termination_reason": "max_steps", "reward_info": {"reward": 0.0}, "messages": messages[:3]},
        {"id": "sim-3", "task_id": "8", "messages": "not a list"},
    ]
    path = _write(tmp_path / "2025_airline_sim.json", {"timestamp": "2025-01-01", "info": {"num_trials": 2}, "tasks": [{"id": "7"}], "simulations": simulations})
    trajectories, report = _read(path)
    assert [t.session_id for t in trajectories] == ["tau2-bench:sim-1", "tau2-bench:sim-2"]
    assert [p.line for p in report.errors] == [2]  # the broken simulation, by index
    first, second = trajectories
    assert (first.outcome.status, first.outcome.reward, first.outcome.origin) == ("success", 1.0, "log")
    assert second.outcome.status == "failure" and first.task_id == second.task_id
    user_step = next(s for s in first.steps if s.extra.get("user_call_ids"))
    assert user_step.source == "user" and user_step.result_for("u1").is_error
    agent_call = next(s for s in first.steps if s.source == "agent" and s.tool_calls)
    assert isinstance(agent_call.tool_calls[0].arguments, dict) and agent_call.metrics.prompt_tokens == 10
    assert first.final_metrics["total_cost_usd"] == 0.12
    _valid(first)


def test_openai_chat_transcripts(shared_traces: Path, tmp_path: Path) -> None:
    messages = _tau_messages(shared_traces)
    bare = _write(tmp_path / "conversation.json", messages)
    wrapped = _write(tmp_path / "wrapped.json", {"id": "conv-1", "task_id": "t1", "reward": 1, "messages": messages})
    lines = tmp_path / "dataset.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps({"id": f"row{i}", "success": i == 0, "messages": messages}) for i in range(2)) + b"\n")
    trajectories, report = _read(bare, wrapped, lines)
    assert not report.errors
    assert [t.source.format for t in trajectories] == ["openai-chat"] * 4
    assert [t.outcome.status for t in trajectories] == ["unknown", "success", "success", "failure"]
    call_step = next(s for s in trajectories[0].steps if s.tool_calls)
    assert call_step.result_for(call_step.tool_calls[0].tool_call_id) is not None
    for trajectory in trajectories:
        _valid(trajectory)


def _otlp_attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value if isinstance(value, str) else orjson.dumps(value).decode()}}


def test_otel_genai_spans(tmp_path: Path) -> None:
    """OTLP JSON written from the GenAI semantic conventions: agent → chat → execute_tool spans."""
    trace = "5b8efff798038103d269b633813fc60c"

    def span(span_id, start, attributes, status=None):
        return {"traceId": trace, "spanId": span_id, "name": attributes.get("gen_ai.operation.name"), "startTimeUnixNano": str(start),
                "attributes": [_otlp_attr(k, v) for k, v in attributes.items()], "status": status or {"code": 1}}

    user = {"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]}
    call = {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]}
    spans = [
        span("a1", 1_700_000_000_000_000_000, {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather-bot", "gen_ai.conversation.id": "conv-42"}),
        span("c1", 1_700_000_000_100_000_000, {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.input.messages": [user],
                                               "gen_ai.output.messages": [call], "gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 7}),
        span("t1", 1_700_000_000_200_000_000, {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": "call_1",
                                               "gen_ai.tool.call.arguments": {"city": "Paris"}}, {"code": 2, "message": "weather service timed out"}),
        span("c2", 1_700_000_000_300_000_000, {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                               "gen_ai.input.messages": [user, call, {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "timeout"}]}],
                                               "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "The weather service is down."}]}]}),
    ]
    path = _write(tmp_path / "otlp.json", {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "x"}, "spans": spans}]}]})
    [trajectory], report = _read(path)
    assert not report.errors
    assert trajectory.session_id == "otel:conv-42" and trajectory.agent.name == "weather-bot" and trajectory.agent.model_name == "gpt-4o"
    assert [s.source for s in trajectory.steps] == ["user", "agent", "agent"]  # the repeated user message is not added twice
    assert trajectory.steps[1].tool_calls[0].arguments == {"city": "Paris"}
    result = trajectory.steps[1].result_for("call_1")
    assert result.is_error and result.content == "weather service timed out"
    assert trajectory.steps[2].message == "The weather service is down."
    assert trajectory.final_metrics["total_prompt_tokens"] == 50
    _valid(trajectory)


def test_codex_legacy_format(tmp_path: Path) -> None:
    """The mid-2025 rollout layout: a bare header line, state markers and bare Responses items."""
    lines = [
        {"id": "legacy-1", "timestamp": "2025-06-01T10:00:00Z", "instructions": "be careful", "git": {"branch": "main"}},
        {"record_type": "state"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>cwd</environment_context>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run the tests"}]},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "I should run pytest."}]},
        {"type": "function_call", "name": "shell", "arguments": "{\"command\": [\"pytest\"]}", "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": "{\"output\": \"1 failed\", \"metadata\": {\"exit_code\": 1, \"duration_seconds\": 0.5}}"},
        {"record_type": "state"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "One test fails."}]},
    ]
    path = tmp_path / "rollout-legacy.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    [trajectory], report = _read(path)
    assert not report.errors
    assert trajectory.session_id == "legacy-1" and trajectory.source.format == "codex"
    assert [s.source for s in trajectory.steps] == ["user", "user", "agent", "agent"]
    assert trajectory.steps[0].extra.get("injected") and not trajectory.steps[1].extra.get("injected")
    agent = trajectory.steps[2]
    assert agent.reasoning_content == "I should run pytest." and agent.tool_calls[0].arguments == {"command": ["pytest"]}
    result = agent.result_for("c1")
    assert result.is_error and result.content == "1 failed"


# ----------------------------------------------------------------------------------- registry


def test_every_registered_format_has_the_interface() -> None:
    assert len(formats.FORMATS) >= 12
    for name, module in formats.FORMATS.items():
        assert module.NAME == name
        assert callable(module.detect) and callable(module.parse)
        assert module.__doc__ and module.parse.__doc__ and module.detect.__doc__


def test_a_new_format_is_one_module_and_one_registry_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway module registered in FORMATS is detected and parsed with no other change."""
    from skillforge.ingest.steps import StepBuilder
    from skillforge.trajectory import Agent, SourceRef, Trajectory

    module = types.ModuleType("skillforge.ingest.toy_format")
    module.NAME = "toy"

    def detect_toy(path, head):
        return head.startswith(b"TOYLOG")

    def parse_toy(path, report):
        builder = StepBuilder()
        for line in path.read_text().splitlines()[1:]:
            builder.step("user", line)
        yield Trajectory("toy:1", Agent("toy"), builder.steps, SourceRef("toy", str(path)))

    module.detect, module.parse = detect_toy, parse_toy
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(formats.FORMATS, module.NAME, module)
    path = tmp_path / "session.log"
    path.write_text("TOYLOG\nhello\nworld\n")
    [trajectory], report = _read(path)
    assert trajectory.source.format == "toy" and [s.message for s in trajectory.steps] == ["hello", "world"]
    assert report.files[0].format == "toy" and report.files[0].steps == 2


def test_registry_modules_import_cleanly() -> None:
    for module in formats.FORMATS.values():
        assert importlib.import_module(module.__name__) is module
