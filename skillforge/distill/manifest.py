"""The run manifest (``manifest.json``, DESIGN §4): what a run read (inputs and their sha256), its
options, model and prompt template versions, status, counts, tokens, calls, USD and timings, and the
:class:`Ledger` that keeps its usage per stage up to date from the model client's totals.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from skillforge import __version__
from skillforge.distill.options import (
    DistillOptions,
    model_context_tokens,
)
from skillforge.distill.runfolder import RunFolder
from skillforge.errors import SkillforgeError
from skillforge.ingest.report import IngestReport

BUILD_TEMPLATES = ("propose", "merge", "translate", "fix")
"""Prompt templates of the build stage (their versions go to the manifest)."""


class Ledger:
    """Keeps the manifest's ``usage`` (all attempts) and ``stages`` (per stage, all attempts) up to
    date from the client's totals."""

    def __init__(self, manifest: dict[str, Any], client) -> None:
        self.manifest, self.client = manifest, client
        self.before = dict(manifest.get("usage") or {})
        self.stages = {stage: dict(usage) for stage, usage in (manifest.get("stages") or {}).items()}
        self.stage: str | None = None
        self.stage_before: dict[str, Any] = {}
        self.stage_start: dict[str, Any] = {}

    def begin(self, stage: str) -> None:
        """Count what follows into ``stage``."""
        self.sync()
        self.stage = stage
        self.stage_before = dict(self.stages.get(stage) or {})
        self.stage_start = self.client.totals.to_dict() if self.client is not None else {}

    def sync(self) -> None:
        """Write ``usage`` and ``stages`` into the manifest."""
        if self.client is None:
            return
        now = self.client.totals.to_dict()
        self.manifest["usage"] = add_usage(self.before, now)
        if self.stage is not None:
            delta = {key: value - self.stage_start.get(key, 0) for key, value in now.items()}
            self.stages[self.stage] = add_usage(self.stage_before, delta)
        self.manifest["stages"] = self.stages


def build_templates() -> dict[str, str]:
    """Version of each build prompt template (``propose``, ``merge``, ``translate``, ``fix``) by name."""
    from skillforge.prompts import prompt_template

    return {name: prompt_template(name).version for name in BUILD_TEMPLATES}


def consolidation_summary(run: RunFolder) -> dict[str, Any]:
    """The manifest's view of ``consolidation.json``: status, calls by stage, per level counts, totals."""
    from skillforge.merge.report import ConsolidationReport

    try:
        report = ConsolidationReport.load(run)
    except SkillforgeError:
        return {}
    return {
        "status": report.status,
        "mode": report.mode,
        "lessons": report.lessons,
        "calls": report.calls,
        "levels": [
            {
                "level": level.level,
                "stage": level.stage,
                "inputs": level.inputs,
                "outputs": level.outputs,
                "calls": level.calls,
                "reused": level.reused,
                "failed": level.failed,
                "dropped": len(level.dropped),
                "contradictions": len(level.contradictions),
                "prompt_tokens": level.prompt_tokens,
                "completion_tokens": level.completion_tokens,
                "cost_usd": round(level.cost_usd, 6),
            }
            for level in report.levels
        ],
        "contradictions": len(report.contradictions),
        "applied": report.apply.get("applied", 0),
        "unmatched": len(report.apply.get("unmatched", [])),
        "fix_rounds": len(report.fix_rounds),
        "totals": {
            "prompt_tokens": report.prompt_tokens,
            "completion_tokens": report.completion_tokens,
            "cost_usd": round(report.cost_usd, 6),
        },
    }


def new_manifest(
    run: RunFolder, options: DistillOptions, name: str, analyst: str, report: IngestReport, trajectories
) -> dict[str, Any]:
    """The first manifest of a new run: options, model, budget (USD), inputs with their sha256 and
    format, counts, ingest problems and redactions; ``status`` is ``running``."""
    model = None
    if analyst == "llm":
        model = {
            "name": options.model.model,
            "api_base": options.model.api_base,
            "context_tokens": model_context_tokens(options.model),
            "concurrency": options.model.concurrency,
        }
    return {
        "run_id": run.run_id,
        "skillforge": __version__,
        "status": "running",
        "attempts": 1,
        "options": {
            "paths": [str(p) for p in options.paths],
            "skill_name": name,
            "store_dir": str(options.store_dir),
            "analyst": "llm" if analyst == "llm" else options.analyst,
            "description": options.description,
            "from": str(Path(options.from_path).resolve()) if options.from_path is not None else None,
            "propose_batch": options.propose_batch,
            "fan_in": options.fan_in,
            "max_fix_rounds": options.max_fix_rounds,
            "min_support": options.min_support,
            "allow_empty": options.allow_empty,
            "holdout": options.holdout,
            "gate": options.gate,
            "gate_tasks": str(Path(options.gate_tasks).resolve()) if options.gate_tasks is not None else None,
            "gate_agent_cmd": options.gate_agent_cmd,
            "gate_trials": options.gate_trials,
            "gate_model": options.model.model if options.gate == "retro" else None,
        },
        "analyst": analyst,
        "model": model,
        "budget_usd": options.budget_usd,
        "inputs": [
            {"path": f.path, "sha256": file_sha256(Path(f.path)), "format": f.format, "trajectories": f.trajectories}
            for f in report.files
            if f.format
        ],
        "counts": {"trajectories": len(trajectories)},
        "ingest_problems": len(report.problems),
        "redactions": dict(report.redactions),
    }


def file_sha256(path: Path) -> str | None:
    """sha256 (hex) of a file's bytes, read 1 MiB at a time; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def add_usage(before: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """Key-wise sum of two usage totals (calls, tokens, USD rounded to 6 decimals): an earlier
    attempt's and this attempt's."""
    total = {key: before.get(key, 0) + value for key, value in now.items()}
    total["cost_usd"] = round(total.get("cost_usd", 0.0), 6)
    return total
