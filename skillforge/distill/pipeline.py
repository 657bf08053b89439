"""The ``distill`` pipeline: the stages of :mod:`skillforge.distill.stages` in order, in one run
folder (:class:`skillforge.distill.runfolder.RunFolder`), with resume and clean stops.

:func:`distill` resumes a run with ``options.resume`` and repeats no finished call; a budget stop,
Ctrl-C or a kill leaves a run that continues where it stopped. The dry run is
:func:`skillforge.distill.estimate.estimate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.progress import Progress

from skillforge.distill.build import SkillBuild
from skillforge.distill.gate import (
    GateRejected,
    check_gate_options,
    gate_record,
    gate_stage,
    hold_out,
    record_gate,
    rejection,
    stopped_by_budget,
)
from skillforge.distill.manifest import (
    Ledger,
    build_templates,
    consolidation_summary,
    new_manifest,
)
from skillforge.distill.options import (
    DistillOptions,
    make_client,
    model_context_tokens,
    prepare,
    to_build_options,
)
from skillforge.distill.progress import StageBars
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.stages import (
    NothingNew,
    analyze_stage,
    build_stage,
    ingest_stage,
    start_stage,
    store_stage,
)
from skillforge.distill.start import (
    StartVersion,
)
from skillforge.errors import SkillforgeError
from skillforge.ingest.report import IngestReport
from skillforge.lesson import Lesson
from skillforge.llm.errors import BudgetExceeded, FatalLLMError
from skillforge.skill.validate import ValidationReport
from skillforge.store.git_store import SkillStore
from skillforge.store.version_info import VersionInfo

if TYPE_CHECKING:
    from skillforge.eval.command import EvalReport
    from skillforge.llm.client import LLMClient


class RunInterrupted(SkillforgeError):
    """The run was interrupted (Ctrl-C); finished work is in the run folder. Exit code 130."""

    exit_code = 130


@dataclass
class DistillResult:
    """What :func:`distill` produced.

    Attributes:
        ingest_report: per-file results and problems (empty on resume: nothing was read).
        run: the run folder.
        analyst: the analyst used (``heuristic`` or ``llm``).
        hint: the one-line "how to use a model" note when ``auto`` fell back to heuristic.
        trajectories: number of trajectories analysed.
        lessons: lessons kept (grounded).
        dropped_lessons: ``(title, problems)`` of lessons dropped by the grounding check.
        start: the start version the skill was built from.
        build: the build (None when not reached); ``build.report`` is the consolidation report.
        validation: the validator's report on the built skill (None when not reached).
        version: the stored version; None when the skill was invalid or the run stopped early.
        stopped: ``"budget"`` when the budget stopped the run; stopped_stage: ``analyse`` or ``build``.
        manifest: the final run manifest.
        warnings: one-line notes for the user (e.g. a budget that cannot apply).
        not_stored: why a valid skill was not stored (:class:`~skillforge.distill.stages.NothingNew`,
            or the gate's rejection).
        gate: the gate's evaluation of the candidate (``--gate``; None: no gate, or not reached).
    """

    ingest_report: IngestReport
    run: RunFolder | None = None
    analyst: str = "heuristic"
    hint: str | None = None
    trajectories: int = 0
    lessons: list[Lesson] = field(default_factory=list)
    dropped_lessons: list[tuple[str, list[str]]] = field(default_factory=list)
    start: StartVersion | None = None
    build: SkillBuild | None = None
    validation: ValidationReport | None = None
    version: VersionInfo | None = None
    stopped: str | None = None
    stopped_stage: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    not_stored: str | None = None
    gate: EvalReport | None = None


def distill(options: DistillOptions, progress: Progress) -> DistillResult:
    """Run the pipeline (or resume a run) and store a new version of the skill.

    Args:
        options: see :class:`DistillOptions`.
        progress: a rich Progress (use ``Progress(disable=True)`` for silence).

    Returns:
        A :class:`DistillResult`; ``version`` is None when validation failed or the budget
        stopped the run (``stopped == "budget"``).

    Raises:
        SkillforgeError: bad options or skill name (checked before anything is read), a missing
            path, nothing readable, or a run that cannot be resumed.
        RunInterrupted: on Ctrl-C; the manifest says ``interrupted`` and the run can be resumed.
    """
    prepared = prepare(options)
    options, analyst, hint, name, manifest = (
        prepared.options,
        prepared.analyst,
        prepared.hint,
        prepared.name,
        prepared.manifest,
    )
    build_options = to_build_options(options)
    check_gate_options(options)
    timings: dict[str, float] = {}
    started = time.monotonic()
    if prepared.run is not None:
        run = prepared.run
        trajectories = run.read_trajectories()
        report = IngestReport()
        manifest["attempts"] = manifest.get("attempts", 1) + 1
        timings.update(manifest.get("timings_s") or {})
    else:
        trajectories, report = ingest_stage(options.paths, progress, options.outcomes)
        run = RunFolder.create(options.runs_dir)
        trajectories, held_out = hold_out(run, trajectories, options.holdout)
        manifest = new_manifest(run, options, name, analyst, report, trajectories)
        if held_out is not None:
            manifest["holdout"] = held_out
        run.write_trajectories(trajectories)
        run.write_manifest(manifest)  # from here on the run can be resumed, whenever it stops
        timings["ingest"] = time.monotonic() - started
    result = DistillResult(ingest_report=report, run=run, analyst=analyst, hint=hint, trajectories=len(trajectories))
    client = make_client(options, analyst)
    if client is not None and options.budget_usd is not None:
        from skillforge.llm.tokens import has_price

        if not has_price(client.settings.model):
            result.warnings.append(
                f"litellm's cost map has no price for {client.settings.model}, so --budget cannot limit this run"
            )
    ledger = Ledger(manifest, client)
    manifest.update(status="running")

    def save(status: str | None = None) -> None:
        if status:
            manifest["status"] = status
        ledger.sync()
        manifest["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        run.write_manifest(manifest)

    bars = StageBars(progress, client, on_advance=save if client is not None else None)

    def timed(stage: str, clock: float) -> None:
        timings[stage] = timings.get(stage, 0.0) + time.monotonic() - clock

    try:
        result.start = start_stage(run, options, name, trajectories)
        manifest["start"] = result.start.to_dict()
        save()

        clock = time.monotonic()
        ledger.begin("analyse")
        context_tokens = model_context_tokens(options.model) if client is not None else 0
        analysis = analyze_stage(trajectories, run, client, context_tokens, bars)
        result.lessons, result.dropped_lessons, result.stopped = analysis.lessons, analysis.dropped, analysis.stopped
        manifest["analysis"] = {**analysis.summary, "done": analysis.stopped is None}
        if "templates" in analysis.summary:
            manifest["templates"] = {**analysis.summary["templates"], **build_templates()}
        run.write_trajectories(trajectories)  # with judged outcomes
        run.write_lessons(result.lessons)
        timed("analyse", clock)
        if result.stopped:
            result.stopped_stage = "analyse"
            save("stopped")
            result.manifest = manifest
            if result.stopped == "fatal":
                raise _stopped_by(client, run)
            return result

        clock = time.monotonic()
        ledger.begin("build")
        save()
        build_options.version = SkillStore(options.store_dir).latest_version(name) + 1
        build_options.trajectory_count = len(trajectories)
        try:
            result.build = build_stage(result.lessons, result.start, run, client, build_options, bars)
        except FatalLLMError:
            timed("build", clock)
            manifest["consolidation"] = consolidation_summary(run)
            save("stopped")
            raise _stopped_by(client, run) from None
        except BudgetExceeded:
            timed("build", clock)
            result.stopped, result.stopped_stage = "budget", "build"
            manifest["consolidation"] = consolidation_summary(run)
            save("stopped")
            result.manifest = manifest
            return result
        result.validation = result.build.validation
        manifest["consolidation"] = consolidation_summary(run)
        timed("build", clock)

        if options.gate and result.build.ok:
            clock = time.monotonic()
            ledger.begin("gate")
            result.gate = gate_stage(result.build, run, options, name, client)
            manifest["gate"] = gate_record(result.gate)
            timed("gate", clock)
            if stopped_by_budget(result.gate):
                result.stopped, result.stopped_stage = "budget", "gate"
                save("stopped")
                result.manifest = manifest
                return result

        clock = time.monotonic()
        ledger.sync()
        usage = manifest.get("usage") or {}
        info = {
            "run": run.run_id,
            "inputs": [str(p) for p in options.paths],
            "analyst": analyst,
            "model": options.model.model if analyst == "llm" else None,
            "start": result.start.source,
            "trajectories": len(trajectories),
            "lessons": len(result.lessons),
            "edits_applied": result.build.report.apply.get("applied", 0),
            "calls": usage.get("calls", 0),
            "cached": usage.get("cached", 0),
            "prompt_tokens": usage.get("prompt_tokens", 0),
            "completion_tokens": usage.get("completion_tokens", 0),
            "cost_usd": usage.get("cost_usd", 0.0),
            "formats": sorted({t.source.format for t in trajectories}),
        }
        try:
            if result.gate is not None and not result.gate.promote:
                raise GateRejected(rejection(result.gate, result.build))
            result.version = store_stage(
                result.build,
                options.store_dir,
                info,
                start=result.start,
                analysis=manifest.get("analysis") or {},
                allow_empty=options.allow_empty,
            )
        except (NothingNew, GateRejected) as nothing:
            result.not_stored = str(nothing)
        if result.gate is not None and result.version is not None:
            record_gate(result.gate, options.store_dir, result.version.version)
        timed("store", clock)
    except FatalLLMError:
        raise
    except KeyboardInterrupt:
        save("interrupted")
        raise RunInterrupted(
            f"interrupted; finished work is kept: resume with `skillforge distill --resume {run.run_id}`"
        ) from None
    except BaseException:
        save("failed")
        raise
    manifest["counts"] = {
        "trajectories": len(trajectories),
        "lessons": len(result.lessons),
        "edits_applied": result.build.report.apply.get("applied", 0),
    }
    if result.version is not None:
        manifest["version"] = {"name": result.version.name, "version": result.version.version}
    rejected = result.gate is not None and not result.gate.promote
    status = "rejected" if rejected else "nothing-new" if result.not_stored else "invalid"
    save("done" if result.version is not None else status)
    result.manifest = manifest
    return result


def _stopped_by(client: LLMClient | None, run: RunFolder) -> FatalLLMError:
    """The error that stopped the run, saying that its work is kept and how to go on."""
    fatal = client.fatal if client is not None else None
    message = str(fatal) if fatal is not None else "a model call failed in a way no retry can fix"
    return FatalLLMError(
        f"{message} (nothing was stored; run {run.run_id} keeps what was done: "
        f"skillforge distill --resume {run.run_id})",
        fatal.reason if fatal is not None else "credentials",
    )
