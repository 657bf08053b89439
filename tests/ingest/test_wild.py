"""Issue 14, point by point, on real log files from other sources and agent versions.

The files are in ``tests/data/wild`` (byte-for-byte copies, provenance in its PROVENANCE.md;
FINDINGS.md says what ingest got wrong on each before these fixes). Expected figures come from the
raw files (counted here or in PROVENANCE.md), never from skillforge's own earlier output.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from skillforge.ingest import detect, ingest, reader
from skillforge.ingest.codex import HARNESS_MESSAGES as CODEX_MESSAGES
from skillforge.ingest.command import run_ingest
from skillforge.ingest.openhands import HARNESS_MESSAGES as OPENHANDS_MESSAGES
from skillforge.ingest.report import IngestReport
from skillforge.ingest.tool_errors import classify, generic_error
from skillforge.trajectory import Trajectory
from tests.conftest import REPO, SHARED_TRACES, require_shared_traces
from tests.ingest.upstream import MINI_DEFAULT_ACTION_REGEX

WILD = REPO / "tests" / "data" / "wild"
TAU2_TELECOM = WILD / "tau2-bench/activegraph-tau2-bench/runs/20260601-041221-091109/tau2_output/results.json"
MINI_GRUCKION = WILD / "mini-swe-agent/gruckion/psf__requests-2931/psf__requests-2931.traj.json"
CODEX_128 = WILD / "codex/codemie-code/rollout-2026-05-11T13-28-45-019e1695-0522-7c83-8b39-0dd379793f80.jsonl"
CLAUDE_RESUMED = WILD / "claude-code/entireio-cli/8c/fa910f8ef9/5/full.jsonl"
OPENHANDS_FLAT = WILD / "openhands/openhands-resolver/output.jsonl"
GEMINI_JSONL = WILD / "gemini-cli/agent-sessions/jsonl_v040.jsonl"


def _read(*paths: Path) -> tuple[list[Trajectory], IngestReport]:
    report = IngestReport()
    return list(ingest(list(paths), report)), report


def _kinds(trajectory: Trajectory) -> Counter:
    return Counter(k for s in trajectory.steps for k in (s.extra.get("error_kinds") or {}).values())


def _logs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".traj", ".eval"))


# 1 ------------------------------------------------------------------ detection past the head


def test_tau2_results_with_simulations_after_tasks_detected_past_the_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """``simulations`` starts at byte 31,291 of this real file, after ``timestamp, info, tasks``;
    with a head of 4 KiB it lies far outside it, and the file is still read in full."""
    assert TAU2_TELECOM.read_bytes().index(b'"simulations"') > 30_000
    monkeypatch.setattr(reader, "HEAD_BYTES", 4096)
    module = detect(TAU2_TELECOM)
    assert module is not None and module.NAME == "tau2-bench"
    [trajectory], report = _read(TAU2_TELECOM)
    assert not report.errors
    assert sum(len(s.tool_calls) for s in trajectory.steps) == 9  # PROVENANCE/FINDINGS: 9 calls


def test_no_real_file_depends_on_the_head_window_or_key_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every real file keeps its format when the head shrinks from 64 KiB to 2 KiB (the keys that
    decide lie past it), and every JSON object file keeps it with its top-level keys reversed."""
    files = _logs(WILD) + (_logs(SHARED_TRACES) if SHARED_TRACES.is_dir() else [])
    expected = {path: getattr(detect(path), "NAME", None) for path in files}
    assert sum(1 for name in expected.values() if name) >= 15
    monkeypatch.setattr(reader, "HEAD_BYTES", 2048)
    assert {path: getattr(detect(path), "NAME", None) for path in files} == expected
    monkeypatch.undo()
    for number, path in enumerate(files):
        if path.suffix in (".json", ".traj") and path.read_bytes().lstrip().startswith(b"{"):
            document = json.loads(path.read_bytes())
            reversed_keys = tmp_path / f"{number}{path.suffix}"
            reversed_keys.write_text(json.dumps(dict(reversed(list(document.items())))))
            assert getattr(detect(reversed_keys), "NAME", None) == expected[path], path


