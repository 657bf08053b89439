"""The gate end to end: stored versions, the fake agent, promotion and rejection, results in the store."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from skillforge.errors import SkillforgeError
from skillforge.eval.command import EvalOptions, dry_run, run_eval
from skillforge.eval.gate import GateThresholds, load_thresholds
from skillforge.eval.results import load_eval, summary_line
from skillforge.export.exporter import export_version
from tests.eval.conftest import BAGS_RULE, BASE, CHANGE_RULE, agent_command, store_versions


@pytest.fixture
def store(workdir: Path):
    """v1 without the fare-rule guidance, v2 with it, v3 without it again (and with a bags rule)."""
    return store_versions(workdir / "skills", workdir / "stage", (BASE,), (BASE, CHANGE_RULE), (BASE, BAGS_RULE))


def options(workdir: Path, tasks_file: Path, **extra) -> EvalOptions:
    extra.setdefault("agent_cmd", agent_command())
    return EvalOptions(store_dir=workdir / "skills", workspace=workdir / ".skillforge", tasks_file=tasks_file, **extra)


def test_the_gate_promotes_the_version_that_adds_the_guidance_and_rejects_the_one_that_removes_it(
    store, workdir, tasks_file
):
    report = run_eval("airline@v2", retro=False, ab=True, options=options(workdir, tasks_file, trials=2))
    gate = report.gates["ab"]
    assert report.promote and (gate.candidate, gate.baseline) == ("v2", "v1")
    assert (gate.figures["up"], gate.figures["down"], gate.figures["delta"]) == (2, 0, 0.5)
    assert [a["arm"] for a in report.ab.summaries()] == ["none", "v1", "v2"]
    assert [a["successes"] for a in report.ab.summaries()] == [2, 2, 6]  # book-flight always; v2 also change and cancel

    report = run_eval("airline@v3", retro=False, ab=True, options=options(workdir, tasks_file, trials=2))
    gate = report.gates["ab"]
    assert not report.promote and (gate.candidate, gate.baseline) == ("v3", "v2")
    assert gate.figures["down"] == 2 and gate.figures["up"] == 1  # loses change and cancel, gains baggage
    assert "worse by more than the 0 % allowed" in gate.reasons[0]

    # the evidence is stored with each version, beside provenance, never inside the skill folder
    v2, v3 = load_eval(store, "airline", 2), load_eval(store, "airline", 3)
    assert v2["gate"]["ab"]["promote"] is True and v3["gate"]["ab"]["promote"] is False
    assert (workdir / "skills" / ".eval" / "airline" / "v3.json").is_file()
    assert store.files("airline", 3) == ["SKILL.md"]
    assert git.Repo(workdir / "skills").head.commit.message.startswith("eval airline v3: ab\n")
    assert summary_line(v2) == "ab: 75 % [35-97] over 8 trials, +50.0 pts vs v1 (p 0.5); ab gate passed"
    assert summary_line(v3).endswith("vs v2 (p 1); ab gate failed")
    export = export_version("airline@v3", "claude-code", store_root=workdir / "skills", dest=workdir / "project")
    assert all(".eval" not in action.path for action in export.actions)


def test_thresholds_come_from_skillforge_toml(store, workdir, tasks_file):
    (workdir / "skillforge.toml").write_text("[llm]\nmodel = 'x'\n\n[eval]\nsuccess_drop = 0.5\n", encoding="utf-8")
    assert load_thresholds() == GateThresholds(success_drop=0.5)
    assert load_thresholds(success_drop=0.1) == GateThresholds(success_drop=0.1)  # an option wins
    report = run_eval("airline@v3", retro=False, ab=True, options=options(workdir, tasks_file))
    assert report.promote  # -25 pts is within the 50 allowed
    (workdir / "skillforge.toml").write_text("[eval]\nsucess_drop = 0.5\n", encoding="utf-8")
    with pytest.raises(SkillforgeError, match=r"skillforge.toml: unknown key\(s\) under \[eval\]: sucess_drop"):
        load_thresholds()
    (workdir / "skillforge.toml").write_text("[eval]\nharm_rise = 5\n", encoding="utf-8")
    with pytest.raises(SkillforgeError, match=r"\[eval\] harm_rise must be a number between 0 and 1"):
        load_thresholds()


def test_dry_run_counts_agent_runs_and_what_is_done(store, workdir, tasks_file):
    opts = options(workdir, tasks_file, trials=3)
    estimate = dry_run("airline@v2", retro=False, ab=True, options=opts)
    assert (estimate.agent_runs, estimate.agent_runs_done, estimate.baseline) == (4 * 3 * 3, 0, 1)
    run_eval("airline@v2", retro=False, ab=True, options=opts)
    assert dry_run("airline@v2", retro=False, ab=True, options=opts).agent_runs_done == 36


def test_bad_requests_are_clear_errors(store, workdir, tasks_file):
    with pytest.raises(SkillforgeError, match="--retro, --ab, or both"):
        run_eval("airline@v2", retro=False, ab=False, options=options(workdir, tasks_file))
    with pytest.raises(SkillforgeError, match="unknown placeholder"):
        run_eval("airline@v2", retro=False, ab=True, options=options(workdir, tasks_file, agent_cmd="agent {tasks}"))
    with pytest.raises(SkillforgeError, match="has no v9"):
        run_eval("airline@v9", retro=False, ab=True, options=options(workdir, tasks_file))
    with pytest.raises(SkillforgeError, match="needs --tasks FILE and --agent-cmd"):
        run_eval("airline", retro=False, ab=True, options=EvalOptions(store_dir=workdir / "skills"))
    with pytest.raises(SkillforgeError, match="must be older"):
        run_eval("airline@v2", retro=False, ab=True, options=options(workdir, tasks_file, baseline=3))
    assert not (workdir / ".skillforge").exists()  # nothing ran
