"""The A/B replay with the fake agent: placeholders, outcomes from real log formats, resume, statistics."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import orjson
import pytest
from scipy.stats import binomtest

from skillforge.errors import SkillforgeError
from skillforge.eval.ab import RESULTS_FILE, AbSpec, Arm, load_tasks, parse_command, run_ab
from skillforge.eval.stats import compare_arms, summarize_arm
from tests.eval.conftest import BASE, CHANGE_RULE, agent_command, write_skill

TASKS = ["change-flight", "cancel-flight", "baggage", "book-flight"]


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the fake agent appends each call to."""
    path = tmp_path / "agent-calls.txt"
    monkeypatch.setenv("FAKE_AGENT_CALLS", str(path))
    return path


def arms(tmp_path: Path) -> list[Arm]:
    return [
        Arm("none"),
        Arm("v1", write_skill(tmp_path / "v1", BASE)),
        Arm("v2", write_skill(tmp_path / "v2", BASE, CHANGE_RULE)),
    ]


def called(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def test_unknown_placeholder_is_an_error_before_anything_runs(tmp_path, calls):
    command = agent_command().replace("{skills}", "{skill_dir}")
    with pytest.raises(
        SkillforgeError, match=r"unknown placeholder \{skill_dir\}.*known: \{task\}, \{skills\}, \{out\}"
    ):
        run_ab("airline", arms(tmp_path), AbSpec(TASKS, command), tmp_path / "work")
    assert not calls.exists() and not (tmp_path / "work").exists()
    with pytest.raises(SkillforgeError, match="takes no conversion or format"):
        parse_command("agent {trial:03}")
    with pytest.raises(SkillforgeError, match="literal braces"):
        parse_command("agent {task")
    with pytest.raises(SkillforgeError, match="No closing quotation"):
        parse_command("agent 'unclosed {task}")
    assert parse_command("agent --json '{{\"a\": 1}}' {task}") == ["agent", "--json", '{{"a": 1}}', "{task}"]
    with pytest.raises(SkillforgeError, match="not found"):
        run_ab("airline", arms(tmp_path), AbSpec(TASKS, "no-such-agent-binary {task}"), tmp_path / "work")


def test_harbor_layout_gives_reward_and_tokens(tmp_path, calls):
    result = run_ab(
        "airline", arms(tmp_path), AbSpec(TASKS, agent_command("harbor"), trials=1, jobs=3), tmp_path / "work"
    )
    assert called(calls) == len(TASKS) * 3 and result.resumed == 0
    outcome = {(r["arm"], r["task"]): r["status"] for r in result.records}
    # only v2 holds the fare-rule guidance the change and cancel tasks need; book-flight needs none
    assert outcome[("v2", "change-flight")] == outcome[("v2", "cancel-flight")] == "success"
    assert outcome[("v1", "change-flight")] == outcome[("none", "cancel-flight")] == "failure"
    assert all(outcome[(arm, "book-flight")] == "success" for arm in ("none", "v1", "v2"))
    assert all(outcome[(arm, "baggage")] == "failure" for arm in ("none", "v1", "v2"))
    assert {r["source"] for r in result.records} == {"reward.txt"}
    assert all(
        r["trajectories"] == 1 and r["prompt_tokens"] == 1200 and r["cost_usd"] == 0.0045 for r in result.records
    )
    v2 = summarize_arm("v2", result.records)
    assert (v2.trials, v2.successes, v2.rate, v2.prompt_tokens, v2.completion_tokens) == (4, 3, 0.75, 4800, 1200)
    assert v2.cost_usd == pytest.approx(0.018)
    interval = binomtest(3, 4).proportion_ci(0.95, method="exact")
    assert (v2.ci_low, v2.ci_high) == pytest.approx((interval.low, interval.high))
    comparison = result.compare("v1", "v2")
    assert (comparison.up, comparison.down, comparison.same, comparison.delta) == (2, 0, 2, 0.5)
    assert sorted(f["task"] for f in comparison.flips) == ["cancel-flight", "change-flight"]
    assert comparison.p_value == pytest.approx(binomtest(2, 2, 0.5).pvalue)
    # the trial's skills folder held the exported skill, laid out as Claude Code reads it
    skills = {line.split()[1] for line in calls.read_text().splitlines()}
    assert any(Path(s).name == "skills" and Path(s).parent.name == ".claude" for s in skills)


@pytest.mark.parametrize(("log", "source"), [("tau-bench", "log:tau-bench"), ("none", "exit code")])
def test_outcome_from_a_tau_bench_record_or_the_exit_code(tmp_path, calls, log, source):
    result = run_ab("airline", arms(tmp_path)[1:], AbSpec(TASKS[:2], agent_command(log)), tmp_path / "work")
    assert {r["source"] for r in result.records} == {source}
    assert {(r["arm"], r["status"]) for r in result.records} == {("v1", "failure"), ("v2", "success")}
    if log == "none":
        assert {r["exit_code"] for r in result.records} == {0, 1}
    else:
        assert all(r["reward"] in (0.0, 1.0) and r["prompt_tokens"] is None for r in result.records)


def test_a_rerun_skips_finished_trials(tmp_path, calls):
    spec = AbSpec(TASKS, agent_command(), trials=2, jobs=2)
    work = tmp_path / "work"
    first = run_ab("airline", arms(tmp_path), spec, work)
    total = len(TASKS) * 3 * 2
    assert called(calls) == total == len(first.records)
    again = run_ab("airline", arms(tmp_path), spec, work)
    assert called(calls) == total and again.resumed == total
    assert [r["status"] for r in again.records] == [r["status"] for r in first.records]
    # a run killed with three trials unrecorded, the last line torn: only those three run again
    lines = (work / RESULTS_FILE).read_bytes().splitlines()
    (work / RESULTS_FILE).write_bytes(b"\n".join(lines[:-3]) + b"\n" + lines[-3][:20])
    resumed = run_ab("airline", arms(tmp_path), spec, work)
    assert called(calls) == total + 3 and resumed.resumed == total - 3
    assert sorted((r["arm"], r["task"], r["trial"]) for r in resumed.records) == sorted(
        (r["arm"], r["task"], r["trial"]) for r in first.records
    )
    assert [orjson.loads(line)["status"] for line in (work / RESULTS_FILE).read_bytes().splitlines()].count(
        "success"
    ) == sum(r["status"] == "success" for r in first.records)
    assert run_ab("airline", arms(tmp_path), spec, work).resumed == total and called(calls) == total + 3


def test_a_work_folder_of_another_evaluation_is_refused(tmp_path, calls):
    work = tmp_path / "work"
    run_ab("airline", arms(tmp_path), AbSpec(TASKS[:1], agent_command()), work)
    with pytest.raises(SkillforgeError, match="holds another evaluation"):
        run_ab("airline", arms(tmp_path), AbSpec(TASKS[:2], agent_command()), work)


def test_a_trial_past_its_timeout_is_killed_and_fails(tmp_path):
    command = f"{sys.executable} -c 'import time; time.sleep(60)' {{task}}"
    result = run_ab("airline", [Arm("none")], AbSpec(["slow"], command, timeout_s=0.5), tmp_path / "work")
    (record,) = result.records
    assert record["status"] == "failure" and record["exit_code"] is None
    assert record["detail"].startswith("timed out after 0.5 s") and record["duration_s"] < 30


def test_every_trial_failing_by_exit_code_is_flagged(tmp_path):
    result = run_ab(
        "airline",
        [Arm("none")],
        AbSpec(["t1", "t2"], f"{sys.executable} -c 'raise SystemExit(3)' {{task}}"),
        tmp_path / "work",
    )
    assert {r["detail"] for r in result.records} == {"exit code 3"}
    assert "check the agent command" in result.warnings()[0]


def test_task_list_errors_name_file_and_line(tmp_path):
    path = tmp_path / "tasks.txt"
    path.write_text("a\n# note\nb\na\n", encoding="utf-8")
    with pytest.raises(SkillforgeError, match=r"tasks.txt:4: task 'a' is listed twice \(first on line 1\)"):
        load_tasks(path)
    path.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(SkillforgeError, match="no task"):
        load_tasks(path)


def test_paired_statistics():
    records = [
        {"arm": arm, "task": f"t{i}", "trial": 1, "status": status}
        for i in range(8)
        for arm, status in (("a", "success" if i < 3 else "failure"), ("b", "success" if i < 6 else "failure"))
    ]
    comparison = compare_arms(records, "a", "b")
    assert (comparison.tasks, comparison.up, comparison.down, comparison.same) == (8, 3, 0, 5)
    assert comparison.delta == pytest.approx(3 / 8)
    assert comparison.ci_low is not None and comparison.ci_low <= 3 / 8 <= comparison.ci_high
    assert comparison.p_value == pytest.approx(0.25)  # exact McNemar: 3 discordant, all one way
    again = compare_arms(records, "a", "b")
    assert (again.ci_low, again.ci_high) == (comparison.ci_low, comparison.ci_high)  # a fixed seed
    same = compare_arms(
        [{**r, "arm": "c"} for r in records if r["arm"] == "a"] + [r for r in records if r["arm"] == "a"], "a", "c"
    )
    assert (same.delta, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert compare_arms(records, "a", "missing").delta is None


def test_ctrl_c_kills_running_trials_and_keeps_finished_ones(tmp_path):
    script = tmp_path / "agent.py"
    script.write_text(
        "import os, pathlib, sys, time\n"
        "open(os.path.join(sys.argv[2], 'pid'), 'w').write(str(os.getpid()))\n"
        "trials = pathlib.Path(sys.argv[2]).parents[2]\n"
        "while sys.argv[1] == 'fast' and len(list(trials.rglob('pid'))) < 3:  # the slow ones are running\n"
        "    time.sleep(0.05)\n"
        "time.sleep(0 if sys.argv[1] == 'fast' else 120)\n",
        encoding="utf-8",
    )
    spec = AbSpec(["fast", "slow-1", "slow-2"], f"{sys.executable} {script} {{task}} {{out}}", jobs=3)
    seen: list[dict] = []

    def interrupt(record: dict) -> None:
        seen.append(record)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_ab("airline", [Arm("none")], spec, tmp_path / "work", on_trial=interrupt)
    assert [r["task"] for r in seen] == ["fast"]
    lines = (tmp_path / "work" / RESULTS_FILE).read_bytes().splitlines()
    assert [orjson.loads(line)["task"] for line in lines] == ["fast"]
    pids = [int(p.read_text()) for p in (tmp_path / "work").rglob("pid") if "slow" in str(p)]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
