"""A version with nothing new in it is not stored (issue 16): no item, every pass failed, or the same
skill as before; the command exits 3 with one line saying why, and ``--allow-empty`` stores it."""

from __future__ import annotations

from pathlib import Path

import orjson
from rich.progress import Progress

from skillforge.config import ModelConfig
from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import distill
from skillforge.store.git_store import SkillStore
from tests.cli_runner import run as run_cli
from tests.scripted_llm import install


def test_every_pass_failing_stores_nothing(sample_traces: Path, workdir: Path) -> None:
    install(lambda messages, index: "this is not JSON")
    options = DistillOptions(paths=[sample_traces], model=ModelConfig(model="scripted/test", concurrency=4))
    result = distill(options, Progress(disable=True))
    assert result.version is None and result.manifest["status"] == "nothing-new"
    failed = len(result.manifest["analysis"]["failed_passes"])
    assert failed == 18 + 4  # one per trajectory, one per task seen both succeeding and failing
    assert result.not_stored is not None and f"every analyst pass failed ({failed} of {failed})" in result.not_stored
    assert SkillStore(Path("skills")).versions("sample-traces") == []


def test_no_item_stores_nothing_unless_asked(sample_traces: Path, workdir: Path) -> None:
    runs = orjson.loads((sample_traces / "tau-bench" / "gpt-4o-airline-sample.json").read_bytes())
    logs = workdir / "logs"
    logs.mkdir()  # one rewarded run without a tool error: the offline analyst finds no item in it
    clean = next(
        r
        for r in runs
        if r["reward"] == 1 and not any("Error" in str(m.get("content")) for m in r["traj"] if m.get("role") == "tool")
    )
    (logs / "one.json").write_bytes(orjson.dumps([clean]))
    refused = run_cli("distill", str(logs), "--skill", "sessions", "-q", cwd=workdir)
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert refused.returncode == 3 and len(errors) == 1, refused.stderr
    assert "no item came out of the 1 trajectory" in errors[0] and "--allow-empty" in errors[0]
    assert not (workdir / "skills" / "sessions").exists()
    forced = run_cli("distill", str(logs), "--skill", "sessions", "-q", "--allow-empty", cwd=workdir)
    assert forced.returncode == 0 and "stored sessions v1" in forced.stdout