# 2 ------------------------------------------------------------------ mini-swe-agent's action rule


def test_mini_swe_agent_commands_are_upstream_actions_and_format_errors_recorded() -> None:
    """mini-swe-agent 1.15's rule: ``re.findall(action_regex, content, re.DOTALL)`` with the saved
    ``action_regex``, else upstream's default; exactly one match is the action, else the agent was
    sent a format error."""
    data = json.loads(MINI_GRUCKION.read_bytes())
    assert "action_regex" not in data["info"]["config"]["agent"]  # 1.15 saved none: upstream's default
    pattern = MINI_DEFAULT_ACTION_REGEX
    expected, format_errors, python_first = [], 0, 0
    for message in data["messages"]:
        if message["role"] == "assistant":
            actions = re.findall(pattern, message["content"], re.DOTALL)
            if len(actions) == 1:
                expected.append(actions[0].strip())
                python_first += "```python" in message["content"].split("```bash")[0]
            else:
                format_errors += 1
    assert (len(expected), format_errors) == (31, 1) and python_first >= 12
    [trajectory], _ = _read(MINI_GRUCKION)
    commands = [c.arguments["command"].strip() for s in trajectory.steps for c in s.tool_calls]
    assert commands == expected
    assert _kinds(trajectory)["format_error"] == 1
    [rejected] = [s for s in trajectory.steps if "format_error" in (s.extra.get("error_kinds") or {}).values()]
    assert not rejected.tool_calls


# 3 ------------------------------------------------------------------ Codex prompts in event_msg


def test_codex_prompts_only_in_event_msg_each_start_a_step_once() -> None:
    records = [json.loads(line) for line in CODEX_128.read_text().splitlines()]
    events = [
        r["payload"]["message"] for r in records if r["type"] == "event_msg" and r["payload"]["type"] == "user_message"
    ]
    items = [r for r in records if r["type"] == "response_item" and r["payload"].get("role") == "user"]
    assert len(events) == 3 and not items  # the prompts exist only as event_msg
    [trajectory], _ = _read(CODEX_128)
    prompts = [s for s in trajectory.steps if s.source == "user" and not s.extra.get("injected")]
    assert [s.message for s in prompts] == events  # each once, in order
    assert all(trajectory.steps[s.step_id - 2].source == "agent" for s in prompts[1:])  # a new step each


def test_codex_prompt_written_to_both_records_is_taken_once(shared_traces: Path) -> None:
    """Codex 0.125 writes each prompt as a ``response_item`` and as an ``event_msg``: one user step."""
    path = shared_traces / "codex" / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl"
    events = [
        r["payload"]["message"]
        for r in map(json.loads, path.read_text().splitlines())
        if r["type"] == "event_msg" and r["payload"]["type"] == "user_message"
    ]
    [trajectory], _ = _read(path)
    prompts = [s.message for s in trajectory.steps if s.source == "user" and not s.extra.get("injected")]
    assert len(prompts) == len(events) == 2


# 4 ------------------------------------------------------------------ Gemini CLI JSONL sessions


def test_gemini_cli_jsonl_session_read_with_its_updates() -> None:
    """Header, message records and a ``$set`` update (agent-sessions' sample of the JSONL format;
    no captured JSONL session under a permissive licence was found, see PROVENANCE.md)."""
    records = [json.loads(line) for line in GEMINI_JSONL.read_text().splitlines() if line.strip()]
    assert any("$set" in r for r in records) and "sessionId" in records[0]
    [trajectory], report = _read(GEMINI_JSONL)
    assert not report.errors
    assert trajectory.session_id == records[0]["sessionId"]
    users = [r for r in records if r.get("type") == "user"]
    assert [s.source for s in trajectory.steps if s.source == "user"] == ["user"] * len(users)
    raw_calls = [c for r in records for c in r.get("toolCalls") or []]
    calls = [c for s in trajectory.steps for c in s.tool_calls]
    assert [(c.function_name, c.arguments) for c in calls] == [(c["name"], c["args"]) for c in raw_calls]


# 5 ------------------------------------------------------------------ OpenHands flat history


