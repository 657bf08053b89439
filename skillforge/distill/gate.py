"""``distill --holdout FRACTION --gate retro|ab`` (issue 17): the held-out split of a run and the
promotion gate between its build and its store stages.

* :func:`hold_out` keeps a deterministic, hash-based share of the trajectories out of the run
  (split by task id where there is one, :func:`skillforge.eval.split.split_holdout`) and records
  which in the run folder (``holdout.json``, ``holdout.jsonl``); ``skillforge eval`` reads them later.
* :func:`gate_stage` evaluates the built candidate against the store's latest version of the skill
  (or no skill) by the chosen evaluation (:func:`skillforge.eval.command.gate_candidate`); the
  pipeline stores the candidate only when the gate promotes it, else keeps it in the run folder.
* :func:`record_gate` stores the evaluation with the version the run stored (``.eval/`` in the store).

The gate's thresholds come from ``[eval]`` in ``skillforge.toml`` (:func:`skillforge.eval.gate.load_thresholds`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillforge.distill.build import SkillBuild
from skillforge.distill.options import DistillOptions
from skillforge.distill.runfolder import RunFolder
from skillforge.errors import SkillforgeError
from skillforge.eval.command import EvalOptions, EvalReport, Mode, gate_candidate, record_gate
from skillforge.eval.split import HoldoutSplit, load_split, save_split, split_holdout
from skillforge.trajectory import Trajectory

if TYPE_CHECKING:
    from skillforge.llm.client import LLMClient
    from skillforge.llm.tokens import StageEstimate

GATES = ("retro", "ab")
"""The ``--gate`` choices."""


class GateRejected(SkillforgeError):
    """The gate did not promote the candidate: nothing was stored (the message says why, with the
    figures). Exit code 4."""

    exit_code = 4


def check_gate_options(options: DistillOptions) -> None:
    """Check ``--holdout`` and ``--gate`` before anything is read.

    Raises:
        SkillforgeError: a fraction outside [0, 1), an unknown gate, ``--gate retro`` without a held-out
            share or without a model (the judge needs one), ``--gate ab`` without ``--tasks`` and
            ``--agent-cmd`` or with a bad task list or command template (an unknown placeholder).
    """
    if not 0.0 <= options.holdout < 1.0:
        raise SkillforgeError(f"--holdout must be a fraction in [0, 1), got {options.holdout}")
    if options.gate is None:
        return
    if options.gate not in GATES:
        raise SkillforgeError(f"unknown gate {options.gate!r}; choose one of: {', '.join(GATES)}")
    if options.gate == "retro":
        if options.holdout <= 0.0:
            raise SkillforgeError("--gate retro judges held-out trajectories: add --holdout FRACTION (e.g. 0.2)")
        if not options.model.model:
            raise SkillforgeError(
                "--gate retro needs a model for its judge: pass --model <litellm model name>, or set SKILLFORGE_MODEL"
            )
        return
    from skillforge.eval.ab import load_tasks, parse_command

    if options.gate_tasks is None or not options.gate_agent_cmd:
        raise SkillforgeError("--gate ab needs --tasks FILE and --agent-cmd '…' (see docs/eval.md)")
    parse_command(options.gate_agent_cmd)
    load_tasks(options.gate_tasks)


def hold_out(run: RunFolder, trajectories: list[Trajectory], fraction: float) -> tuple[list[Trajectory], dict | None]:
    """Split off the held-out share of ``trajectories`` and record it in ``run``.

    Returns:
        ``(kept, record)``: the trajectories to distill from, and the manifest's ``holdout`` entry
        (fraction, by, counts; None when ``fraction`` is 0 and nothing is held out).

    Raises:
        SkillforgeError: nothing would be left to distill from.
    """
    if fraction <= 0.0:
        return trajectories, None
    split = split_holdout(trajectories, fraction)
    if not split.kept:
        raise SkillforgeError(
            f"--holdout {fraction} would hold out every trajectory ({len(split.held_out_keys)} "
            f"{'task' if split.by == 'task' else 'key'}(s)); give more logs or a smaller fraction"
        )
    save_split(run.root, split)
    record = split.to_dict()
    return split.kept, {key: record[key] for key in ("fraction", "by", "counts")}


def gate_stage(
    build: SkillBuild, run: RunFolder, options: DistillOptions, name: str, client: LLMClient | None
) -> EvalReport:
    """Evaluate the built candidate (``build.folder``) against the store's latest version of ``name``.

    Args:
        client: the run's model client (the judge's calls then count in the run's budget and usage);
            None (the offline analyst): the judge gets its own client from ``options.model``.

    Raises:
        SkillforgeError: as :func:`skillforge.eval.command.gate_candidate`.
    """
    held_out: list[Trajectory] = []
    if options.gate == "retro":
        _, held_out = load_split(run.root)
    evaluation = EvalOptions(
        store_dir=options.store_dir,
        workspace=Path(options.workspace),
        model=options.model,
        budget_usd=options.budget_usd,
        tasks_file=options.gate_tasks,
        agent_cmd=options.gate_agent_cmd,
        trials=options.gate_trials,
    )
    mode: Mode = "retro" if options.gate == "retro" else "ab"
    return gate_candidate(build.folder, name, mode, evaluation, held_out, client=client)


def planned_split(options: DistillOptions, run: RunFolder | None, trajectories: list[Trajectory]) -> HoldoutSplit:
    """The dry run's split: the resumed run's recorded one (its trajectories are the kept ones), else
    the split :func:`hold_out` would make (nothing written)."""
    if run is not None:
        if options.holdout <= 0.0:
            return HoldoutSplit(0.0, kept=trajectories)
        _, held_out = load_split(run.root)
        return HoldoutSplit(options.holdout, held_out=held_out, kept=trajectories)
    return split_holdout(trajectories, options.holdout)


def estimate_gate(
    options: DistillOptions, held_out: list[Trajectory], start_folder: Path, name: str, workspace: Path
) -> StageEstimate:
    """The dry run's ``gate`` row: the judge's calls, tokens and USD (``retro``: one call per held-out
    trajectory of known outcome and version judged, counted locally; the candidate is counted at the
    size of the start version, which it grows from), or the agent runs (``ab``, in the note).
    """
    from skillforge.eval.citations import SkillUnderTest
    from skillforge.eval.judge_client import StageEstimate, judge_client, judge_context_tokens
    from skillforge.eval.retro import RetroJudge, estimate_versions
    from skillforge.store.git_store import SkillStore

    store = SkillStore(options.store_dir)
    current = store.latest_version(name)
    if options.gate == "ab":
        from skillforge.eval.ab import load_tasks

        assert options.gate_tasks is not None
        arms = 3 if current else 2
        runs = len(load_tasks(options.gate_tasks)) * arms * options.gate_trials
        return StageEstimate("gate", note=f"ab: {runs} agent runs ({arms} arms), no model calls")
    context = judge_context_tokens(options.model)
    candidate = SkillUnderTest.from_folder(start_folder, "candidate", name)
    # the candidate's prompts are new: counted without the cache
    stage = estimate_versions(
        [candidate], held_out, RetroJudge(judge_client(options.model, workspace, cached=False), context)
    )
    versions = 1
    if current:
        with tempfile.TemporaryDirectory(prefix="skillforge-gate-") as scratch:
            folder = store.materialize(name, current, Path(scratch) / name)
            old = estimate_versions(
                [SkillUnderTest.from_folder(folder, f"v{current}", name)],
                held_out,
                RetroJudge(judge_client(options.model, workspace), context),
            )
        versions = 2
        stage.calls, stage.cached = stage.calls + old.calls, stage.cached + old.cached
        stage.prompt_tokens, stage.completion_tokens = (
            stage.prompt_tokens + old.prompt_tokens,
            stage.completion_tokens + old.completion_tokens,
        )
        stage.cost_usd = None if stage.cost_usd is None or old.cost_usd is None else stage.cost_usd + old.cost_usd
    stage.stage = "gate"
    known = sum(1 for t in held_out if t.outcome.status in ("success", "failure"))
    stage.note = f"retro: {known} held-out trajectories × {versions} versions; candidate at the start's size"
    return stage


def gate_record(report: EvalReport) -> dict[str, Any]:
    """The manifest's ``gate`` entry: per evaluation the decision, its reasons and figures."""
    return {kind: decision.to_dict() for kind, decision in report.gates.items()}


def stopped_by_budget(report: EvalReport) -> bool:
    """True when the budget stopped the judge before it finished (the run can be resumed)."""
    return any(result.stopped == "budget" for result in report.retro or [])


def rejection(report: EvalReport, build: SkillBuild) -> str:
    """Why the candidate was not stored, with the figures, and where it is kept (the run folder)."""
    reasons = "; ".join(reason for decision in report.gates.values() for reason in decision.reasons)
    kinds = ", ".join(report.gates)
    return f"not stored: the {kinds} gate rejected the candidate ({reasons}); it is kept in {build.folder}"


__all__ = [
    "GATES",
    "GateRejected",
    "check_gate_options",
    "gate_record",
    "gate_stage",
    "hold_out",
    "record_gate",
    "rejection",
    "stopped_by_budget",
]
