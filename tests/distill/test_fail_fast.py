"""Errors no retry can fix stop the run at the first call (issue 16): a missing or refused key, a
model that does not exist, a server that cannot be reached. Nothing is stored, the message says
what to set, and the run can be resumed once it is fixed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rich.progress import Progress

from skillforge.config import ModelConfig
from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import distill
from skillforge.distill.runfolder import RunFolder
from skillforge.llm.errors import FatalLLMError
from skillforge.store.git_store import SkillStore
from tests.cli_runner import run as run_cli
from tests.scripted_llm import install, pipeline_responder, server_error, unauthorized


def _options(logs: Path, model: str, **model_settings) -> DistillOptions:
    return DistillOptions(paths=[logs], model=ModelConfig(model=model, concurrency=8, **model_settings))


def test_refused_key_costs_one_call_and_stores_nothing(sample_traces: Path, workdir: Path) -> None:
    state = install(lambda messages, index: unauthorized())
    with pytest.raises(FatalLLMError) as stopped:
        distill(_options(sample_traces, "scripted/test"), Progress(disable=True))
    assert len(state.calls) == 1  # the other 21 passes were never sent, and the one call was not retried
    assert stopped.value.reason == "credentials" and "Incorrect API key provided" in str(stopped.value)
    assert SkillStore(Path("skills")).versions("sample-traces") == []
    run = RunFolder.find(Path(".skillforge") / "runs", "latest")
    assert run.read_manifest()["status"] == "stopped"  # resumable once the key is set
    # resumed with a working model, it finishes and stores one version
    state = install(pipeline_responder())
    resumed = distill(DistillOptions(resume=run.run_id, model=ModelConfig(concurrency=8)), Progress(disable=True))
    assert resumed.version is not None and resumed.version.version == 1


def test_a_failure_a_retry_can_fix_is_still_retried(sample_traces: Path, workdir: Path) -> None:
    answers = pipeline_responder()
    state = install(lambda messages, index: server_error() if index == 0 else answers(messages, index))
    result = distill(_options(sample_traces, "scripted/test"), Progress(disable=True))
    assert result.version is not None and len(state.calls) > 22


def test_missing_openai_key_through_litellm_says_what_to_set(sample_traces: Path, workdir: Path) -> None:
    """The real litellm path: no OPENAI_API_KEY, so the OpenAI SDK refuses before any request
    (litellm reports it as a 500 'Missing credentials'); no network is used."""
    result = run_cli(
        "distill", str(sample_traces), "--model", "gpt-4o-mini", "-q", cwd=workdir, env={"OPENAI_API_KEY": None}
    )  # type: ignore[dict-item]
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "set OPENAI_API_KEY in the environment" in errors[0], result.stderr
    assert "Missing credentials" in errors[0] and "--resume" in errors[0]
    assert "Traceback" not in result.stderr and not (workdir / "skills" / "sample-traces").exists()


def test_unreachable_api_base_stops_at_once(sample_traces: Path, workdir: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli(
        "distill", str(sample_traces), "--model", "openai/local", "--api-base", f"http://127.0.0.1:{port}/v1", "-q",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"cannot reach http://127.0.0.1:{port}/v1" in errors[0], result.stderr


def test_unknown_model_stops_at_once(sample_traces: Path, workdir: Path) -> None:
    result = run_cli("distill", str(sample_traces), "--model", "no-such-provider/model-x", "-q", cwd=workdir)
    assert result.returncode == 1
    assert "no such model" in result.stderr and "docs.litellm.ai" in result.stderr


def test_dry_run_warns_when_the_key_variable_is_unset(sample_traces: Path, workdir: Path) -> None:
    result = run_cli(
        "distill", str(sample_traces), "--model", "gpt-4o-mini", "--dry-run", cwd=workdir, env={"OPENAI_API_KEY": None}
    )  # type: ignore[dict-item]
    assert result.returncode == 0, result.stderr
    assert "OPENAI_API_KEY is not set" in result.stderr
    with_key = run_cli(
        "distill",
        str(sample_traces),
        "--model",
        "gpt-4o-mini",
        "--dry-run",
        cwd=workdir,
        env={"OPENAI_API_KEY": "sk-test"},
    )
    assert "is not set" not in with_key.stderr


def test_fatal_error_message_is_one_line() -> None:
    error = FatalLLMError(
        "gpt-4o-mini: the provider refused the call for its credentials (x); set OPENAI_API_KEY", "credentials"
    )
    assert "\n" not in str(error) and error.reason == "credentials"


def test_progress_line_shows_the_last_failure(sample_traces: Path, workdir: Path) -> None:
    from skillforge.distill.options import make_client
    from skillforge.distill.progress import StageBars

    answers = pipeline_responder()
    install(
        lambda messages, index: (
            ValueError("the model server fell over (scripted)") if index == 3 else answers(messages, index)
        )
    )
    options = _options(sample_traces, "scripted/test")
    client = make_client(options, "llm")
    assert client is not None
    client.settings.max_attempts = 1
    bars = StageBars(Progress(disable=True), client)
    bar = bars.stage("Analysing trajectories", 22)
    assert "last failure" not in bar.stats()
    from skillforge.analyze.pass_runner import PassRunner
    from skillforge.analyze.passes import analyze_with_llm
    from skillforge.ingest import ingest
    from skillforge.ingest.report import IngestReport

    trajectories = list(ingest([sample_traces], IngestReport()))
    analyze_with_llm(trajectories, PassRunner(client, 16000), RunFolder.create(workdir / ".skillforge" / "runs"))
    line = bar.stats()
    assert "failed 1" in line and "last failure: scripted/test: retries exhausted after 1 attempt(s)" in line
    assert len(line.split("last failure: ", 1)[1]) <= 60