def test_openhands_flat_resolver_history_keeps_prompt_arguments_and_thoughts() -> None:
    rows = [json.loads(line) for line in OPENHANDS_FLAT.read_text().splitlines() if line.strip()]
    trajectories, _ = _read(OPENHANDS_FLAT)
    assert len(trajectories) == len(rows) == 2
    for row, trajectory in zip(rows, trajectories, strict=True):
        events = [e for e in row["history"] if isinstance(e, dict)]
        assert not any("args" in e or "source" in e for e in events)  # the older flat shape
        task = next(e for e in events if e.get("action") == "message")
        assert trajectory.steps[0].source == "user" and trajectory.steps[0].message.strip() == task["content"].strip()
        thoughts = [e["thought"].strip() for e in events if isinstance(e.get("thought"), str) and e["thought"].strip()]
        texts = " ".join(" ".join(f"{s.reasoning_content or ''} {s.message or ''}".split()) for s in trajectory.steps)
        assert thoughts and all(" ".join(t.split()) in texts for t in thoughts)
        for event in events:
            if event.get("action") in ("run", "run_ipython"):
                key = "command" if event["action"] == "run" else "code"
                assert any(c.arguments.get(key) == event[key] for s in trajectory.steps for c in s.tool_calls)


# 6 ------------------------------------------------------------------ Claude Code across session ids


