"""``distill`` end to end through the build stage (propose, merge, apply, validate, store): the offline
path on real corpora, the scripted model on 200 tau-bench runs, deepening with --from, the budget and
Ctrl-C/kill during consolidation, the early name check, an invalid skill, and ``skillforge report``."""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from rich.progress import Progress
from typer.testing import CliRunner

from skillforge.cli import app
from skillforge.config import ModelConfig
from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import distill
from skillforge.distill.runfolder import RunFolder
from skillforge.errors import SkillforgeError
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.llm.client import LLMClient
from skillforge.llm.types import LLMSettings
from skillforge.merge.consolidate import expected_tree
from skillforge.merge.propose import plan_proposals
from skillforge.skill.document import SkillDoc
from skillforge.skill.validate import validate_skill
from skillforge.store.git_store import SkillStore
from tests.conftest import REPO, SAMPLE_TRACES, require_shared_traces
from tests.distill.test_build import HUMAN_GUIDE, HUMAN_SKILL, gotcha_edits, new_api_edit, write_human_skill
from tests.merge.skill_model import propose_with_broken_link, responder, useless_fix
from tests.readiness import as_in_a_terminal, wait_until
from tests.scripted_llm import install, is_analyst_prompt, pipeline_responder, register_price


def _quiet() -> Progress:
    return Progress(disable=True)


@dataclass
class Ran:
    exit_code: int
    output: str


def _cli(*args: str) -> Ran:
    """Run the CLI in-process (the scripted model is installed here); a SkillforgeError becomes exit
    code 1 and an ``error:`` line, as :func:`skillforge.cli.main` does."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if isinstance(result.exception, SkillforgeError):
        return Ran(1, result.output + f"error: {result.exception}\n")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.output)


def _llm(paths, model: str = "scripted/build", concurrency: int = 8, **kwargs) -> DistillOptions:
    return DistillOptions(paths=list(paths), model=ModelConfig(model=model, concurrency=concurrency), **kwargs)


def _assert_stored_with_real_provenance(store_dir: Path, name: str, logs: Path, tmp_path: Path) -> None:
    """The latest stored version validates, and every provenance span points at real lines of the
    stored files holding its item, whose lessons cite real steps of the input trajectories."""
    store = SkillStore(store_dir)
    folder = store.materialize(name, None, tmp_path / "materialized")
    assert validate_skill(folder).ok
    provenance = store.provenance(name)
    assert provenance is not None and provenance.spans and provenance.version == store.latest_version(name)
    steps = {(t.session_id, s.step_id) for t in ingest([logs], IngestReport()) for s in t.steps}
    for span in provenance.spans:
        lines = (folder / span.file).read_text(encoding="utf-8").splitlines()
        assert 1 <= span.start <= span.end <= len(lines), span
        text = "\n".join(lines[span.start - 1 : span.end])
        lessons = [provenance.lessons[i] for i in span.lesson_ids]
        assert any(lesson["title"].rstrip(".")[:40] in text for lesson in lessons), (span, text)
        cited = {(e["session_id"], step) for lesson in lessons for e in lesson["evidence"] for step in e["step_ids"]}
        assert cited and cited <= steps
        assert span.support == len({session for session, _ in cited})


# --- the offline path ----------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus", ["sample_traces", "tau-bench", "claude-code"])
def test_offline_distill_stores_a_valid_version_with_provenance(corpus: str, workdir: Path, tmp_path: Path) -> None:
    logs = SAMPLE_TRACES if corpus == "sample_traces" else require_shared_traces(corpus)
    name = {"sample_traces": "offline-sample", "tau-bench": "offline-airline", "claude-code": "offline-sessions"}[
        corpus
    ]
    result = distill(DistillOptions(paths=[logs], skill_name=name), _quiet())
    assert result.analyst == "heuristic" and result.version is not None and result.version.version == 1
    assert result.build.report.mode == "offline" and result.build.report.calls["total"] == 0
    _assert_stored_with_real_provenance(Path("skills"), name, logs, tmp_path)
    info = result.version.info
    assert info["run"] == result.run.run_id and info["lessons"] == len(result.lessons) and info["edits_applied"] > 0
    # the build's files live in the same run folder as the analysts'
    root = result.run.root
    for relative in (
        "manifest.json",
        "trajectories.jsonl",
        "lessons.jsonl",
        "final_patch.json",
        "validation.json",
        "provenance.json",
        "consolidation.json",
        f"skill/{name}/SKILL.md",
        f"start/{name}/SKILL.md",
    ):
        assert (root / relative).is_file(), relative
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    assert (
        manifest["status"] == "done"
        and manifest["consolidation"]["status"] == "ok"
        and manifest["start"]["mode"] == "seed"
    )


# --- the scripted model on 200 tau-bench runs -----------------------------------------------------------


def test_scripted_distill_on_tau_bench_makes_the_calls_of_the_formula(
    shared_traces: Path, workdir: Path, tmp_path: Path
) -> None:
    log: list[str] = []
    state = install(pipeline_responder(log=log))
    clock = time.monotonic()
    result = distill(_llm([shared_traces / "tau-bench"], skill_name="airline-support"), _quiet())
    seconds = time.monotonic() - clock
    analysis = result.manifest["analysis"]
    passes = sum(analysis["passes"].values())
    lessons = len(result.lessons)
    batch, fan_in = 4, 5
    proposals = math.ceil(lessons / batch)
    merges, depth = expected_tree(proposals, fan_in)
    print(
        f"\ntau-bench via distill: {result.trajectories} trajectories, {passes} analyst passes, {lessons} lessons, "
        f"{proposals} proposals, {merges} merges (depth {depth}); {len(state.calls)} scripted calls in {seconds:.1f} s"
    )
    assert (
        result.trajectories == 200 and passes - analysis["passes"].get("comparative", 0) == 200
    )  # one pass per trajectory
    assert log.count("analyst") == passes and log.count("propose") == proposals and log.count("merge") == merges
    assert len(state.calls) == passes + proposals + merges  # no translate or fix needed
    report = result.build.report
    assert (
        depth == math.ceil(math.log(proposals, fan_in)) == report.calls["merge_depth"] == report.calls["expected_depth"]
    )
    assert report.calls["propose"] == proposals and report.calls["merge"] == merges
    assert result.build.ok and result.version is not None and result.version.version == 1
    assert (
        result.manifest["stages"]["analyse"]["calls"] == passes
        and result.manifest["stages"]["build"]["calls"] == proposals + merges
    )
    assert result.manifest["consolidation"]["calls"]["total"] == proposals + merges
    _assert_stored_with_real_provenance(Path("skills"), "airline-support", shared_traces / "tau-bench", tmp_path)


# --- deepening a hand-written skill ---------------------------------------------------------------------


def _deepen(prompt: str):
    ids, edits = gotcha_edits(prompt)
    edits.append(new_api_edit(ids))
    return {"reasoning": "deepen", "edits": edits}


def test_deepening_a_hand_written_skill_keeps_every_untargeted_line(workdir: Path) -> None:
    source = workdir / "careful-agent"
    write_human_skill(source)
    guide = HUMAN_GUIDE
    install(pipeline_responder(build=responder({"propose": _deepen})))
    result = _cli(
        "distill",
        str(SAMPLE_TRACES),
        "--from",
        str(source),
        "--model",
        "scripted/build",
        "--propose-batch",
        "100",
        "--min-support",
        "1",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert "stored careful-agent v1" in result.output and str(source.resolve()) in result.output
    stored = workdir / "skills" / "careful-agent"
    out_lines = (stored / "SKILL.md").read_bytes().splitlines(keepends=True)
    remaining = iter(out_lines)
    for line in HUMAN_SKILL.encode().splitlines(keepends=True):
        if line == b"- Use the old API.\n":  # the one line an edit targeted
            continue
        assert any(candidate == line for candidate in remaining), f"human line lost or changed: {line!r}"
    text = b"".join(out_lines).decode()
    assert "- Use the new API." in text and "- Use the old API." not in text and "- lesson L-" in text
    assert (stored / "references" / "guide.md").read_bytes() == guide
    assert (source / "SKILL.md").read_bytes() == HUMAN_SKILL.encode()  # the source folder is not touched
    # --skill must agree with the deepened skill's name
    refused = _cli("distill", str(SAMPLE_TRACES), "--from", str(source), "--skill", "other-name", "-q")
    assert refused.exit_code == 1 and "keeps its name" in refused.output


# --- budget, Ctrl-C and kill during consolidation --------------------------------------------------------


def _digest(messages) -> str:
    return hashlib.sha256(orjson.dumps(messages, option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_budget_stops_the_build_cleanly_and_resume_repeats_no_call(workdir: Path) -> None:
    model = register_price()
    install(pipeline_responder())
    # a first run fills the response cache with the analysts' replies (they cost nothing again)
    warm = distill(_llm([SAMPLE_TRACES], model, store_dir=Path("warm")), _quiet())
    assert warm.version is not None
    # proposals of one lesson each are not in the cache: the budget covers about three of them
    calls = plan_proposals(
        warm.lessons, SkillDoc.load(warm.start.folder), warm.start.digest(), model=model, batch_size=1
    )
    estimator = LLMClient(LLMSettings(model=model))
    budget = sum(estimator.estimate(call.messages, call.schema, call.template_hash).cost_usd for call in calls[:3])
    state = install(pipeline_responder())
    stopped = distill(
        _llm([SAMPLE_TRACES], model, concurrency=1, store_dir=Path("skills"), propose_batch=1, budget_usd=budget),
        _quiet(),
    )
    assert stopped.stopped == "budget" and stopped.stopped_stage == "build" and stopped.version is None
    first = [_digest(c.messages) for c in state.calls]
    assert not any(is_analyst_prompt(c.messages) for c in state.calls)  # the analysts came from the cache
    run = stopped.run
    finished = run.finished_steps("patches/*.json")
    assert 3 <= finished == len(first) < len(calls)
    manifest = run.read_manifest()
    assert manifest["status"] == "stopped" and manifest["consolidation"]["status"] == "stopped"
    assert manifest["usage"]["refused"] >= 1 and 0 < manifest["usage"]["cost_usd"] <= budget
    assert not (workdir / "skills").exists()

    log: list[str] = []
    state = install(pipeline_responder(log=log))
    resumed = _cli("distill", "--resume", run.run_id, "--budget", "10", "-q")
    assert resumed.exit_code == 0, resumed.output
    assert "stored sample-traces v1" in resumed.output
    again = [_digest(c.messages) for c in state.calls]
    assert not set(again) & set(first)  # no finished call repeated
    assert log.count("analyst") == 0 and log.count("propose") == len(calls) - finished
    manifest = run.read_manifest()
    report = orjson.loads((run.root / "consolidation.json").read_bytes())
    assert manifest["status"] == "done" and manifest["attempts"] == 2 and report["status"] == "ok"
    assert report["calls"]["reused"] == finished and manifest["usage"]["calls"] == len(first) + len(again)


KILLED_DISTILL = """
import sys
from tests.scripted_llm import install, pipeline_responder
install(pipeline_responder(), hang_from=int(sys.argv[2]), hang_signal=sys.argv[3])
from skillforge.cli import main
sys.argv = ["skillforge", "distill", sys.argv[1], "--model", "scripted/kill", "--concurrency", "1", "--propose-batch", "1", "-q"]
main()
"""


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_interrupted_consolidation_resumes_without_repeating_a_finished_call(how: str, workdir: Path) -> None:
    # sample_traces: 22 analyst passes, 18 lessons → 18 proposals → merges 4 + 1; the model stops
    # answering at the third merge of level 1, so 22 + 18 + 2 calls have finished
    passes, proposals = 22, 18
    answered = passes + proposals + 2
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    hanging = workdir / "hanging.signal"  # written by the model when the call that never ends starts
    command = [sys.executable, "-c", KILLED_DISTILL, str(SAMPLE_TRACES), str(answered), str(hanging)]
    process = subprocess.Popen(command, cwd=workdir, env=env, stderr=subprocess.PIPE, preexec_fn=as_in_a_terminal)
    run_dir: Path | None = None

    def ready() -> bool:  # the hung call is in flight and every call before it has been recorded
        nonlocal run_dir
        found = list((workdir / ".skillforge" / "runs").glob("*/merge_level_1/node_0001.json"))
        if hanging.exists() and found and orjson.loads(found[0].read_bytes())["status"] == "done":
            run_dir = found[0].parents[1]
        return run_dir is not None

    try:
        wait_until(ready, process, "the call that never ends was made")
        assert hanging.read_text() == f"hang {answered}\n"
    finally:
        process.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    assert run_dir is not None, "the run never reached the merges"
    run = RunFolder(run_dir)
    if how == "ctrl-c":
        assert process.returncode == 130 and "--resume" in stderr.decode() and "Traceback" not in stderr.decode()
        assert run.read_manifest()["status"] == "interrupted"
    else:
        assert process.returncode == -signal.SIGKILL and run.read_manifest()["status"] == "running"
    # the manifest kept up with every finished call (after Ctrl-C it also counts the one cut short)
    in_flight = 1 if how == "ctrl-c" else 0
    assert run.read_manifest()["usage"]["calls"] == answered + in_flight
    assert run.finished_steps("patches/*.json") == proposals and run.finished_steps("merge_level_1/node_*.json") == 2

    log: list[str] = []
    state = install(pipeline_responder(log=log))
    result = distill(DistillOptions(resume="latest"), _quiet())
    assert result.run.run_id == run.run_id and result.version is not None
    merges = result.build.report.calls["expected_merges"]
    assert merges == 5 and log == ["merge"] * (merges - 2)  # only the unfinished merges were asked
    assert len(state.calls) == passes + proposals + merges - answered
    assert result.build.report.calls["reused"] == proposals + 2
    assert result.manifest["usage"]["calls"] == passes + proposals + merges + in_flight


# --- names, invalid skills, dry run and report ----------------------------------------------------------


def test_a_bad_skill_name_is_refused_before_any_analysis(workdir: Path) -> None:
    logs = workdir / "claude-code"
    logs.mkdir()
    (logs / "s.jsonl").write_bytes((SAMPLE_TRACES / "claude-code" / "short.jsonl").read_bytes())
    install(pipeline_responder())
    derived = _cli("distill", str(logs), "--model", "scripted/name")
    assert derived.exit_code == 1
    lines = [line for line in derived.output.splitlines() if line.strip()]
    assert lines[0] == f"skillforge distill: reading {logs}"  # the first line, before any work
    lines = lines[1:]
    assert lines == [lines[0]] and lines[0].startswith("error: skill name 'claude-code' is not valid")
    assert "reserved word 'claude'" in lines[0] and "--skill" in lines[0] and "derived from" in lines[0]
    given = _cli("distill", str(logs), "--skill", "Bad_Name")
    assert given.exit_code == 1 and "not valid" in given.output and "--skill" in given.output
    assert not (workdir / ".skillforge").exists() and not (workdir / "skills").exists()  # nothing read, nothing written
    assert _cli("distill", str(logs), "--skill", "spotter-dev", "-q", "--allow-empty").exit_code == 0


def test_a_skill_that_stays_invalid_is_not_stored(workdir: Path) -> None:
    log: list[str] = []
    install(pipeline_responder(build=responder({"propose": propose_with_broken_link, "fix": useless_fix}, log=log)))
    result = _cli(
        "distill",
        str(SAMPLE_TRACES),
        "--model",
        "scripted/invalid",
        "--propose-batch",
        "20",
        "--min-support",
        "1",
        "--max-fix-rounds",
        "2",
        "-q",
    )
    assert result.exit_code == 1
    assert (
        "references/missing.md" in result.output
        and "links.resolve" in result.output
        and "was not stored" in result.output
    )
    assert log.count("fix") == 2 and not (workdir / "skills").exists()
    run = RunFolder.find(workdir / ".skillforge" / "runs", "latest")
    assert run.read_manifest()["status"] == "invalid"
    assert orjson.loads((run.root / "validation.json").read_bytes())["ok"] is False


def test_offline_dry_run_names_every_stage_and_calls_nothing(workdir: Path) -> None:
    result = _cli("distill", str(SAMPLE_TRACES), "--analyst", "heuristic", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "analyse" in result.output and "build" in result.output and "start: seed" in result.output
    assert not (workdir / ".skillforge").exists() and not (workdir / "skills").exists()


def test_report_shows_the_analysts_and_the_consolidation(workdir: Path) -> None:
    install(pipeline_responder())
    done = distill(_llm([SAMPLE_TRACES], propose_batch=1), _quiet())
    shown = _cli("report", "latest")
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert f"run {done.run.run_id}" in out and "LLM usage by stage" in out and "Consolidation, level by level" in out
    usage = done.manifest["stages"]
    for stage in ("analyse", "build"):
        assert re.search(rf"│ {stage}\s+│\s+{usage[stage]['calls']}\s+│", out), stage
    assert "failure" in out and "lessons kept" in out and "the skill validates" in out
