"""``distill`` with an LLM analyst (the scripted model): dry run, cache, budget stop, resume after
Ctrl-C or a kill during the analysis, and the one-line hint when no model is configured. The build
stage's own runs (call counts, budget and kills during consolidation) are in test_distill_build.py."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from rich.progress import Progress
from typer.testing import CliRunner

from skillforge.cli import app
from skillforge.config import ModelConfig
from skillforge.distill.estimate import estimate
from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import RunInterrupted, distill
from skillforge.distill.runfolder import RunFolder
from skillforge.llm.tokens import count_tokens
from tests.conftest import REPO
from tests.scripted_llm import install, is_analyst_prompt, pipeline_responder, read_prompt, register_price

SAMPLE_PASSES = 18 + 4  # 18 trajectories, 4 tau-bench tasks seen both succeeding and failing


def _options(sample_traces: Path, model: str = "scripted/test", concurrency: int = 4, **kwargs) -> DistillOptions:
    return DistillOptions(paths=[sample_traces], model=ModelConfig(model=model, concurrency=concurrency), **kwargs)


def _quiet() -> Progress:
    return Progress(disable=True)


def _analysed_sessions(state) -> list[str]:
    """Sessions of the single-trajectory passes the model was asked to do (repairs excluded)."""
    views = [read_prompt(call.messages) for call in state.calls if is_analyst_prompt(call.messages)]
    return [next(iter(v.sessions)) for v in views if v.repair is None and v.analyst != "comparative"]


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})}, catch_exceptions=False)


def test_dry_run_calls_nothing_and_matches_the_real_run(sample_traces: Path, workdir: Path) -> None:
    model = register_price()
    log: list[str] = []
    state = install(pipeline_responder(log=log))
    result = _cli("distill", str(sample_traces), "--model", model, "--dry-run")
    assert result.exit_code == 0, result.output
    assert state.calls == [] and not (workdir / ".skillforge").exists() and not (workdir / "skills").exists()
    number = r"\s+│\s+([\d,]+)"
    rows = {m.group(1): m.groups() for m in re.finditer(rf"│ (analyse|compare|propose|merge|translate|fix){number}{number}{number}{number}\s+│\s+([\d.]+|unknown)", result.output)}
    assert set(rows) == {"analyse", "compare", "propose", "merge", "translate", "fix"}
    assert rows["analyse"][1:3] == ("18", "0") and rows["compare"][1] == "4"
    # lessons are not written yet: at most 3 per analyst pass, in batches of 4, merged 5 at a time
    assert rows["propose"][1] == str(math.ceil(3 * 22 / 4)) and rows["merge"][1] == "5"
    assert rows["translate"][1] == "1" and rows["fix"][1] == "3"  # bounds
    assert all(float(rows[stage][5]) > 0 for stage in rows) and "nothing was called" in result.output
    assert re.search(r"total \(at most\)\s+│\s+48\s+│", result.output)

    plan = estimate(_options(sample_traces, model), _quiet())
    done = distill(_options(sample_traces, model), _quiet())
    analysts = [c for c in state.calls if is_analyst_prompt(c.messages)]
    sent = Counter("compare" if read_prompt(c.messages).analyst == "comparative" else "analyse" for c in analysts)
    stages = {s.stage: s for s in plan.stages}
    assert sent == {"analyse": stages["analyse"].calls, "compare": stages["compare"].calls}
    # the estimate counted the analyst prompts that were then sent (prompts cut to fit the 16k
    # context as the sum of their parts: within 1 %), and bounds the build's calls
    sent_tokens = sum(count_tokens(model, messages=c.messages) for c in analysts)
    assert abs(stages["analyse"].prompt_tokens + stages["compare"].prompt_tokens - sent_tokens) <= 0.01 * sent_tokens
    calls = done.build.report.calls
    assert 0 < calls["propose"] == log.count("propose") <= stages["propose"].calls
    assert calls["merge"] == log.count("merge") <= stages["merge"].calls
    # after the run everything is cached: the dry run says so
    again = {s.stage: s for s in estimate(_options(sample_traces, model), _quiet()).stages}
    assert again["analyse"].calls == 0 and again["analyse"].cached == 18 and again["compare"].cached == 4


def test_rerun_on_the_same_logs_makes_zero_calls(sample_traces: Path, workdir: Path) -> None:
    state = install(pipeline_responder())
    first = distill(_options(sample_traces), _quiet())
    build_calls = first.build.report.calls["total"]
    assert first.version is not None and first.version.version == 1 and build_calls > 0
    assert len(state.calls) == SAMPLE_PASSES + build_calls
    assert first.manifest["status"] == "done" and first.manifest["usage"]["calls"] == SAMPLE_PASSES + build_calls
    assert first.manifest["stages"]["analyse"]["calls"] == SAMPLE_PASSES and first.manifest["stages"]["build"]["calls"] == build_calls
    state = install(pipeline_responder())
    second = distill(_options(sample_traces), _quiet())
    assert state.calls == []
    # deepening v1 with the same lessons: all of them weighed already, nothing is proposed again,
    # and a v2 equal to v1 is not stored
    assert second.version is None and second.start.mode == "store"
    assert second.not_stored and "nothing new: the skill would equal" in second.not_stored
    assert second.manifest["status"] == "nothing-new"
    assert second.manifest["usage"]["calls"] == 0 and second.manifest["usage"]["cached"] == SAMPLE_PASSES
    assert second.build.report.calls["total"] == 0 and second.build.report.lessons == 0
    assert [lesson.id for lesson in second.lessons] == [lesson.id for lesson in first.lessons]
    run = second.run
    assert run is not None and (run.root / "lessons.jsonl").read_bytes() == (first.run.root / "lessons.jsonl").read_bytes()
    manifest = orjson.loads((run.root / "manifest.json").read_bytes())
    assert manifest["inputs"] and all(len(item["sha256"]) == 64 for item in manifest["inputs"])
    assert set(manifest["templates"]) == {"failure", "success", "judge", "comparative", "repair_grounding", "propose", "merge", "translate", "fix"}
    judged = [orjson.loads(line) for line in (run.root / "trajectories.jsonl").read_bytes().splitlines()]
    assert sum(t["outcome"]["origin"] == "judge" for t in judged) == 2  # the Claude Code sessions


def test_budget_stops_cleanly_and_resume_finishes(sample_traces: Path, workdir: Path) -> None:
    model = register_price()
    state = install(pipeline_responder())
    stopped = _cli("distill", str(sample_traces), "--model", model, "--concurrency", "1", "--budget", "0.02")
    assert stopped.exit_code == 2, stopped.output
    assert "budget" in stopped.output and "--resume" in stopped.output
    first_calls = _analysed_sessions(state)
    assert 0 < len(first_calls) < 18 and not (workdir / "skills").exists()
    run = RunFolder.find(workdir / ".skillforge" / "runs", "latest")
    manifest = run.read_manifest()
    assert manifest["status"] == "stopped" and manifest["usage"]["refused"] >= 1
    assert 0 < manifest["usage"]["cost_usd"] <= 0.02
    journal = run.read_passes()
    assert sorted(r["sessions"][0] for r in journal.values()) == sorted(first_calls)
    kept = [lesson["id"] for r in journal.values() for lesson in r["lessons"]]
    assert [lesson.id for lesson in run.read_lessons()] == list(dict.fromkeys(kept)) and kept

    state = install(pipeline_responder())
    resumed = _cli("distill", "--resume", run.run_id, "-q")
    assert resumed.exit_code == 0, resumed.output
    assert "stored sample-traces v1" in resumed.output
    second_calls = _analysed_sessions(state)
    assert not set(second_calls) & set(first_calls)  # no finished call repeated
    assert Counter(first_calls + second_calls) == Counter({s: 1 for s in set(first_calls + second_calls)}) and len(first_calls + second_calls) == 18
    manifest = run.read_manifest()
    assert manifest["status"] == "done" and manifest["attempts"] == 2
    assert manifest["usage"]["calls"] == len(first_calls) + len(state.calls)
    assert manifest["analysis"]["resumed_passes"] == len(first_calls)


def test_ctrl_c_then_resume_repeats_no_finished_call(sample_traces: Path, workdir: Path) -> None:
    answer = pipeline_responder()

    def interrupt_at_seventh(messages, index):
        if index == 6:
            raise KeyboardInterrupt
        return answer(messages, index)

    state = install(interrupt_at_seventh)
    with pytest.raises(RunInterrupted, match="--resume"):
        distill(_options(sample_traces, concurrency=1), _quiet())
    interrupted = _analysed_sessions(state)
    run = RunFolder.find(workdir / ".skillforge" / "runs", "latest")
    assert run.read_manifest()["status"] == "interrupted"
    finished = {r["sessions"][0] for r in run.read_passes().values()}
    assert len(finished) == 6 and finished == set(interrupted[:6])

    state = install(pipeline_responder())
    result = distill(DistillOptions(resume=run.run_id), _quiet())
    assert result.version is not None
    again = _analysed_sessions(state)
    assert not finished & set(again) and sorted(finished | set(again)) == sorted({t for t in interrupted + again})
    assert len(finished) + len(again) == 18


KILLED_RUN = """
import sys
from tests.scripted_llm import install, pipeline_responder
install(pipeline_responder(), hang_from=int(sys.argv[2]))
from skillforge.cli import main
sys.argv = ["skillforge", "distill", sys.argv[1], "--model", "scripted/test", "--concurrency", "1", "-q"]
main()
"""


def test_killed_run_resumes_without_repeating_finished_calls(sample_traces: Path, workdir: Path) -> None:
    answered = 5
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(sample_traces), str(answered)], cwd=workdir, env=env)
    journal = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            found = list((workdir / ".skillforge" / "runs").glob("*/passes.jsonl"))
            if found and len(found[0].read_bytes().splitlines()) >= answered:
                journal = found[0]
                break
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert journal is not None, "the run made no progress"
    run = RunFolder(journal.parent)
    assert run.read_manifest()["status"] == "running"  # killed: nobody wrote a final status
    finished = {r["sessions"][0] for r in run.read_passes().values()}
    assert len(finished) == answered

    state = install(pipeline_responder())
    result = distill(DistillOptions(resume="latest"), _quiet())
    assert result.version is not None and result.run is not None and result.run.run_id == run.run_id
    again = _analysed_sessions(state)
    assert not finished & set(again) and len(again) == 18 - answered


def test_no_model_prints_one_line_on_how_to_use_one(sample_traces: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SKILLFORGE_MODEL", "SKILLFORGE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    result = _cli("distill", str(sample_traces), "-q")
    assert result.exit_code == 0, result.output
    hints = [line for line in result.output.splitlines() if "no model configured" in line]
    assert len(hints) == 1 and "--model" in hints[0] and "[llm]" in hints[0]
    assert "stored sample-traces v1" in result.output


def test_resume_refuses_a_finished_run_and_an_unknown_one(sample_traces: Path, workdir: Path) -> None:
    install(pipeline_responder())
    done = distill(_options(sample_traces), _quiet())
    from skillforge.errors import SkillforgeError

    with pytest.raises(SkillforgeError, match="already finished"):
        distill(DistillOptions(resume=done.run.run_id), _quiet())
    with pytest.raises(SkillforgeError, match="no run 'nope'"):
        distill(DistillOptions(resume="nope"), _quiet())


def test_small_context_prompts_fit_and_the_cuts_are_reported(sample_traces: Path, workdir: Path) -> None:
    """--context-tokens 4096 (a small local model): every prompt fits beside the reply, and the
    run says which trajectories were shortened, in the journal, the manifest and on the terminal."""
    state = install(pipeline_responder())
    result = _cli("distill", str(sample_traces), "--model", "scripted/test", "--context-tokens", "4096", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    first_round = [c.messages for c in state.calls if is_analyst_prompt(c.messages) and read_prompt(c.messages).repair is None]
    assert first_round and all(count_tokens("scripted/test", messages=m) <= 4096 - 1000 for m in first_round)
    run = RunFolder.find(workdir / ".skillforge" / "runs", "latest")
    records = list(run.read_passes().values())
    shortened = {s: cut for r in records for s, cut in r["shortened"].items()}
    assert shortened and all(cut["cut_blocks"] or cut["omitted_steps"] for cut in shortened.values())
    totals = run.read_manifest()["analysis"]["shortened"]
    assert totals["trajectories"] == len(shortened) and totals["omitted_steps"] == sum(len(r["shortened"][s]["omitted_steps"]) for r in records for s in r["shortened"])
    assert re.search(rf"to fit the context of 4,096 tokens, {len(shortened)} trajector(y was|ies were) shortened", " ".join(result.output.split()))
    # nothing was shortened at a roomy context
    state = install(pipeline_responder())
    roomy = _cli("distill", str(sample_traces / "claude-code" / "short.jsonl"), "--model", "scripted/test", "--context-tokens", "32000", "--skill", "roomy")
    assert roomy.exit_code == 0 and "shortened" not in roomy.output
