"""Secrets never leave ingest: a planted-secret corpus across real logs of four formats, checked in
everything written to disk (ingest --json, ATIF files, the skill store) and in every trajectory
(all a model is ever sent); and few false positives on the real corpus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.secret_scan import find_secrets, redact_text, redact_texts

from .planted_secrets import ARGUMENT_SECRETS, PLANTED, all_secrets, planted_lines

MAX_FALSE_POSITIVES = 10
"""Redactions allowed on the whole real corpus (11.5 MB, no real secret in it). Measured: 7 — four
signed Flask session cookies (JWTs) in a test's output and three CSRF tokens in an HTML page, all
arguably secrets."""


def test_corpus_size() -> None:
    assert len(PLANTED) >= 30
    assert len({kind for kind, _, _ in PLANTED}) >= 15


@pytest.mark.parametrize(("kind", "context", "secret"), PLANTED, ids=[f"{i}-{k}" for i, (k, _, _) in enumerate(PLANTED)])
def test_each_planted_secret_is_redacted_in_context(kind: str, context: str, secret: str) -> None:
    text = f"some log output before\n{context.format(secret)}\nand after"
    redacted, counts = redact_text(text)
    assert secret not in redacted
    assert "[REDACTED:" in redacted and sum(counts.values()) >= 1
    assert redacted.startswith("some log output before\n") and redacted.endswith("\nand after")


def test_batch_redaction_equals_one_by_one() -> None:
    texts = ["nothing here", *planted_lines(), "", "x" * 10, "ids: toolu_01MKH1ccAbCdEfGh12345678 call_cVVsJ9hu9hK5CQyt1F4wULOk"]
    batch, counts = redact_texts(texts)
    single = [redact_text(t) for t in texts]
    assert batch == [r for r, _ in single]
    assert sum(counts.values()) == sum(sum(c.values()) for _, c in single)
    assert batch[0] is texts[0]  # untouched texts are the same objects


def test_ordinary_text_is_kept() -> None:
    kept = [
        "Error: flight HAT030 not available on date 2024-05-13",
        "commit 7078dc6b1ce5dd75a54ad14563c663530b82963b sha256 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        '{"id": "msg_01MKH1ccXjA8d7KpQvW3sZ2y", "tool_use_id": "toolu_01FdQ8qTyVyZjE3Kw4dguQGx", "uuid": "55604662-cf2a-4331-851a-ec234028f8ca"}',
        "/home/marco/projects/spotter/_build/dev/lib/spotter/ebin/Elixir.SpotterWeb.AnnotationReviewController.beam",
        "max_tokens: 4096, input_tokens: 18703, token: String, password: str, api_key: Optional[str]",
        "apiKey: 'proxy-handled', password = os.environ['DB_PASSWORD'], token = get_token(), secret: ${SECRET}",
        "http://user:pass@example.com is a valid URL in the test",
        "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg" * 8,
        "__ZN4Napi7details18ThreadSafeFinalizeIvZNS_18ThreadSafeFunction3NewIPKcvEES2_P10napi_env",
    ]
    for text in kept:
        assert find_secrets(text) == [], text


def _plant_logs(sample_traces: Path, shared_traces: Path, folder: Path) -> int:
    """Copy real logs of four formats into ``folder`` with every planted secret inside; return how many."""
    lines = planted_lines()
    chunks = [lines[i::4] for i in range(4)]
    # Claude Code: user text, thinking, tool input, tool result, plus secrets only a key names
    records = [orjson.loads(line) for line in (sample_traces / "claude-code" / "short.jsonl").read_bytes().splitlines()]
    for record in records:
        message = record.get("message")
        if record.get("type") == "user" and isinstance(message, dict) and isinstance(message.get("content"), str):
            message["content"] += "\n" + "\n".join(chunks[0][:3])
        if record.get("type") == "assistant" and isinstance(message, dict):
            for block in message.get("content", []):
                if block.get("type") == "thinking":
                    block["thinking"] += "\n" + chunks[0][3]
                if block.get("type") == "tool_use" and block.get("name") == "Bash":
                    block["input"]["command"] = "; ".join(chunks[0][4:6])
                    block["input"]["env"] = dict(ARGUMENT_SECRETS)
        if record.get("type") == "user" and isinstance(message, dict) and isinstance(message.get("content"), list):
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    block["content"] = "\n".join(chunks[0][6:])
    (folder / "claude.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    # tau-bench: simulated user, tool output, tool-call arguments (a JSON string), a bad role
    runs = orjson.loads((sample_traces / "tau-bench" / "gpt-4o-airline-sample.json").read_bytes())
    runs = [r for r in runs if any(m["role"] == "tool" for m in r["traj"])][:3]
    run = runs[0]
    user = next(m for m in run["traj"] if m["role"] == "user")
    user["content"] += "\n" + "\n".join(chunks[1][:4])
    tool = next(m for m in run["traj"] if m["role"] == "tool")
    tool["content"] += "\n" + "\n".join(chunks[1][4:7])
    call = next(m for m in run["traj"] if m.get("tool_calls"))
    call["tool_calls"][0]["function"]["arguments"] = orjson.dumps({"note": "\n".join(chunks[1][7:])}).decode()
    runs[1]["traj"][1]["role"] = PLANTED[0][2]  # a secret where a role should be: the problem message must not leak it
    (folder / "tau.json").write_bytes(orjson.dumps(runs))
    # Codex: a command's arguments and its output
    codex = (shared_traces / "codex" / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl").read_bytes().splitlines()[:40]
    out = []
    for raw in codex:
        record = orjson.loads(raw)
        payload = record.get("payload", {})
        if payload.get("type") == "function_call" and chunks[2]:
            payload["arguments"] = orjson.dumps({"cmd": chunks[2].pop()}).decode()
        elif payload.get("type") == "function_call_output" and chunks[2]:
            payload["output"] = "Process exited with code 0\nOutput:\n" + chunks[2].pop()
        out.append(orjson.dumps(record))
    assert not chunks[2], "not enough Codex records to plant into"
    (folder / "rollout.jsonl").write_bytes(b"\n".join(out) + b"\n")
    # mini-swe-agent: an observation and the assistant's command
    traj = orjson.loads((shared_traces / "mini-swe-agent/django__django-10097/django__django-10097.traj.json").read_bytes())
    observations = [m for m in traj["messages"] if m["role"] == "user" and m["content"].startswith("<returncode>")]
    for message, line in zip(observations, chunks[3]):
        message["content"] = "<returncode>0</returncode>\n<output>\n" + line + "\n</output>"
    (folder / "x.traj.json").write_bytes(orjson.dumps(traj))
    return len(lines) + len(ARGUMENT_SECRETS)


def _leaks(text: str) -> list[str]:
    return [secret for secret in all_secrets() if secret in text]


def test_planted_secrets_never_leave_ingest(sample_traces: Path, shared_traces: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    planted = _plant_logs(sample_traces, shared_traces, logs)
    # every trajectory, i.e. everything a model can ever be sent
    report = IngestReport()
    trajectories = list(ingest([logs], report))
    assert {t.source.format for t in trajectories} == {"claude-code", "tau-bench", "codex", "mini-swe-agent"}
    dumped = orjson.dumps([t.to_dict() for t in trajectories]).decode()
    assert _leaks(dumped) == []
    assert _leaks(" ".join(str(p) for p in report.problems)) == []
    assert any("unknown message role" in p.message and "[REDACTED:" in p.message for p in report.problems)
    assert sum(report.redactions.values()) >= planted
    assert len(report.redactions) >= 15
    # everything written to disk: ingest --json, ATIF files, the skill store with its history
    work = tmp_path / "work"
    work.mkdir()
    command = [sys.executable, "-m", "skillforge.cli"]
    shown = subprocess.run([*command, "ingest", str(logs), "--json", "--to", "atif", str(work / "atif")], capture_output=True, text=True, cwd=work, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert _leaks(shown.stdout + shown.stderr) == []
    written = orjson.loads(shown.stdout)["written"]
    assert len(written) == len(trajectories)
    assert _leaks("".join(Path(p).read_text() for p in written)) == []
    distilled = subprocess.run([*command, "distill", str(logs), "--skill", "planted", "-q"], capture_output=True, text=True, cwd=work, timeout=300)
    assert distilled.returncode == 0, distilled.stderr
    assert _leaks(distilled.stdout + distilled.stderr) == []
    files = [p for p in work.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert _leaks("".join(p.read_text(errors="replace") for p in files)) == []
    history = subprocess.run(["git", "log", "-p", "--all"], capture_output=True, text=True, cwd=work / "skills")
    assert history.returncode == 0 and _leaks(history.stdout) == []


def test_few_false_positives_on_the_real_corpus(shared_traces: Path) -> None:
    report = IngestReport()
    trajectories = list(ingest([shared_traces], report))
    assert len(trajectories) >= 230
    found = sum(report.redactions.values())
    assert found <= MAX_FALSE_POSITIVES, dict(report.redactions)
