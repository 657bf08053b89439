"""``skillforge eval --retro`` end to end on tau-bench with the scripted judge: the split recorded by a
distill run, the gate, the stored results, the dry run, and the gate of an unstored candidate."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.config import ModelConfig
from skillforge.errors import SkillforgeError
from skillforge.eval.command import EvalOptions, dry_run, gate_candidate, record_gate, run_eval
from skillforge.eval.judge_client import judge_client
from skillforge.eval.results import load_eval, summary_line
from tests import scripted_llm
from tests.eval.conftest import BASE, RUN_ID, store_versions, write_skill
from tests.eval.judge_model import judge_responder
from tests.eval.test_retro import FLIGHTS, NEVER, TRANSFER


def opts(workdir: Path, **extra) -> EvalOptions:
    model = ModelConfig(model=extra.pop("model", "scripted/judge"), context_tokens=16000)
    return EvalOptions(store_dir=workdir / "skills", workspace=workdir / ".skillforge", model=model, **extra)


def test_retro_on_the_recorded_split(distilled, workdir):
    store, split, _ = distilled
    state = scripted_llm.install(judge_responder())
    report = run_eval("airline@v2", retro=True, ab=False, options=opts(workdir))
    new, old = report.retro
    assert (new.label, old.label) == ("v2", "v1")
    assert report.held_out.source == f"run {RUN_ID}" and len(report.held_out.trajectories) == len(split.held_out)
    judged = {j.session_id for j in new.judgements}
    assert judged == set(split.held_out_sessions)  # only held-out runs judge, never a distilled task's
    assert len(state.calls) == 2 * len(split.held_out)
    assert new.addressed > old.addressed == 0 and report.promote
    record = load_eval(store, "airline", 2)
    assert record["retro"]["addressed"] == new.addressed and record["retro"]["baseline"]["label"] == "v1"
    assert record["retro"]["held_out"]["trajectories"] == len(split.held_out)
    assert record["gate"]["retro"]["promote"] is True
    assert record["retro"]["judgements"][0]["session_id"] in judged
    line = summary_line(record)
    assert line.startswith(f"retro: coverage {new.addressed}/{new.failures} (") and ", v1 0 %)" in line
    assert line.endswith("retro gate passed")


def test_logs_given_lose_the_tasks_the_version_was_distilled_from(distilled, workdir, shared_traces):
    _, split, trajectories = distilled
    scripted_llm.install(judge_responder())
    report = run_eval(
        "airline@v2", retro=True, ab=False, options=opts(workdir, paths=[shared_traces / "tau-bench"], save=False)
    )
    assert report.held_out.source == "logs"
    assert {t.session_id for t in report.held_out.trajectories} == set(split.held_out_sessions)
    assert len(report.held_out.excluded) == len(split.kept) == len(trajectories) - len(split.held_out)
    assert report.record is None and load_eval(distilled[0], "airline", 2) is None


def test_dry_run_counts_judge_calls_and_cost(distilled, workdir):
    _, split, _ = distilled
    model = scripted_llm.register_price()
    estimate = dry_run("airline@v2", retro=True, ab=False, options=opts(workdir, model=model))
    assert estimate.held_out == len(split.held_out) and estimate.retro.calls == 2 * len(split.held_out)
    assert estimate.retro.prompt_tokens > 1000 * estimate.retro.calls  # a tau-bench run is thousands of tokens
    expected = (
        estimate.retro.prompt_tokens * scripted_llm.INPUT_USD_PER_TOKEN
        + estimate.retro.completion_tokens * scripted_llm.OUTPUT_USD_PER_TOKEN
    )
    assert estimate.priced and estimate.retro.cost_usd == pytest.approx(expected)
    assert estimate.agent_runs == 0


def test_gate_of_an_unstored_candidate_then_recorded_with_its_version(distilled, workdir):
    store, split, _ = distilled
    scripted_llm.install(judge_responder())
    harmful = write_skill(workdir / "candidate", BASE, FLIGHTS, TRANSFER, NEVER)
    report = gate_candidate(harmful, "airline", "retro", opts(workdir), held_out=split)
    gate = report.gates["retro"]
    assert (gate.candidate, gate.baseline, report.version) == ("candidate", "v2", None)
    assert not report.promote and any(r.startswith("harm rose") for r in gate.reasons)
    good = write_skill(workdir / "good", BASE, FLIGHTS, TRANSFER)
    shared = judge_client(ModelConfig(model="scripted/judge"), workdir / "elsewhere")  # distill's own client
    report = gate_candidate(good, "airline", "retro", opts(workdir), held_out=split.held_out, client=shared)
    assert report.promote and shared.totals.calls == 2 * len(split.held_out)
    stored = store.commit_version("airline", None, good, {"run": "next"})
    record = record_gate(report, workdir / "skills", stored.version)
    assert record["retro"]["label"] == "v3" and load_eval(store, "airline", 3)["gate"]["retro"]["promote"] is True
    with pytest.raises(SkillforgeError, match="needs held-out trajectories"):
        gate_candidate(good, "airline", "retro", opts(workdir), held_out=[])


def test_retro_needs_a_model_and_held_out_trajectories(workdir):
    store_versions(workdir / "skills", workdir / "stage", (BASE,))
    with pytest.raises(SkillforgeError, match="has no distill run"):
        run_eval("airline", retro=True, ab=False, options=opts(workdir))
    (workdir / ".skillforge").mkdir()
    with pytest.raises(SkillforgeError, match="needs a model"):
        run_eval("airline", retro=True, ab=False, options=opts(workdir, model="", paths=[Path(__file__)]))


def test_run_folders_kept_elsewhere(distilled, workdir):
    _, split, _ = distilled
    (workdir / ".skillforge" / "runs").rename(workdir / "my-runs")
    scripted_llm.install(judge_responder())
    with pytest.raises(SkillforgeError, match="has no distill run"):
        run_eval("airline@v2", retro=True, ab=False, options=opts(workdir, save=False))
    report = run_eval("airline@v2", retro=True, ab=False, options=opts(workdir, save=False, runs=workdir / "my-runs"))
    assert report.held_out.source == f"run {RUN_ID}" and len(report.held_out.trajectories) == len(split.held_out)
