"""Secrets never leave ingest: a planted-secret corpus across real logs of four formats, checked in
everything written to disk (ingest --json, ATIF files, the skill store) and in every trajectory
(all a model is ever sent); and few false positives on the real corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from skillforge.ingest import ingest
from skillforge.ingest.redact import redact_trajectory
from skillforge.ingest.report import IngestReport
from skillforge.secret_scan import BLOB_CHARS, OWN_PASS_CHARS, find_secrets, redact_text, redact_texts
from skillforge.trajectory import Agent, Observation, ObservationResult, SourceRef, Step, ToolCall, Trajectory

from .planted_secrets import ARGUMENT_SECRETS, ENV_ARGUMENT_SECRETS, PLACED, PLANTED, all_secrets, planted_lines

MAX_FALSE_POSITIVES = 10
"""Redactions allowed on the whole real corpus (11.5 MB, no real secret in it). Measured: 7 — four
signed Flask session cookies (JWTs) in a test's output and three CSRF tokens in an HTML page, all
arguably secrets."""


def test_corpus_size() -> None:
    assert len(PLANTED) >= 60
    assert len({kind for kind, _, _ in PLANTED}) >= 30
    assert len(all_secrets()) >= 70


def _left_in_clear(secret: str, redacted: str, context: str, window: int = 8) -> list[str]:
    """Pieces of ``secret`` (``window`` characters) still in ``redacted`` that the context does not
    hold on its own: a signature after a redacted JWT header, the tail of a long token."""
    around = context.replace("{}", "\0")
    pieces = {secret[i : i + window] for i in range(len(secret) - window + 1)}
    return sorted(piece for piece in pieces if piece in redacted and piece not in around)


@pytest.mark.parametrize(
    ("kind", "context", "secret"), PLANTED, ids=[f"{i}-{k}" for i, (k, _, _) in enumerate(PLANTED)]
)
def test_each_planted_secret_is_redacted_in_context(kind: str, context: str, secret: str) -> None:
    text = f"some log output before\n{context.format(secret)}\nand after"
    redacted, counts = redact_text(text)
    assert secret not in redacted
    assert _left_in_clear(secret, redacted, context) == []  # redacted whole, not only its head
    assert "[REDACTED:" in redacted and sum(counts.values()) >= 1
    assert redacted.startswith("some log output before\n") and redacted.endswith("\nand after")


@pytest.mark.parametrize(
    "text",
    [
        "keys look like sk_live_... or ghp_xxxxxxxx; set sk_live_YOUR_KEY and xoxb-your-bot-token",
        "task_live_stream mask-proj-x hf_hub_download npm_config_cache xoxo-party",
        "SORT_KEY=created_at_desc CACHE_KEY=user_profile_v2 PRIMARY_KEY=id MAX_TOKENS=4096",
        "NEXT_PUBLIC_KEY=/etc/keys/app.pem API_TOKEN=$TOKEN APP_SECRET=${SECRET} S3_KEY=uploads/2024/report.csv",
        "ROUTE_KEY=ABCDEF123456 JOB_TOKEN=abcdefghijklmnop",
    ],
)
def test_look_alikes_of_the_new_rules_are_kept(text: str) -> None:
    assert find_secrets(text) == [], text


def test_placed_secrets_are_redacted_from_every_part_of_a_trajectory() -> None:
    """A session id, a file path in a tool call, a reasoning block, nested tool-call arguments,
    environment-style keys and a JSON-escaped string: all redacted, the text around them kept."""
    escaped = orjson.dumps({"body": orjson.dumps({"token": PLACED["json_escaped"]}).decode()}).decode()
    call = ToolCall(
        "toolu_01",
        "Bash",
        {
            "file_path": f"/srv/keys/{PLACED['file_path']}/id.json",
            "options": {"env": dict(ENV_ARGUMENT_SECRETS), "args": ["--header", f"X-Token: {PLACED['tool_argument']}"]},
        },
    )
    steps = [
        Step(1, "user", "deploy the app"),
        Step(
            2,
            "agent",
            "running",
            reasoning_content=f"the key in the notes is {PLACED['reasoning']}; use it",
            tool_calls=[call],
        ),
        Step(3, "system", "", observation=Observation([ObservationResult("toolu_01", escaped)])),
    ]
    trajectory = Trajectory(f"deploy-{PLACED['session_id']}", Agent("test"), steps, SourceRef("x", "log.jsonl"))
    counts = redact_trajectory(trajectory)
    dumped = orjson.dumps(trajectory.to_dict()).decode()
    assert [secret for secret in [*PLACED.values(), *ENV_ARGUMENT_SECRETS.values()] if secret in dumped] == []
    assert trajectory.session_id == "deploy-[REDACTED:github-token]"  # only the secret, ids stay distinct
    assert call.arguments["file_path"] == "/srv/keys/[REDACTED:stripe-access-key]/id.json"
    assert call.arguments["options"]["env"] == {name: "[REDACTED:secret-keyword]" for name in ENV_ARGUMENT_SECRETS}
    assert steps[1].reasoning_content == "the key in the notes is [REDACTED:anthropic-api-key]; use it"
    body = orjson.loads(steps[2].observation.results[0].content)["body"]  # type: ignore[union-attr]
    assert orjson.loads(body) == {"token": "[REDACTED:json-web-token]"}
    assert sum(counts.values()) == len(PLACED) + len(ENV_ARGUMENT_SECRETS)


def test_batch_redaction_equals_one_by_one() -> None:
    texts = [
        "nothing here",
        *planted_lines(),
        "",
        "x" * 10,
        "ids: toolu_01MKH1ccAbCdEfGh12345678 call_cVVsJ9hu9hK5CQyt1F4wULOk",
    ]
    batch, counts = redact_texts(texts)
    single = [redact_text(t) for t in texts]
    assert batch == [r for r, _ in single]
    assert sum(counts.values()) == sum(sum(c.values()) for _, c in single)
    assert batch[0] is texts[0]  # untouched texts are the same objects


def test_long_texts_gated_on_their_own_give_the_same_redaction() -> None:
    """Texts of OWN_PASS_CHARS or more take their own gate pass (secret_scan._scan): the secrets
    planted in them, ASCII or not, are found as in a text scanned alone, and none is lost among
    the short texts of the same batch."""
    filler = "plain log output line with nothing secret in it\n" * (OWN_PASS_CHARS // 40)
    lines = planted_lines()
    texts = [
        *(f"{filler}{line}\n{filler}" for line in lines),  # long, ASCII
        *(f"café ✓ {filler}{line}" for line in lines[::3]),  # long, not ASCII
        *lines[1::2],  # short ones in the same batch
        filler,
    ]
    assert all(len(t) >= OWN_PASS_CHARS for t in texts[: len(lines)])
    batch, counts = redact_texts(texts)
    single = [redact_text(t) for t in texts]
    assert batch == [r for r, _ in single]
    assert sum(counts.values()) == sum(sum(c.values()) for _, c in single) >= len(lines)
    assert batch[-1] is texts[-1]


def test_high_entropy_token_at_the_edge_of_a_blob() -> None:
    """A random token inside a base64-ish region (its characters joined by ``-``) is a secret while
    the region is shorter than BLOB_CHARS and data from that length on, however far the region
    reaches either way; a token after a blob is still found."""
    token = "Zx7Kq2Vb9Lm4Tn8Rw1Ys6Pd3Hf5Gj0Qa"
    assert find_secrets(token)
    for before in (0, 1, BLOB_CHARS - len(token) - 2, BLOB_CHARS - len(token) - 1, BLOB_CHARS, 3 * BLOB_CHARS):
        for after in (0, BLOB_CHARS // 2, 3 * BLOB_CHARS):
            region = ("ab-" * before)[:before] + token + ("-ab" * after)[:after]
            found = [f.kind for f in find_secrets(f"x {region} y")]
            assert found == (["high-entropy-string"] if len(region) < BLOB_CHARS else []), (before, after)
    blob = "Qm9vazEyMy" * (BLOB_CHARS // 5)
    assert [f.start for f in find_secrets(f"{blob} {token}")] == [len(blob) + 1]


def test_ordinary_text_is_kept() -> None:
    kept = [
        "Error: flight HAT030 not available on date 2024-05-13",
        "commit 7078dc6b1ce5dd75a54ad14563c663530b82963b sha256 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        '{"id": "msg_01MKH1ccXjA8d7KpQvW3sZ2y", "tool_use_id": "toolu_01FdQ8qTyVyZjE3Kw4dguQGx", "uuid": "55604662-cf2a-4331-851a-ec234028f8ca"}',
        "/home/marco/projects/spotter/_build/dev/lib/spotter/ebin/Elixir.SpotterWeb.AnnotationReviewController.beam",
        "max_tokens: 4096, input_tokens: 18703, token: String, password: str, api_key: Optional[str]",
        "apiKey: 'proxy-handled', password = os.environ['DB_PASSWORD'], token = get_token(), secret: ${SECRET}",
        "http://user:pass@example.com is a valid URL in the test",
        "data:image/png;base64,"
        + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg" * 8,
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
                    block["thinking"] += f"\nthe key is {PLACED['reasoning']}"
                if block.get("type") == "tool_use" and block.get("name") == "Bash":
                    block["input"]["command"] = "; ".join(chunks[0][4:6])
                    block["input"]["env"] = {**ARGUMENT_SECRETS, **ENV_ARGUMENT_SECRETS}
                    block["input"]["cwd"] = f"/srv/keys/{PLACED['file_path']}"
                    block["input"]["args"] = [["--header", PLACED["tool_argument"]]]
        if record.get("type") == "user" and isinstance(message, dict) and isinstance(message.get("content"), list):
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    escaped = orjson.dumps({"token": PLACED["json_escaped"]}).decode()
                    block["content"] = "\n".join(chunks[0][6:]) + "\n" + escaped
        if record.get("sessionId"):  # a session id with a secret in it
            record["sessionId"] = f"{record['sessionId']}-{PLACED['session_id']}"
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
    codex = (
        (shared_traces / "codex" / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl")
        .read_bytes()
        .splitlines()[:80]
    )
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
    traj = orjson.loads(
        (shared_traces / "mini-swe-agent/django__django-10097/django__django-10097.traj.json").read_bytes()
    )
    observations = [m for m in traj["messages"] if m["role"] == "user" and m["content"].startswith("<returncode>")]
    for message, line in zip(observations, chunks[3]):
        message["content"] = "<returncode>0</returncode>\n<output>\n" + line + "\n</output>"
    (folder / "x.traj.json").write_bytes(orjson.dumps(traj))
    return len(lines) + len(ARGUMENT_SECRETS) + len(ENV_ARGUMENT_SECRETS) + len(PLACED)


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
    shown = subprocess.run(
        [*command, "ingest", str(logs), "--json", "--to", "atif", str(work / "atif")],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=300,
    )
    assert shown.returncode == 0, shown.stderr
    assert _leaks(shown.stdout + shown.stderr) == []
    written = orjson.loads(shown.stdout)["written"]
    assert len(written) == len(trajectories)
    assert _leaks("".join(Path(p).read_text() for p in written)) == []
    distilled = subprocess.run(
        [*command, "distill", str(logs), "--skill", "planted", "-q"],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=300,
    )
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


def test_a_secret_in_a_session_id_is_redacted_and_its_label_still_matches(sample_traces: Path, tmp_path: Path) -> None:
    """Labels are matched on the log's own session id; what comes out carries only the redacted one."""
    from skillforge.ingest.outcomes import load_labels

    secret = PLACED["session_id"]
    records = [orjson.loads(line) for line in (sample_traces / "claude-code" / "short.jsonl").read_bytes().splitlines()]
    original = next(r["sessionId"] for r in records if r.get("sessionId"))
    for record in records:
        if record.get("sessionId"):
            record["sessionId"] = f"{original}-{secret}"
    (tmp_path / "s.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    (tmp_path / "labels.csv").write_text(f"session_id,outcome\n{original}-{secret},failure\n")
    report = IngestReport()
    labels = load_labels(tmp_path / "labels.csv")
    [trajectory] = [
        t for t in ingest([tmp_path / "s.jsonl"], report, labels=labels) if "parent_session_id" not in t.extra
    ]
    assert trajectory.session_id == f"{original}-[REDACTED:github-token]"
    assert trajectory.outcome.status == "failure" and trajectory.outcome.origin == "labels"
    assert secret not in orjson.dumps(trajectory.to_dict()).decode() and secret not in str(report.problems)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_secret_session_id_seen_twice_is_warned_about_redacted(
    sample_traces: Path, tmp_path: Path, jobs: int
) -> None:
    """The "seen before" warning is written without a scan of its own (its one variable part, the
    session id, is redacted with the trajectory): the same words a scan would leave, no secret."""
    secret = PLACED["session_id"]
    raw = (sample_traces / "claude-code" / "short.jsonl").read_text()
    original = orjson.loads(raw.splitlines()[1])["sessionId"]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "s.jsonl").write_text(raw.replace(original, f"{original}-{secret}"))
        for copy in ("t1", "t2"):  # over 1 MB in all: read by worker processes with jobs=2
            shutil.copytree(sample_traces / "tau-bench", tmp_path / name / copy)
    report = IngestReport()
    trajectories = list(ingest([tmp_path / "a", tmp_path / "b"], report, jobs=jobs))
    warnings = [p.message for p in report.problems if "seen before" in p.message]
    assert len(warnings) == sum("#" in t.session_id for t in trajectories) > len(trajectories) // 2
    renamed = next(m for m in warnings if original in m)
    assert renamed == f"session id '{original}-[REDACTED:github-token]' seen before; renamed with #2"
    assert all(redact_text(message)[0] == message and secret not in message for message in warnings)
