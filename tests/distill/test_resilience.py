"""Resilience: ``skillforge distill`` under model faults and under SIGKILL at many points.

* LLM faults: 30% of the prompts the scripted model is first asked fail (a 429 with Retry-After, a
  timeout, a 500, a reply that is not JSON, a reply that breaks the schema): the run completes,
  every trajectory is analysed exactly once and the stored skill is the one a run without faults
  stores (no lesson lost).
* Kill and resume: a distill SIGKILLed at 16 points across its stages (with a call in flight during
  analysis, comparison, proposals and merges; on entering the build, patch application, the staged
  folder's write; inside the store's write before the swap, before the commit, before the tag; after
  the version is stored): the store is never half-written (``git fsck --strict``, every tagged
  version validates), ``--resume`` finishes with exactly one version, identical to an uninterrupted
  run's, and asks the model no prompt again except the one in flight when the process died.

Covered elsewhere, not repeated here: two concurrent distills into one store
(tests/cli/test_cli_store.py::test_two_distill_runs_at_once_each_store_a_version: both versions, ``git
fsck --strict``) and fuzzed logs of every format (tests/ingest/test_bad_input.py::
test_fuzzed_real_files_never_raise).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import git
import pytest
from rich.progress import Progress
from typer.testing import CliRunner

import skillforge.distill.pipeline as pipeline
from skillforge.cli import app
from skillforge.config import ModelConfig
from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import distill
from skillforge.distill.runfolder import RunFolder
from skillforge.skill.validate import validate_skill
from skillforge.store.git_store import SkillStore
from skillforge.store.journal import JOURNAL_FILE
from tests.conftest import REPO, SAMPLE_TRACES
from tests.killed_distill import ARGS, PLACES, digest
from tests.scripted_llm import (
    install,
    is_analyst_prompt,
    pipeline_responder,
    rate_limited,
    read_prompt,
    server_error,
    timed_out,
)

NAME = "sample-traces"
SAMPLE_PASSES = 18 + 4  # 18 trajectories + 4 tau-bench tasks seen both succeeding and failing


def _quiet() -> Progress:
    return Progress(disable=True)


def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry path, with backoff in hundredths of a second instead of seconds."""
    real = pipeline.make_client

    def client(options, analyst):
        made = real(options, analyst)
        if made is not None:
            made.settings.backoff_initial_s, made.settings.backoff_max_s = 0.01, 0.05
        return made

    monkeypatch.setattr(pipeline, "make_client", client)


# --- LLM faults ------------------------------------------------------------------------------------

FAULTS = ("429", "timeout", "500", "not json", "schema")


def _faulty(answer, share: float = 0.3):
    """Wrap a responder: of the prompts asked for the first time, ``share`` fail (3 in every 10),
    the kinds in turn; a retry of a prompt is answered. Repair prompts only get transient faults: a
    second invalid reply in a row is a model that cannot do the task, not a fault to survive."""
    seen: set[str] = set()
    log: list[tuple[str, str | None]] = []  # (digest, fault kind or None) per call

    def respond(messages, index):
        key = digest(messages)
        first = key not in seen
        seen.add(key)
        repair = "not valid" in str(messages[-1]["content"])[:40]
        if first and (len(seen) - 1) % 10 < round(share * 10):
            kinds = FAULTS[:3] if repair else FAULTS
            kind = kinds[sum(1 for _, k in log if k) % len(kinds)]
            log.append((key, kind))
            if kind == "429":
                return rate_limited(retry_after=0.01)
            if kind == "timeout":
                return timed_out()
            if kind == "500":
                return server_error()
            if kind == "not json":
                return "Sure! Here are the lessons you asked for, I hope they help."
            return json.dumps({"lessons": "none today"})
        log.append((key, None))
        return answer(messages, index)

    return respond, log


def _skill_md(store_dir: Path) -> bytes:
    store = SkillStore(store_dir)
    assert [v.version for v in store.versions(NAME)] == [1]
    return store.read_file(NAME, 1).encode()


