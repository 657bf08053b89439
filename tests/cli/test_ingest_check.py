"""``skillforge ingest --check``: per trajectory, counts a user can compare with the raw file.

Run in-process (tests/cli_runner.py) on real files of ``tests/data/wild``; the expected counts are
read from the raw files here (or are in tests/data/wild/PROVENANCE.md), not from skillforge.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from tests.cli_runner import run

WILD = Path(__file__).resolve().parents[1] / "data" / "wild"
CODEX = WILD / "codex/codemie-code/rollout-2026-05-11T13-28-45-019e1695-0522-7c83-8b39-0dd379793f80.jsonl"
ROCK = WILD / "swe-agent/princeton-nlp/ctf/rev/rock.traj"
INSPECT = WILD / "inspect-ai/inspect_ai/2025-05-12T20-28-26-04-00_security-guide.json"


def test_check_json_gives_the_raw_files_counts(tmp_path: Path) -> None:
    result = run("ingest", "--check", "--json", "-j", "1", str(CODEX), str(ROCK), str(INSPECT), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    codex, rock, *inspect = json.loads(result.stdout)

    records = [json.loads(line) for line in CODEX.read_text().splitlines()]
    payloads = [r["payload"] for r in records if r["type"] in ("response_item", "event_msg")]
    calls = [p for p in payloads if p.get("type") in ("function_call", "custom_tool_call", "web_search_call")]
    prompts = [p for p in payloads if p.get("type") == "user_message"]
    assert (codex["user_turns"], codex["tool_calls"]) == (len(prompts), len(calls)) == (3, 38)
    assert codex["tool_errors"]["rejected"] == 2  # "Browser Use rejected this action", twice in the file
    assert codex["outcome"] == "unknown" and codex["origin"] is None and codex["truncated"] is False

    steps = orjson.loads(ROCK.read_bytes())["trajectory"]
    assert rock["tool_calls"] == len([s for s in steps if s["action"].strip()])
    assert rock["tool_errors"] == {"harness": 1, "timeout": 1}  # "Wrong flag!", "EXECUTION TIMED OUT"

    samples = orjson.loads(INSPECT.read_bytes())["samples"]
    assert len(inspect) == len(samples) == 3
    assert all(s["scores"].keys() == {"model_graded_fact"} for s in samples)
    assert {(t["outcome"], t["origin"]) for t in inspect} == {("success", "judge")}


def test_check_prints_a_row_per_trajectory(tmp_path: Path) -> None:
    result = run("ingest", "--check", "-j", "1", str(ROCK), cwd=tmp_path, columns=250)
    assert result.returncode == 0, result.stderr
    assert "ingest check" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "swe-agent:rock" in line)
    assert "1 harness 1 timeout" in row and "unknown" in row
    assert "Traceback" not in result.stdout + result.stderr


def test_check_on_nothing_readable_is_an_error_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a log\n")
    result = run("ingest", "--check", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr
