"""``skillforge eval`` and ``distill --holdout --gate`` from the command line, in-process
(``tests/cli_runner.py``), with the scripted judge (``tests/eval/judge_model.py``) and the fake agent
(``tests/eval/fake_agent.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson

from skillforge.eval.split import load_split, split_holdout
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.store.git_store import SkillStore
from skillforge.trajectory import read_trajectories
from tests import scripted_llm
from tests.cli_runner import run
from tests.eval.conftest import BASE, CHANGE_RULE, RUN_ID, agent_command, store_versions, write_skill
from tests.eval.judge_model import judge_responder
from tests.scripted_llm import read_prompt

JUDGE = ("--model", "scripted/judge", "--context-tokens", "16000")


def _only_run(workdir: Path, before: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
    runs = [p for p in (workdir / ".skillforge" / "runs").iterdir() if p.name not in before]
    assert len(runs) == 1, runs
    return runs[0]


def _judged_sessions(state) -> set[str]:
    return {next(iter(read_prompt(call.messages[:2]).sessions)) for call in state.calls}


def test_distill_holdout_and_retro_gate_on_tau_bench(shared_traces, workdir):
    logs = str(shared_traces / "tau-bench")
    state = scripted_llm.install(judge_responder())
    plan = run("distill", logs, "--skill", "airline", "--analyst", "heuristic", *JUDGE, "--holdout", "0.2",
               "--gate", "retro", "--dry-run", "--json", "-q", cwd=workdir)  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)
    gate_row = next(stage for stage in planned["stages"] if stage["stage"] == "gate")
    assert planned["trajectories"] == 140 and state.calls == [] and not (workdir / ".skillforge" / "runs").exists()
    assert (gate_row["calls"], gate_row["cached"]) == (60, 0) and gate_row["prompt_tokens"] > 60 * 1000
    assert gate_row["note"].startswith("retro: 60 held-out trajectories × 1 versions")

    done = run("distill", logs, "--skill", "airline", "--analyst", "heuristic", *JUDGE, "--holdout", "0.2",
               "--gate", "retro", "-q", cwd=workdir)  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder = _only_run(workdir)
    record, held_out = load_split(folder)
    kept = read_trajectories(folder / "trajectories.jsonl")
    # the split is by task, recorded, deterministic, and no task is on both sides
    assert record["by"] == "task" and record["counts"] == {"held_out": 60, "kept": 140, "held_out_keys": 15}
    assert {t.task_id for t in held_out}.isdisjoint({t.task_id for t in kept})
    again = split_holdout(ingest([Path(logs)], IngestReport()), 0.2)
    assert record["held_out_keys"] == again.held_out_keys and record["held_out_sessions"] == again.held_out_sessions
    # only held-out trajectories were judged, once each (no earlier version: candidate against no skill)
    assert len(state.calls) == 60 and _judged_sessions(state) == {t.session_id for t in held_out}
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    gate = manifest["gate"]["retro"]
    figures = gate["figures"]["candidate"]
    assert gate["promote"] and (gate["candidate"], gate["baseline"]) == ("candidate", "none")
    assert figures["failures"] == sum(t.outcome.status == "failure" for t in held_out) == 41
    assert manifest["holdout"]["counts"]["held_out"] == 60 and manifest["status"] == "done"
    addressed = figures["addressed"]
    coverage, share = f"coverage {addressed}/41", f"coverage {100 * addressed / 41:.0f} % ({addressed}/41)"
    assert 0 < addressed < 41 and f"retro gate passed (candidate vs none): {share} vs none 0 %" in done.stdout
    assert "held out: 60 trajectories of 15 tasks" in done.stderr
    # the run report and the log show the gate's decision and figures
    report = run("report", "latest", cwd=workdir)
    assert "held out: 60 trajectories (15 tasks, fraction 0.2)" in report.stdout
    assert f"retro gate passed (candidate vs none): {share}" in report.stdout
    log = run("log", "airline", cwd=workdir)
    assert f"eval: retro: {coverage} (" in log.stdout and log.stdout.rstrip().endswith("retro gate passed")
    stored = json.loads(run("log", "airline", "--json", cwd=workdir).stdout)
    assert stored[0]["eval"].startswith(f"retro: {coverage}")

    # a hand-written start that forbids a tool the successful runs needed: harm rises, nothing stored
    mine = write_skill(workdir / "mine", BASE, "- Never call get_reservation_details; ask the user for the details.")
    rejected = run("distill", logs, "--from", str(mine), "--analyst", "heuristic", *JUDGE, "--holdout", "0.2",
                   "--gate", "retro", "-q", cwd=workdir)  # fmt: skip
    assert rejected.returncode == 4, rejected.stderr
    assert "retro gate failed (candidate vs v1)" in rejected.stdout and "harm rose" in rejected.stdout
    assert "error: not stored: the retro gate rejected the candidate (" in rejected.stderr
    assert [v.version for v in SkillStore(workdir / "skills").versions("airline")] == [1]
    second = _only_run(workdir, {folder.name})
    assert orjson.loads((second / "manifest.json").read_bytes())["status"] == "rejected"
    assert "Never call get_reservation_details" in (second / "skill" / "airline" / "SKILL.md").read_text()


def test_eval_retro_from_the_command_line(distilled, workdir):
    store, split, _ = distilled
    state = scripted_llm.install(judge_responder())
    held = len(split.held_out)
    plan = run("eval", "airline@v2", "--retro", *JUDGE, "--dry-run", cwd=workdir)
    assert plan.returncode == 0, plan.stderr
    assert f"retro: {2 * held} judge calls (0 cached) for {held} held-out trajectories × v2 and v1" in plan.stdout
    assert "nothing was called" in plan.stdout and state.calls == []

    done = run("eval", "airline@v2", "--retro", *JUDGE, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert len(state.calls) == 2 * held and "airline v2 against v1" in done.stdout
    assert f"held out: {held} trajectories from run" in done.stdout
    assert re.search(r"retro gate passed \(v2 vs v1\): coverage \d+ % \(\d+/\d+\) vs v1 0 %", done.stdout)
    assert re.search(r"v2 addresses the failure of \S+ \(step \d+: .*SKILL\.md:\d+ ", done.stdout)
    assert "stored with the version: skills/.eval/airline/v2.json" in done.stdout
    shown = run("show", "airline@v2", cwd=workdir)
    assert re.search(r"eval: retro: coverage \d+/\d+ \(\d+ %, v1 0 %\)", shown.stdout)

    state = scripted_llm.install(judge_responder())
    as_json = run("eval", "airline@v2", "--retro", *JUDGE, "--json", "--no-save", "-q", cwd=workdir)
    document = json.loads(as_json.stdout)
    assert state.calls == []  # answered from the cache
    assert [r["label"] for r in document["retro"]] == ["v2", "v1"] and document["gates"]["retro"]["promote"]
    assert document["held_out"]["trajectories"] == held and document["stored"] is False

    store.commit_version("airline", None, write_skill(workdir / "v3", BASE), {"run": RUN_ID})  # the rules removed
    worse = run("eval", "airline@v3", "--retro", *JUDGE, cwd=workdir)
    assert worse.returncode == 4 and "retro gate failed (v3 vs v2): coverage fell" in worse.stdout
    assert "error: the retro gate did not pass" in worse.stderr


def test_eval_ab_from_the_command_line(workdir, tasks_file):
    store_versions(workdir / "skills", workdir / "stage", (BASE,), (BASE, CHANGE_RULE), (BASE,))
    ab = ("--ab", "--tasks", str(tasks_file), "--agent-cmd", agent_command(), "--trials", "2")
    plan = run("eval", "airline@v2", *ab, "--dry-run", cwd=workdir)
    assert plan.returncode == 0 and "ab: 24 agent runs (0 finished earlier, 24 to run)" in plan.stdout

    done = run("eval", "airline@v2", *ab, "-q", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\bv2\s+│\s+8\s+│\s+6\s+│\s+75 %\s+│\s+35 %-97 %", done.stdout)
    assert "v2 vs v1: +50.0 pts" in done.stdout and "2 up, 0 down, 2 same" in done.stdout
    assert "ab gate passed (v2 vs v1)" in done.stdout
    assert "ab: 24 agent runs (24 finished earlier, 0 to run)" in run("eval", "airline@v2", *ab, "--dry-run",
                                                                       cwd=workdir).stdout  # fmt: skip
    log = run("log", "airline", cwd=workdir)
    assert "eval: ab: 75 % [35-97] over 8 trials, +50.0 pts vs v1 (p 0.5); ab gate passed" in log.stdout

    removed = run("eval", "airline@v3", *ab, "-q", cwd=workdir)
    assert removed.returncode == 4 and "ab gate failed (v3 vs v2)" in removed.stdout
    assert "v3 vs v2: -50.0 pts" in removed.stdout

    unknown = run("eval", "airline@v2", "--ab", "--tasks", str(tasks_file), "--agent-cmd", "agent {task} {nope}",
                  cwd=workdir)  # fmt: skip
    assert unknown.returncode == 1 and "{nope}" in unknown.stderr and "error:" in unknown.stderr


def test_distill_ab_gate_promotes_the_guidance_and_rejects_its_removal(sample_traces, workdir, tasks_file):
    logs = str(sample_traces / "tau-bench")
    gate = ("--analyst", "heuristic", "--gate", "ab", "--tasks", str(tasks_file), "--agent-cmd", agent_command(), "-q")
    without = write_skill(workdir / "without", BASE)
    first = run("distill", logs, "--from", str(without), *gate, cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert "ab gate passed (candidate vs none)" in first.stdout  # no guidance: not worse than no skill
    holding = write_skill(workdir / "holding", BASE, CHANGE_RULE)
    second = run("distill", logs, "--from", str(holding), *gate, cwd=workdir)
    assert second.returncode == 0, second.stderr
    assert "ab gate passed (candidate vs v1): success rate +50.0 pts vs v1 over 4 tasks" in second.stdout
    removed = run("distill", logs, "--from", str(without), *gate, cwd=workdir)
    assert removed.returncode == 4 and "ab gate failed (candidate vs v2)" in removed.stdout
    assert "worse by more than the 0 % allowed" in removed.stderr
    store = SkillStore(workdir / "skills")
    assert [v.version for v in store.versions("airline")] == [1, 2]
    assert "fare rules" in store.read_file("airline", 2, "SKILL.md")
    log = run("log", "airline", cwd=workdir)
    assert "ab gate passed" in log.stdout and log.stdout.count("eval: ab:") == 2


def test_a_budget_stop_in_the_gate_resumes_without_repeating_a_judgement(shared_traces, workdir):
    logs = str(shared_traces / "tau-bench")
    model = scripted_llm.register_price()
    state = scripted_llm.install(judge_responder())
    flags = ("--analyst", "heuristic", "--model", model, "--concurrency", "1", "--holdout", "0.2", "--gate", "retro")
    stopped = run("distill", logs, "--skill", "airline", *flags, "--budget", "0.01", "-q", cwd=workdir)
    assert stopped.returncode == 2, stopped.stderr
    assert "the budget of $0.01 was reached during the gate" in stopped.stderr and "--resume" in stopped.stderr
    assert "retro gate failed (candidate vs none)" in stopped.stdout and "incomplete" in stopped.stdout
    folder = _only_run(workdir)
    assert orjson.loads((folder / "manifest.json").read_bytes())["status"] == "stopped"
    assert not (workdir / "skills" / "airline").exists()
    first = _judged_sessions(state)
    assert 0 < len(first) < 60

    state = scripted_llm.install(judge_responder())
    resumed = run("distill", "--resume", folder.name, "--budget", "10", "-q", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert "retro gate passed (candidate vs none)" in resumed.stdout and "stored airline v1" in resumed.stdout
    assert len(state.calls) == 60 - len(first) and _judged_sessions(state).isdisjoint(first)  # cached ones kept
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    assert manifest["status"] == "done" and manifest["gate"]["retro"]["promote"]