def test_llm_faults_on_30_percent_of_calls_lose_nothing(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_retries(monkeypatch)
    clean = install(pipeline_responder())
    options = DistillOptions(
        paths=[SAMPLE_TRACES], model=ModelConfig(model="scripted/faults", concurrency=4), propose_batch=1,
        store_dir=workdir / "clean", workspace=workdir / "clean-ws",
    )
    reference = distill(options, _quiet())
    assert reference.version is not None
    clean_calls = len(clean.calls)

    respond, log = _faulty(pipeline_responder())
    state = install(respond)
    result = CliRunner().invoke(app, ["distill", str(SAMPLE_TRACES), "--model", "scripted/faults", "--concurrency", "4", "--propose-batch", "1", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output

    faults = Counter(kind for _, kind in log if kind)
    first_asks = {key for key, _ in log}
    assert set(faults) == set(FAULTS)  # every kind happened
    assert sum(faults.values()) / len(first_asks) >= 0.29 and sum(faults.values()) >= 12
    assert len(state.calls) == clean_calls + sum(faults.values())  # each fault cost one more call, no more

    run = RunFolder.find(workdir / ".skillforge" / "runs", "latest")
    manifest = run.read_manifest()
    assert manifest["status"] == "done" and manifest["analysis"]["failed_passes"] == []
    # every trajectory analysed exactly once: one finished pass each, one answered analyst prompt each
    passes = run.read_passes()
    assert len(passes) == SAMPLE_PASSES and all(record["status"] == "done" for record in passes.values())
    analysed = Counter(record["sessions"][0] for record in passes.values() if record["analyst"] != "comparative")
    assert len(analysed) == 18 and set(analysed.values()) == {1}
    answered = Counter()
    for call, (_, kind) in zip(state.calls, log):
        if kind is None and is_analyst_prompt(call.messages) and read_prompt(call.messages).analyst != "comparative":
            answered[next(iter(read_prompt(call.messages).sessions))] += 1
    assert set(answered) == set(analysed) and set(answered.values()) == {1}
    # no lesson lost: the same lessons and the same stored skill as the run without faults
    assert sorted(lesson.id for lesson in RunFolder.find(workdir / ".skillforge" / "runs", "latest").read_lessons()) == sorted(lesson.id for lesson in reference.lessons)
    assert _skill_md(workdir / "skills") == _skill_md(workdir / "clean")


# --- kill and resume -------------------------------------------------------------------------------

# calls of an uninterrupted run on sample_traces/ with --propose-batch 1 (asserted below): 22 analyst
# passes (18 + 4 comparative), 18 proposals, then the merges; kill points spread over them
CALL_POINTS = ("call:0", "call:9", "call:17", "call:19", "call:23", "call:31", "call:41", "call:44")


def _store_is_whole(store_dir: Path, scratch: Path) -> list[int]:
    """Check the store as a reader finds it after a kill; return its version numbers."""
    if not (store_dir / ".git").exists():
        return []
    git.Repo(store_dir).git.fsck("--strict")
    store = SkillStore(store_dir)
    versions = [v.version for v in store.versions(NAME)]
    for number in versions:  # every tagged version is a whole, valid skill
        folder = store.materialize(NAME, number, scratch / f"v{number}")
        assert validate_skill(folder).ok
    return versions


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str]]:
    """SKILL.md and the prompts asked by a distill that nobody interrupts."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    asked: list[str] = []
    answer = pipeline_responder()
    install(lambda messages, index: asked.append(digest(messages)) or answer(messages, index))
    previous = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(app, ["distill", str(SAMPLE_TRACES), *ARGS], catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    return SkillStore(folder / "skills").read_file(NAME, 1).encode(), asked


@pytest.mark.slow
@pytest.mark.parametrize("point", [*CALL_POINTS, *PLACES])
def test_killed_anywhere_resume_finishes_and_repeats_no_finished_call(point: str, uninterrupted, workdir: Path) -> None:
    reference, all_prompts = uninterrupted
    assert len(all_prompts) == len(set(all_prompts)) > 44  # every prompt distinct; the call points exist
    asked_log = workdir / "asked.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run(
        [sys.executable, "-m", "tests.killed_distill", str(SAMPLE_TRACES), str(asked_log), point],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-3000:]  # SIGKILL, where it was meant to land
    before = asked_log.read_text().split() if asked_log.exists() else []
    in_flight = set(before[-1:]) if point.startswith("call:") else set()
    assert len(before) == (int(point.split(":")[1]) + 1 if point.startswith("call:") else len(before))

    # the store as any reader finds it: whole versions only, a clean git object store
    assert _store_is_whole(workdir / "skills", workdir / "after-kill") in ([], [1])
    run = RunFolder.find(workdir / ".skillforge" / "runs", "latest")
    assert run.read_manifest()["status"] == "running"  # nobody wrote a final status

    after: list[str] = []
    answer = pipeline_responder()
    install(lambda messages, index: after.append(digest(messages)) or answer(messages, index))
    result = distill(DistillOptions(resume="latest"), _quiet())
    assert result.run is not None and result.run.run_id == run.run_id and result.manifest["status"] == "done"

    # no finished call asked again: only the one that was in flight when the process died
    assert set(before) & set(after) <= in_flight
    assert sorted(set(before) | set(after)) == sorted(all_prompts)
    assert len(before) + len(after) == len(all_prompts) + len(in_flight)
    # one version, the same skill an uninterrupted run stores, and no pending write left behind
    assert _store_is_whole(workdir / "skills", workdir / "after-resume") == [1]
    assert SkillStore(workdir / "skills").read_file(NAME, 1).encode() == reference
    assert not (workdir / "skills" / ".git" / JOURNAL_FILE).exists()
    assert hashlib.sha256((workdir / "skills" / NAME / "SKILL.md").read_bytes()).digest() == hashlib.sha256(reference).digest()
