"""Distilled runs for the report tests: real logs in, a run folder and a store out (offline or with
the scripted model), and a log with HTML/JS payloads planted in its text."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.progress import Progress

from skillforge.config import ModelConfig
from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import DistillResult, distill
from tests.conftest import SAMPLE_TRACES
from tests.scripted_llm import Fault, install, pipeline_responder

PAYLOAD = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    '<!-- <a href="javascript:window.__pwned=3">x</a> [click](javascript:window.__pwned=4) </script><!--'
)
"""Markup and script planted in trajectory text: it must show as text and never run."""

SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
"""A GitHub token planted beside the payload: ingest redacts it, and the page must never show it."""

PLANTED_ERROR = "HAT030 not available"
"""Text of the error observations (in sample_traces' tau-bench file) the payload is planted into,
so that the offline analyst's failure lessons quote it and the skill's items carry it."""


def _distill(options: DistillOptions) -> DistillResult:
    """``distill`` in a thread of its own: Playwright's sync API keeps an event loop running in the
    test's thread, where ``asyncio.run`` (the build stage) may not start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(distill, options, Progress(disable=True)).result()


def distill_offline(logs: Path, name: str, store: Path = Path("skills")) -> DistillResult:
    """An offline (heuristic analyst) distill of ``logs`` into the skill ``name``, run in the current folder."""
    result = _distill(DistillOptions(paths=[logs], skill_name=name, store_dir=store))
    assert result.version is not None, "the distilled skill did not validate"
    return result


def distill_scripted(logs: Path, name: str, fault: Fault | None = None) -> DistillResult:
    """A distill of ``logs`` with the LLM analysts and build, answered by the scripted model
    (``fault``: see :func:`tests.scripted_llm.lesson_responder`)."""
    install(pipeline_responder(fault))
    options = DistillOptions(paths=[logs], skill_name=name, model=ModelConfig(model="scripted/build", concurrency=8))
    result = _distill(options)
    assert result.version is not None and result.analyst == "llm"
    return result


def payload_logs(folder: Path) -> Path:
    """A copy of ``sample_traces/tau-bench/gpt-4o-airline-sample.json`` (tau-bench's own
    historical trajectories) with :data:`PAYLOAD` planted in every error observation that says
    :data:`PLANTED_ERROR` and in the first user message of every trajectory (with :data:`SECRET`).
    Returns the folder."""
    records = json.loads((SAMPLE_TRACES / "tau-bench" / "gpt-4o-airline-sample.json").read_text(encoding="utf-8"))
    planted = 0
    for record in records:
        for message in record["traj"]:
            content = message.get("content")
            if isinstance(content, str) and PLANTED_ERROR in content:
                message["content"] = content.replace("HAT030", "HAT030 " + PAYLOAD)
                planted += 1
        first_user = next(m for m in record["traj"] if m["role"] == "user")
        first_user["content"] += f" {PAYLOAD} token: {SECRET}"
    assert planted >= 2, "the sample no longer has the error the payload is planted into"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "payload-airline.json").write_text(json.dumps(records), encoding="utf-8")
    return folder