def _chain_sessions(path: Path) -> list[set[str]]:
    """Sessions per conversation, from the raw ``parentUuid`` chains (a root starts one)."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    root_of: dict[str, str] = {}
    sessions: dict[str, set[str]] = {}
    for record in records:
        uuid = record.get("uuid")
        if not uuid or record.get("type") not in ("user", "assistant"):
            continue
        root = root_of.get(record.get("parentUuid") or "", uuid)
        root_of[uuid] = root
        sessions.setdefault(root, set()).add(record["sessionId"])
    for record in records:  # progress records link the chain too
        if record.get("uuid") and record.get("uuid") not in root_of:
            root_of[record["uuid"]] = root_of.get(record.get("parentUuid") or "", record["uuid"])
    return list(sessions.values())


def test_claude_code_conversation_continued_across_session_ids_is_one_trajectory() -> None:
    [trajectory, second], report = _read(CLAUDE_RESUMED)
    assert trajectory.extra["session_ids"] == [
        "2a8af1a8-f8cc-4816-a463-12df7a999930",
        "4931d45a-d447-44b4-8475-1e6fcfcc28bf",
    ]
    assert trajectory.steps[0].source == "user" and trajectory.steps[0].message.startswith(
        "Implement the following plan"
    )
    # the second trajectory is the conversation that starts afresh (parentUuid null) later in the file
    assert second.steps[0].source == "user" and second.steps[0].message.startswith("Implement the following plan")
    assert not [p for p in report.problems if "seen before" in p.message or "no user or assistant" in p.message]
    assert sum(len(s.tool_calls) for t in (trajectory, second) for s in t.steps) == 58  # PROVENANCE: 58 calls


def test_claude_code_resume_into_a_new_file_of_the_folder(tmp_path: Path) -> None:
    """The same real records, written as ``--resume`` leaves them: one file per session id."""
    lines = CLAUDE_RESUMED.read_text().splitlines()
    by_session: dict[str, list[str]] = {}
    for line in lines:
        if line.strip():
            by_session.setdefault(json.loads(line).get("sessionId") or "none", []).append(line)
    for session, kept in by_session.items():
        if session != "none":
            (tmp_path / f"{session}.jsonl").write_text("\n".join(kept) + "\n")
    trajectories, _ = _read(tmp_path)
    joined = [t for t in trajectories if len(t.extra.get("session_ids") or []) == 2]
    assert len(joined) == 1 and joined[0].steps[0].source == "user"
    assert sum(len(s.tool_calls) for t in trajectories for s in t.steps[int(t.extra.get("fork_step") or 0) :]) == 58


# 7 ------------------------------------------------------------------ tool errors


def test_swe_agent_harness_messages_are_errors_of_their_kind() -> None:
    [rock], _ = _read(WILD / "swe-agent/princeton-nlp/ctf/rev/rock.traj")
    [eps], _ = _read(WILD / "swe-agent/princeton-nlp/ctf/crypto/eps.traj")
    assert _kinds(rock)["timeout"] == 1 and _kinds(rock)["harness"] == 1  # EXECUTION TIMED OUT, Wrong flag!
    wrong = [
        r for s in eps.steps if s.observation for r in s.observation.results if r.content.startswith("Wrong flag!")
    ]
    assert len(wrong) == 5 and all(r.is_error for r in wrong)


def test_codex_browser_use_rejection_is_an_error() -> None:
    [trajectory], _ = _read(CODEX_128)
    rejected = [
        r
        for s in trajectory.steps
        if s.observation
        for r in s.observation.results
        if "Browser Use rejected this action" in r.content
    ]
    assert len(rejected) == 2 and all(r.is_error for r in rejected)
    assert _kinds(trajectory)["rejected"] == 2


def test_openhands_linter_rejection_is_an_error() -> None:
    trajectories, _ = _read(OPENHANDS_FLAT)
    results = [r for t in trajectories for s in t.steps if s.observation for r in s.observation.results]
    linted = [
        r for r in results if r.content.lstrip().startswith("[Your proposed edit has introduced new syntax error")
    ]
    assert linted and all(r.is_error for r in linted)


def test_harness_strings_named_in_the_issue() -> None:
    """The exact texts upstream writes (Codex apply-patch, openhands-aci's editor) are errors by the
    format's own list; a word inside an identifier (``_curses.error:``) is not."""
    assert classify("patch rejected: empty patch", CODEX_MESSAGES, generic=False) == "harness"
    invalid = "ERROR:\nInvalid `path` parameter: /workspace/x does not exist. Please provide a valid path."
    assert classify(invalid, OPENHANDS_MESSAGES, generic=False) == "harness"
    warning = "Warning: _curses.error: setupterm: could not find terminfo database\n[*] '/challenge/files/program'"
    assert not generic_error(warning)
    assert generic_error('Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad')


# 8 ------------------------------------------------------------------ truncated capture


def test_codex_capture_cut_mid_turn_is_marked_truncated(shared_traces: Path, tmp_path: Path) -> None:
    """The real 0.125 rollout, cut where its capture could stop (line 200, inside the second turn
    opened by ``task_started`` on line 20); the whole file ends with ``task_complete``."""
    path = shared_traces / "codex" / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl"
    cut = tmp_path / path.name
    cut.write_text("\n".join(path.read_text().splitlines()[:200]) + "\n")
    [whole], _ = _read(path)
    assert "truncated" not in whole.extra
    [trajectory], report = _read(cut)
    assert 20 <= trajectory.extra["truncated"]["turn_line"] <= 23  # the turn opened there
    assert any("marked truncated" in p.message for p in report.problems)
    result = run_ingest([cut], None, None, 1).to_dict()
    assert result["files"][0]["truncated"] == 1 and result["trajectories"][0]["truncated"] is True


# 9 ------------------------------------------------------------------ outcome origin


def test_outcome_origins_judge_for_llm_graded_log_for_computed() -> None:
    document = run_ingest(
        [WILD / "inspect-ai", OPENHANDS_FLAT, TAU2_TELECOM, WILD / "tau2-bench"], None, None, 1
    ).to_dict()
    origin = Counter((Path(t["path"]).suffix, t["origin"]) for t in document["trajectories"])
    assert origin[(".eval", "judge")] == 1 and origin[(".json", "judge")] == 3  # model_graded_fact
    assert origin[(".jsonl", "judge")] == 2  # openhands-resolver success (its LLM check)
    tau2 = [t for t in document["trajectories"] if "tau2" in t["path"]]
    assert tau2 and all(t["origin"] == "log" for t in tau2)  # reward computed by the environment


def test_inspect_computed_score_keeps_origin_log() -> None:
    path = require_shared_traces("inspect-ai") / "2025-05-12T20-27-36-04-00_browser.json"
    [trajectory], _ = _read(path)
    assert (trajectory.outcome.status, trajectory.outcome.origin) == ("success", "log")
