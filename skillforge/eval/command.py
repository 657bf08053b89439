"""The functions the CLI calls: ``skillforge eval NAME@vN --retro | --ab`` and ``distill --gate``.

* :func:`run_eval` evaluates a stored version against the one before it (or ``baseline``): the
  retrospective judge on held-out trajectories (:mod:`.sources`) and/or the A/B replay; decides the
  gate for each, and stores the results with the version (:mod:`.results`).
* :func:`dry_run` says what :func:`run_eval` would cost: judge calls, tokens and USD (counted
  locally, nothing called), and agent runs (finished ones of an earlier attempt not counted).
* :func:`gate_candidate` evaluates a candidate folder that is not stored yet (``distill --gate``)
  against the store's latest version; :func:`record_gate` stores that evaluation with the version
  once ``distill`` has stored it.

Nothing here prints: every function returns a typed result for the CLI to show.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from skillforge.config import ModelConfig
from skillforge.errors import SkillforgeError
from skillforge.eval.ab import AbResult, AbSpec, Arm, arm_digest, load_tasks, parse_command, run_ab
from skillforge.eval.citations import SkillUnderTest
from skillforge.eval.gate import GateDecision, GateThresholds, decide_ab, decide_retro, load_thresholds
from skillforge.eval.judge_client import (
    LLMClient,
    StageEstimate,
    has_price,
    judge_client,
    judge_context_tokens,
    require_model,
)
from skillforge.eval.results import save_eval
from skillforge.eval.retro import JudgedHook, RetroJudge, RetroResult, estimate_versions, judge_versions
from skillforge.eval.sources import HeldOut, held_out_for, materialize_versions, pick_versions
from skillforge.eval.split import HoldoutSplit
from skillforge.export.exporter import parse_ref
from skillforge.store.git_store import SkillStore
from skillforge.trajectory import Trajectory

EVALS_DIR = "evals"
Mode = Literal["retro", "ab"]


@dataclass
class EvalOptions:
    """Options of an evaluation (the CLI's flags).

    Attributes:
        store_dir: the skill store.
        workspace: ``.skillforge`` (the response cache, A/B work folders under ``evals/``).
        runs: where ``distill`` keeps its run folders; None: ``<workspace>/runs``.
        model: the judge's model (:func:`skillforge.config.resolve_config`).
        budget_usd: most USD the judge may spend; None: no limit.
        paths: log files to judge on instead of the recorded held-out split; outcomes: their labels file.
        baseline: the version to compare with (default: the one before).
        thresholds: the gate's thresholds; None: :func:`load_thresholds` (``skillforge.toml``).
        tasks_file, agent_cmd, trials, jobs, timeout_s, host: the A/B replay (see :class:`AbSpec`).
        save: store the results with the version.
    """

    store_dir: Path = Path("skills")
    workspace: Path = Path(".skillforge")
    runs: Path | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    budget_usd: float | None = None
    paths: Sequence[Path] = ()
    outcomes: Path | None = None
    baseline: int | None = None
    thresholds: GateThresholds | None = None
    tasks_file: Path | None = None
    agent_cmd: str | None = None
    trials: int = 1
    jobs: int = 2
    timeout_s: float | None = None
    host: str = "claude-code"
    save: bool = True


@dataclass
class EvalReport:
    """What :func:`run_eval` (or :func:`gate_candidate`) found.

    Attributes:
        name: the skill; version: the version evaluated (None for an unstored candidate);
            baseline: the version compared with (None: no skill).
        retro: the judge's results, evaluated version first, then the baseline (None: not run).
        held_out: where the judged trajectories came from.
        ab: the replay (None: not run).
        gates: ``retro`` / ``ab`` → the gate's decision.
        record: the record stored with the version (None when not stored).
    """

    name: str
    version: int | None
    baseline: int | None
    retro: list[RetroResult] | None = None
    held_out: HeldOut | None = None
    ab: AbResult | None = None
    gates: dict[str, GateDecision] = field(default_factory=dict)
    record: dict[str, Any] | None = None

    @property
    def promote(self) -> bool:
        """True when every gate that ran passed."""
        return all(g.promote for g in self.gates.values())


@dataclass
class EvalEstimate:
    """The dry run of :func:`run_eval`.

    Attributes:
        name, version, baseline: as :class:`EvalReport`.
        model: the judge's model (None when the judge does not run).
        retro: the judge's calls, tokens and USD (None: not run; ``cost_usd`` None when unpriced).
        held_out: trajectories to judge (of known outcome); held_out_source: where from.
        agent_runs: agent runs the replay would start; agent_runs_done: finished in an earlier attempt.
        priced: False when the model has no price in litellm's map.
    """

    name: str
    version: int
    baseline: int | None
    model: str | None = None
    retro: StageEstimate | None = None
    held_out: int = 0
    held_out_source: str = ""
    agent_runs: int = 0
    agent_runs_done: int = 0
    priced: bool = True


TrialHook = Callable[[dict[str, Any]], None]


def run_eval(
    ref: str,
    *,
    retro: bool,
    ab: bool,
    options: EvalOptions,
    on_judged: JudgedHook | None = None,
    on_trial: TrialHook | None = None,
) -> EvalReport:
    """Evaluate the stored version ``ref`` (``NAME`` or ``NAME@vN``) and store the results with it.

    Raises:
        SkillforgeError: neither evaluation asked for, unknown skill or version, no model for the
            judge, no held-out trajectories, a bad task list or agent command (all before any call
            or agent run), or store errors.
        KeyboardInterrupt: on Ctrl-C (finished trials are kept; judge replies are cached).
    """
    if not retro and not ab:
        raise SkillforgeError("say which evaluation to run: --retro, --ab, or both")
    if retro:
        require_model(options.model)
    name, number = parse_ref(ref)
    store = SkillStore(options.store_dir)
    candidate, previous = pick_versions(store, name, number, options.baseline)
    thresholds = options.thresholds or load_thresholds()
    spec = _ab_spec(options) if ab else None  # checked before anything runs
    report = EvalReport(name, candidate.version, previous.version if previous else None)
    with tempfile.TemporaryDirectory(prefix="skillforge-eval-") as scratch:
        folders = materialize_versions(store, name, [v for v in (candidate, previous) if v], Path(scratch))
        new_label, old_label = f"v{candidate.version}", f"v{previous.version}" if previous else "none"
        new_folder, old_folder = folders[candidate.version], folders[previous.version] if previous else None
        if retro:
            report.held_out = held_out_for(
                store, name, [v for v in (candidate, previous) if v], _runs(options), options.paths, options.outcomes
            )
            _retro(report, name, (new_label, new_folder), (old_label, old_folder), options, thresholds, on_judged)
        if spec is not None:
            _ab(report, name, (new_label, new_folder), (old_label, old_folder), spec, options, thresholds, on_trial)
    if options.save:
        for kind in ("retro", "ab"):
            if kind in report.gates:
                report.record = save_eval(
                    store, name, candidate.version, kind, _result_of(report, kind), report.gates[kind].to_dict()
                )
    return report


def gate_candidate(
    candidate: Path,
    name: str,
    mode: Mode,
    options: EvalOptions,
    held_out: HoldoutSplit | list[Trajectory] | None = None,
    on_judged: JudgedHook | None = None,
    on_trial: TrialHook | None = None,
    client: LLMClient | None = None,
) -> EvalReport:
    """Evaluate an unstored candidate skill folder against the store's latest version of ``name``
    (or no skill when there is none): ``distill --gate retro|ab``. Stores nothing.

    Args:
        candidate: the built skill folder (``runs/<id>/skill/<name>``).
        name: the skill's name.
        mode: ``retro`` (needs ``held_out``) or ``ab`` (needs ``options.tasks_file`` and ``agent_cmd``).
        held_out: the run's split (or its held-out trajectories).
        client: the LLM client to judge with (``distill`` passes its own, so that the judge's calls
            count against the run's budget and usage); None: one made from ``options``.

    Raises:
        SkillforgeError: as :func:`run_eval`; ``retro`` without held-out trajectories.
    """
    if mode == "retro":
        require_model(options.model)
    store = SkillStore(options.store_dir)
    current = store.version(name) if store.latest_version(name) else None
    thresholds = options.thresholds or load_thresholds()
    report = EvalReport(name, None, current.version if current else None)
    with tempfile.TemporaryDirectory(prefix="skillforge-gate-") as scratch:
        old_folder = store.materialize(name, current.version, Path(scratch)) if current else None
        old = (f"v{current.version}" if current else "none", old_folder)
        if mode == "retro":
            trajectories = held_out.held_out if isinstance(held_out, HoldoutSplit) else list(held_out or [])
            if not trajectories:
                raise SkillforgeError(
                    "--gate retro needs held-out trajectories: distill with --holdout FRACTION (e.g. 0.2)"
                )
            report.held_out = HeldOut(trajectories, "run")
            _retro(report, name, ("candidate", Path(candidate)), old, options, thresholds, on_judged, client)
        else:
            _ab(report, name, ("candidate", Path(candidate)), old, _ab_spec(options), options, thresholds, on_trial)
    return report


def record_gate(report: EvalReport, store_dir: Path, version: int) -> dict[str, Any] | None:
    """Store a :func:`gate_candidate` report with the version ``distill`` stored from that candidate.

    Returns:
        The stored record (None when the report holds no evaluation).
    """
    record = None
    store = SkillStore(store_dir)
    for kind in ("retro", "ab"):
        if kind in report.gates:
            record = save_eval(
                store, report.name, version, kind, _result_of(report, kind, f"v{version}"), report.gates[kind].to_dict()
            )
    return record


def dry_run(ref: str, *, retro: bool, ab: bool, options: EvalOptions) -> EvalEstimate:
    """What :func:`run_eval` would do and cost, calling no model and running no agent.

    Raises:
        SkillforgeError: as :func:`run_eval` (bad inputs are found here too).
    """
    if not retro and not ab:
        raise SkillforgeError("say which evaluation to run: --retro, --ab, or both")
    if retro:
        require_model(options.model)
    name, number = parse_ref(ref)
    store = SkillStore(options.store_dir)
    candidate, previous = pick_versions(store, name, number, options.baseline)
    estimate = EvalEstimate(name, candidate.version, previous.version if previous else None)
    with tempfile.TemporaryDirectory(prefix="skillforge-eval-") as scratch:
        versions = [v for v in (candidate, previous) if v]
        folders = materialize_versions(store, name, versions, Path(scratch))
        skills = [SkillUnderTest.from_folder(folders[v.version], f"v{v.version}", name) for v in versions]
        if retro:
            held = held_out_for(store, name, versions, _runs(options), options.paths, options.outcomes)
            client = judge_client(options.model, options.workspace)
            judge = RetroJudge(client, judge_context_tokens(options.model))
            estimate.model = client.settings.model
            estimate.priced = has_price(client.settings.model)
            estimate.retro = estimate_versions(skills, held.trajectories, judge)
            estimate.held_out = sum(1 for t in held.trajectories if t.outcome.status in ("success", "failure"))
            estimate.held_out_source = held.source
        if ab:
            spec = _ab_spec(options)
            arms = _arms(
                (f"v{candidate.version}", folders[candidate.version]),
                (f"v{previous.version}" if previous else "none", folders[previous.version] if previous else None),
            )
            estimate.agent_runs = len(spec.tasks) * len(arms) * spec.trials
            estimate.agent_runs_done = _finished_trials(options.workspace, name, arms, spec)
    return estimate


# --- the parts ----------------------------------------------------------------------------


def _retro(
    report: EvalReport,
    name: str,
    new: tuple[str, Path],
    old: tuple[str, Path | None],
    options: EvalOptions,
    thresholds: GateThresholds,
    on_judged,
    client: LLMClient | None = None,
) -> None:
    assert report.held_out is not None
    skills = [SkillUnderTest.from_folder(new[1], new[0], name)]
    if old[1] is not None:
        skills.append(SkillUnderTest.from_folder(old[1], old[0], name))
    client = client or judge_client(options.model, options.workspace, options.budget_usd)
    judge = RetroJudge(client, judge_context_tokens(options.model))
    report.retro = judge_versions(skills, report.held_out.trajectories, judge, on_judged)
    current = report.retro[1] if len(report.retro) > 1 else None
    report.gates["retro"] = decide_retro(report.retro[0], current, thresholds)


def _ab(
    report: EvalReport,
    name: str,
    new: tuple[str, Path],
    old: tuple[str, Path | None],
    spec: AbSpec,
    options: EvalOptions,
    thresholds,
    on_trial,
) -> None:
    arms = _arms(new, old)
    report.ab = run_ab(name, arms, spec, _work_folder(options.workspace, name, arms, spec), on_trial)
    report.gates["ab"] = decide_ab(report.ab.compare(arms[-2].label, arms[-1].label), thresholds)


def _arms(new: tuple[str, Path], old: tuple[str, Path | None]) -> list[Arm]:
    """Baseline first: no skill, the older version (when there is one), the version under evaluation."""
    arms = [Arm("none")]
    if old[1] is not None:
        arms.append(Arm(old[0], old[1]))
    arms.append(Arm(new[0], new[1]))
    return arms


def _ab_spec(options: EvalOptions) -> AbSpec:
    if options.tasks_file is None or not options.agent_cmd:
        raise SkillforgeError("the A/B replay needs --tasks FILE and --agent-cmd '…' (see docs/eval.md)")
    parse_command(options.agent_cmd)
    return AbSpec(
        load_tasks(options.tasks_file), options.agent_cmd, options.trials, options.jobs, options.timeout_s, options.host
    )


def _runs(options: EvalOptions) -> Path:
    return options.runs if options.runs is not None else Path(options.workspace) / "runs"


def _work_folder(workspace: Path, name: str, arms: list[Arm], spec: AbSpec) -> Path:
    """``<workspace>/evals/<name>-<16 hex>``: the same evaluation always lands in the same folder (resume)."""
    parts = [name, [(a.label, arm_digest(a)) for a in arms], spec.tasks, spec.command, spec.trials, spec.host]
    key = hashlib.sha256(orjson.dumps(parts)).hexdigest()
    return Path(workspace) / EVALS_DIR / f"{name}-{key[:16]}"


def _finished_trials(workspace: Path, name: str, arms: list[Arm], spec: AbSpec) -> int:
    from skillforge.eval.ab import RESULTS_FILE

    journal = _work_folder(workspace, name, arms, spec) / RESULTS_FILE
    return sum(1 for line in journal.read_bytes().splitlines() if line.strip()) if journal.is_file() else 0


def _result_of(report: EvalReport, kind: str, label: str | None = None) -> dict[str, Any]:
    """The JSON stored for ``kind``: the evaluated version's result, the baseline's figures beside it."""
    if kind == "retro":
        assert report.retro is not None and report.held_out is not None
        result = report.retro[0].to_dict()
        if label:
            result["label"] = label
        result["baseline"] = report.retro[1].summary() if len(report.retro) > 1 else None
        result["held_out"] = report.held_out.to_dict()
        return result
    assert report.ab is not None
    return report.ab.to_dict()
