"""The ``distill`` pipeline, stage by stage: ingest → start version → analyse → build → store.

Each stage is one function taking and returning the typed artifacts of DESIGN §1:

* :func:`ingest_stage` — log files → :class:`Trajectory` list (+ an :class:`IngestReport`);
* :func:`start_stage` — the frozen start version of the skill: ``--from PATH``, else the latest
  store version of the skill (deepening), else a seed (:mod:`skillforge.skill.start`);
* :func:`analyze_stage` — trajectories → grounded :class:`Lesson` list, by the offline heuristic
  analyst or by the LLM analysts (:mod:`skillforge.analyze.passes`);
* :func:`build_stage` — lessons → a validated skill folder with provenance: propose, k-way merge,
  apply, validate and fix (:func:`skillforge.build.build_skill`; offline: the deterministic patch);
* :func:`store_stage` — the built skill → a new version in the store (only when it validates).

Every run has one run folder (:class:`skillforge.run.RunFolder`) holding the analysts' files and the
build's; :func:`distill` resumes one with ``options.resume`` and repeats no finished call.
:func:`estimate` is the dry run: it reads and renders everything and calls nothing.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.progress import Progress

from skillforge import __version__
from skillforge.analyze import heuristic
from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.signals import compute_signals
from skillforge.build import BuildOptions, SkillBuild, build_skill, check_options, estimate_build
from skillforge.config import OFFLINE_HINT, ModelConfig
from skillforge.errors import SkillforgeError
from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from skillforge.ingest.command import nothing_read
from skillforge.ingest.outcomes import load_labels
from skillforge.lesson import Lesson
from skillforge.llm import BudgetExceeded
from skillforge.progress import StageBars, display_paused
from skillforge.run import RunFolder
from skillforge.skill.start import StartVersion, check_skill_name, folder_skill_name, folder_start, saved_start, seed_start, store_start
from skillforge.skill.validate import ValidationReport
from skillforge.store.git_store import SkillStore, VersionInfo
from skillforge.trajectory import Trajectory

ANALYSTS = ("auto", "heuristic", "llm")
DEFAULT_CONTEXT_TOKENS = 8192
"""Context assumed for a model litellm's model map does not know (tokens)."""
CACHE_DIR = "cache"
BUILD_TEMPLATES = ("propose", "merge", "translate", "fix")
"""Prompt templates of the build stage (their versions go to the manifest)."""


class RunInterrupted(SkillforgeError):
    """The run was interrupted (Ctrl-C); finished work is in the run folder. Exit code 130."""

    exit_code = 130


@dataclass
class DistillOptions:
    """Inputs of :func:`distill` and :func:`estimate`.

    Attributes:
        paths: log files or folders (ignored on resume: the run's trajectories are reused).
        skill_name: name of the skill to create or add a version to (kebab-case); derived from
            ``from_path``'s skill, else from the first path, when empty.
        store_dir: the skill store folder.
        analyst: ``auto`` (the LLM analysts when a model is configured, else heuristic),
            ``heuristic`` (offline) or ``llm`` (a model is required).
        description: frontmatter description of a new skill; derived when empty.
        model: the resolved model settings (:func:`skillforge.config.resolve_config`).
        budget_usd: most USD this invocation may spend on LLM calls; None for no limit.
        resume: a run id (or ``latest``, or a run folder path) to resume; None for a new run.
        workspace: where run folders and the response cache live (``.skillforge``).
        outcomes: labels file for logs without an outcome (:mod:`skillforge.ingest.outcomes`).
        from_path: a skill folder to deepen (``--from``); None: the store's latest version of the
            skill when there is one, else a seed.
        propose_batch: lessons per proposal call (``--propose-batch``).
        fan_in: patches per merge call (``--fan-in``).
        max_fix_rounds: LLM fix rounds when the skill fails validation (``--max-fix-rounds``).
        min_support: the support (distinct trajectories) an edit needs to stay (``--min-support``);
            None: 2 in runs of 10 trajectories or more, else 1 (:mod:`skillforge.merge.support`).
    """

    paths: Sequence[Path] = ()
    skill_name: str = ""
    store_dir: Path = Path("skills")
    analyst: str = "auto"
    description: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    budget_usd: float | None = None
    resume: str | None = None
    workspace: Path = Path(".skillforge")
    outcomes: Path | None = None
    from_path: Path | None = None
    propose_batch: int = 4
    fan_in: int = 5
    max_fix_rounds: int = 3
    min_support: int | None = None


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


@dataclass
class DryRun:
    """What :func:`estimate` found: per-stage calls, tokens and USD, with nothing called.

    Attributes:
        analyst, model, hint: as :class:`DistillResult`.
        trajectories: how many would be analysed.
        stages: one :class:`~skillforge.llm.StageEstimate` per stage (analyse, compare, propose,
            merge, translate, fix; offline: analyse and build, without calls).
        priced: False when the model has no price in litellm's map (USD unknown).
        start: how the skill would start (``seed``, ``store …``, ``folder …``).
    """

    analyst: str
    model: str | None
    hint: str | None
    trajectories: int
    stages: list = field(default_factory=list)
    priced: bool = True
    ingest_report: IngestReport = field(default_factory=IngestReport)
    start: str = ""


def skill_name_from(path: Path) -> str:
    """A skill name from a folder or file name (``sample_traces`` → ``sample-traces``); not yet checked."""
    base = path.resolve().name if path.is_dir() else path.resolve().stem
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:64].strip("-")
    return name or "agent-skill"


def resolve_skill_name(options: DistillOptions) -> str:
    """The skill this run builds, checked against the validator's name rules before any work.

    ``--from PATH`` gives the name of the skill there (``--skill``, if given, must agree: a deepened
    skill keeps its name); else ``--skill``; else a name derived from the first log path.

    Raises:
        SkillforgeError: one line: the name is not valid (with a ``--skill`` suggestion), or
            ``--skill`` disagrees with ``--from``.
    """
    if options.from_path is not None:
        name = folder_skill_name(Path(options.from_path))
        if options.skill_name and options.skill_name != name:
            raise SkillforgeError(f"--from {options.from_path} holds the skill {name!r} but --skill says {options.skill_name!r}; a deepened skill keeps its name")
        check_skill_name(name)
        return name
    if options.skill_name:
        check_skill_name(options.skill_name)
        return options.skill_name
    if not options.paths:
        raise SkillforgeError("give the log files or folders to distill (or --resume RUN)")
    name = skill_name_from(Path(options.paths[0]))
    try:
        check_skill_name(name)
    except SkillforgeError as exc:
        raise SkillforgeError(f"{exc} (the name was derived from {options.paths[0]})") from None
    return name


def resolve_analyst(analyst: str, model: ModelConfig) -> tuple[str, str | None]:
    """Which analyst runs: ``("llm" | "heuristic", hint or None)``.

    Raises:
        SkillforgeError: an unknown analyst, or ``llm`` without a model.
    """
    if analyst not in ANALYSTS:
        raise SkillforgeError(f"unknown analyst {analyst!r}; choose one of: {', '.join(ANALYSTS)}")
    if analyst == "heuristic":
        return "heuristic", None
    if model.model:
        return "llm", None
    if analyst == "llm":
        raise SkillforgeError("--analyst llm needs a model: pass --model <litellm model name>, or set SKILLFORGE_MODEL")
    return "heuristic", OFFLINE_HINT


# --- the stages ------------------------------------------------------------------------------


def ingest_stage(
    paths: Sequence[Path],
    progress: Progress,
    outcomes: Path | None = None,
    on_trajectory: Callable[[Trajectory], None] | None = None,
) -> tuple[list[Trajectory], IngestReport]:
    """Read every trajectory under ``paths``; ``on_trajectory`` sees each one as it is read (the
    dry run starts counting its prompt while the rest are read).

    Raises:
        SkillforgeError: a missing path, or no trajectory could be read.
    """
    report = IngestReport()
    bar = StageBars(progress).stage("Reading logs")
    trajectories: list[Trajectory] = []
    # the trajectories live as long as the run, and hold no reference cycles: the cyclic collector
    # is paused while they pile up, then they (and all else alive) are moved out of its sight, or
    # every full collection would walk them all again (seconds each on a gigabyte of logs);
    # reference counting frees them as usual
    collecting = gc.isenabled()
    gc.disable()
    try:
        for trajectory in ingest(paths, report, load_labels(outcomes) if outcomes else None):
            trajectories.append(trajectory)
            if on_trajectory is not None:
                on_trajectory(trajectory)
            bar.advance()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    bar.finish(len(trajectories))
    if not trajectories:
        raise SkillforgeError(nothing_read(paths, report))
    return trajectories, report


def start_stage(run: RunFolder, options: DistillOptions, name: str, trajectories: list[Trajectory]) -> StartVersion:
    """Freeze the start version in ``run`` (DESIGN §2): the one frozen earlier (a resumed run), else
    ``options.from_path``, else the latest store version of ``name``, else a seed naming the
    trajectories' most used tools.

    Raises:
        SkillforgeError: an unreadable ``--from`` folder or store version.
    """
    saved = saved_start(run)
    if saved is not None:
        return saved
    if options.from_path is not None:
        return folder_start(run, Path(options.from_path))
    store = SkillStore(options.store_dir)
    if store.latest_version(name):
        return store_start(run, store, name)
    tools = Counter(call.function_name for t in trajectories for step in t.steps for call in step.tool_calls)
    formats = sorted({t.source.format for t in trajectories})
    return seed_start(run, name, description=options.description, tools=[tool for tool, _ in tools.most_common()], trajectory_count=len(trajectories), formats=formats)


@dataclass
class Analysis:
    """What the analyse stage produced, whichever analyst ran.

    Attributes:
        lessons: grounded lessons, in plan order.
        dropped: ``(title, problems)`` of lessons dropped by the grounding check.
        stopped: ``"budget"`` when the budget stopped the LLM analysis early.
        summary: counts for the manifest (see :meth:`AnalysisReport.summary`).
    """

    lessons: list[Lesson]
    dropped: list[tuple[str, list[str]]] = field(default_factory=list)
    stopped: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def analyze_stage(
    trajectories: list[Trajectory],
    run: RunFolder,
    client,
    context_tokens: int,
    bars: StageBars,
) -> Analysis:
    """Trajectories → grounded lessons: the LLM analysts when ``client`` is given, else the
    offline heuristic analyst.

    Args:
        trajectories: the input (judged outcomes are set on them by the LLM path).
        run: the run folder (the LLM path journals each pass there).
        client: an :class:`~skillforge.llm.LLMClient`, or None for the heuristic analyst.
        context_tokens: the model's context in tokens (LLM path).
        bars: progress bars, one per stage (advanced as each pass ends).

    Returns:
        An :class:`Analysis`.
    """
    if client is None:
        return _heuristic_analysis(trajectories, bars)
    from skillforge.analyze.passes import PassRunner, analyze_with_llm

    stage_bars = {}
    labels = {"analyse": "Analysing trajectories", "compare": "Comparing runs of a task"}

    def on_stage(stage: str, total: int, done: int) -> None:
        stage_bars[stage] = bars.stage(labels[stage], total, completed=done)

    def on_pass(stage: str, record: dict) -> None:
        stage_bars[stage].advance()

    report = analyze_with_llm(trajectories, PassRunner(client, context_tokens), run, on_stage, on_pass)
    summary = report.summary()
    dropped = [(d["title"], d["problems"]) for d in summary["dropped_lessons"]]
    return Analysis(report.lessons, dropped, report.stopped, summary)


def build_stage(lessons: list[Lesson], start: StartVersion, run: RunFolder, client, options: BuildOptions, bars: StageBars) -> SkillBuild:
    """Lessons → a skill folder staged in ``run``, validated, with provenance
    (:func:`skillforge.build.build_skill`; ``client`` None: the offline path, no call).

    Raises:
        BudgetExceeded: the budget stopped the build (finished steps are saved in ``run``).
        KeyboardInterrupt: on Ctrl-C (finished steps are saved in ``run``).
    """

    async def main() -> SkillBuild | None:
        try:
            return await build_skill(lessons, start, client=client, options=options, run=run, bars=bars)
        except KeyboardInterrupt:
            return None  # asyncio.run raises it again; caught here, no task exception is left unread

    build = asyncio.run(main())
    if build is None:
        raise KeyboardInterrupt
    return build


def store_stage(build: SkillBuild, store_dir: Path, info: dict[str, Any]) -> VersionInfo | None:
    """Commit the built skill as the next version with its provenance, when it validates.

    A run stores one version however often it is resumed: when the store already holds a version
    committed by this run (``info["run"]``; it was killed after the commit), that version is
    returned and nothing new is stored.

    Returns:
        The stored version, or None when the skill fails validation (nothing is stored).
    """
    if not build.ok:
        return None
    store = SkillStore(store_dir)
    store.repair()  # a write this run was killed in is completed (tagged) or undone first
    for stored in reversed(store.versions(build.report.skill)):
        if stored.info.get("run") == info["run"]:
            return stored  # a resumed run that had stored its version before it stopped
    return store.commit_version(build.report.skill, build.provenance.version, build.folder, info, provenance=build.provenance)


# --- the whole run ---------------------------------------------------------------------------


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
    run, manifest, options, analyst, hint, name = _prepare(options)
    build_options = _build_options(options)
    timings: dict[str, float] = {}
    started = time.monotonic()
    if options.resume:
        trajectories = run.read_trajectories()
        report = IngestReport()
        manifest["attempts"] = manifest.get("attempts", 1) + 1
        timings.update(manifest.get("timings_s") or {})
    else:
        trajectories, report = ingest_stage(options.paths, progress, options.outcomes)
        run = RunFolder.create(options.workspace)
        manifest = _new_manifest(run, options, name, analyst, report, trajectories)
        run.write_trajectories(trajectories)
        run.write_manifest(manifest)  # from here on the run can be resumed, whenever it stops
        timings["ingest"] = time.monotonic() - started
    result = DistillResult(ingest_report=report, run=run, analyst=analyst, hint=hint, trajectories=len(trajectories))
    client = _client(options, analyst)
    if client is not None and options.budget_usd is not None:
        from skillforge.llm import has_price

        if not has_price(client.settings.model):
            result.warnings.append(f"litellm's cost map has no price for {client.settings.model}, so --budget cannot limit this run")
    ledger = _Ledger(manifest, client)
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
        context_tokens = _context_tokens(options.model) if client is not None else 0
        analysis = analyze_stage(trajectories, run, client, context_tokens, bars)
        result.lessons, result.dropped_lessons, result.stopped = analysis.lessons, analysis.dropped, analysis.stopped
        manifest["analysis"] = {**analysis.summary, "done": analysis.stopped is None}
        if "templates" in analysis.summary:
            manifest["templates"] = {**analysis.summary["templates"], **_build_templates()}
        run.write_trajectories(trajectories)  # with judged outcomes
        run.write_lessons(result.lessons)
        timed("analyse", clock)
        if result.stopped:
            result.stopped_stage = "analyse"
            save("stopped")
            result.manifest = manifest
            return result

        clock = time.monotonic()
        ledger.begin("build")
        save()
        build_options.version = SkillStore(options.store_dir).latest_version(name) + 1
        build_options.trajectory_count = len(trajectories)
        try:
            result.build = build_stage(result.lessons, result.start, run, client, build_options, bars)
        except BudgetExceeded:
            timed("build", clock)
            result.stopped, result.stopped_stage = "budget", "build"
            manifest["consolidation"] = _consolidation_summary(run)
            save("stopped")
            result.manifest = manifest
            return result
        result.validation = result.build.validation
        manifest["consolidation"] = _consolidation_summary(run)
        timed("build", clock)

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
        result.version = store_stage(result.build, options.store_dir, info)
        timed("store", clock)
    except KeyboardInterrupt:
        save("interrupted")
        raise RunInterrupted(f"interrupted; finished work is kept: resume with `skillforge distill --resume {run.run_id}`") from None
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
    save("done" if result.version is not None else "invalid")
    result.manifest = manifest
    return result


def estimate(options: DistillOptions, progress: Progress) -> DryRun:
    """The dry run: per-stage calls, tokens and USD of :func:`distill`, calling no model.

    Reads the logs (or the resumed run), renders every analyst prompt and counts its tokens
    locally, in worker processes while the logs are still being read
    (:class:`skillforge.analyze.estimate.AnalysisEstimate`; a prompt cut to fit the context is
    counted as the sum of its parts); calls already in the response cache or finished in the
    resumed run count as cached.
    The build stages are estimated by :func:`skillforge.build.estimate_build` (lessons not written
    yet are counted at most 3 per analyst pass). Writes nothing (the start version is frozen in a
    temporary folder).

    Raises:
        SkillforgeError: as :func:`distill`.
    """
    from skillforge.llm import StageEstimate, has_price

    run, manifest, options, analyst, hint, name = _prepare(options)
    build_options = _build_options(options)
    with ExitStack() as stack:
        analysis = None
        if analyst == "llm":
            from skillforge.analyze.estimate import AnalysisEstimate
            from skillforge.analyze.passes import PassRunner

            client = _client(options, analyst)
            with display_paused(progress):  # the workers are forked here
                analysis = stack.enter_context(AnalysisEstimate(PassRunner(client, _context_tokens(options.model)), run))
        if run is not None:
            trajectories, report = run.read_trajectories(), IngestReport()
            if analysis is not None:
                for trajectory in trajectories:
                    analysis.add(trajectory)
        else:
            trajectories, report = ingest_stage(options.paths, progress, options.outcomes, analysis.add if analysis is not None else None)
        dry = DryRun(analyst, options.model.model if analyst == "llm" else None, hint, len(trajectories), ingest_report=report)
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="skillforge-dry-run-"))
        start = (saved_start(run) if run is not None else None) or start_stage(RunFolder(Path(scratch)), options, name, trajectories)
        dry.start = start.mode if start.mode == "seed" else f"{start.mode} {start.source}"
        if analysis is None:
            dry.stages = [
                StageEstimate("analyse", note="offline heuristic analyst: no calls"),
                StageEstimate("build", note="offline: deterministic patch, applied and validated in code; no calls"),
            ]
            return dry
        from skillforge.analyze.output_schema import MAX_LESSONS

        bar = StageBars(progress).stage("Estimating prompts", total=analysis.passes)
        dry.stages = analysis.finish(trajectories, bar.advance)
        passes = sum(stage.calls + stage.cached for stage in dry.stages)
        lessons = run.read_lessons() if run is not None and (manifest.get("analysis") or {}).get("done") else None
        dry.stages += estimate_build(analysis.runner.client, start, build_options, lessons=lessons, expected_lessons=MAX_LESSONS * passes, run=run)
        dry.priced = has_price(analysis.runner.client.settings.model)
        bar.finish()
    return dry


# --- helpers ---------------------------------------------------------------------------------


class _Ledger:
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
        self.manifest["usage"] = _add_usage(self.before, now)
        if self.stage is not None:
            delta = {key: value - self.stage_start.get(key, 0) for key, value in now.items()}
            self.stages[self.stage] = _add_usage(self.stage_before, delta)
        self.manifest["stages"] = self.stages


def _prepare(options: DistillOptions) -> tuple[RunFolder | None, dict[str, Any], DistillOptions, str, str | None, str]:
    """What :func:`distill` and :func:`estimate` settle first: the run to resume (with its
    manifest and the options it was started with), the analyst and the skill name.

    Returns:
        ``(run or None, manifest or {}, options, analyst, hint, name)``.

    Raises:
        SkillforgeError: a run that cannot be resumed, a bad analyst choice or skill name.
    """
    run: RunFolder | None = None
    manifest: dict[str, Any] = {}
    if options.resume:
        run = RunFolder.open(options.workspace, options.resume)
        manifest = run.read_manifest()
        options = _resumed_options(options, manifest)
    analyst, hint = resolve_analyst(options.analyst, options.model)
    name = options.skill_name if options.resume else resolve_skill_name(options)  # a resumed run's name was checked when it began
    return run, manifest, options, analyst, hint, name


def _build_options(options: DistillOptions) -> BuildOptions:
    """The build's options from the distill options (checked: a bad value fails before any work)."""
    build = BuildOptions(propose_batch=options.propose_batch, fan_in=options.fan_in, max_fix_rounds=options.max_fix_rounds, min_support=options.min_support)
    check_options(build)
    return build


def _build_templates() -> dict[str, str]:
    from skillforge.prompts import prompt_template

    return {name: prompt_template(name).version for name in BUILD_TEMPLATES}


def _consolidation_summary(run: RunFolder) -> dict[str, Any]:
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
                "level": level.level, "stage": level.stage, "inputs": level.inputs, "outputs": level.outputs, "calls": level.calls,
                "reused": level.reused, "failed": level.failed, "dropped": len(level.dropped), "contradictions": len(level.contradictions),
                "prompt_tokens": level.prompt_tokens, "completion_tokens": level.completion_tokens, "cost_usd": round(level.cost_usd, 6),
            }
            for level in report.levels
        ],
        "contradictions": len(report.contradictions),
        "applied": report.apply.get("applied", 0),
        "unmatched": len(report.apply.get("unmatched", [])),
        "fix_rounds": len(report.fix_rounds),
        "totals": {"prompt_tokens": report.prompt_tokens, "completion_tokens": report.completion_tokens, "cost_usd": round(report.cost_usd, 6)},
    }


def _heuristic_analysis(trajectories: list[Trajectory], bars: StageBars) -> Analysis:
    bar = bars.stage("Analysing trajectories", len(trajectories))
    lessons: list[Lesson] = []
    for trajectory in trajectories:
        lessons.extend(heuristic.analyze(trajectory, compute_signals(trajectory)))
        bar.advance()
    lessons.extend(heuristic.compare(trajectories))
    by_id = {t.session_id: t for t in trajectories}
    kept, dropped = [], []
    for lesson in lessons:
        problems = grounding_problems(lesson, by_id)
        if problems:
            dropped.append((lesson.title, problems))
        else:
            kept.append(lesson)
    summary = {
        "passes": {"heuristic": len(trajectories)},
        "lessons": {"kept": len(kept), "repaired": 0, "dropped": len(dropped)},
        "dropped_lessons": [{"title": title, "problems": problems} for title, problems in dropped],  # shown by the HTML report
    }
    return Analysis(kept, dropped, None, summary)


def _client(options: DistillOptions, analyst: str):
    if analyst != "llm":
        return None
    from skillforge import backends
    from skillforge.llm import DEFAULT_EXPECTED_COMPLETION_TOKENS, LLMClient, LLMSettings, ResponseCache

    model, api_base = options.model.model or "", options.model.api_base
    local = backends.local_settings(model, api_base, DEFAULT_EXPECTED_COMPLETION_TOKENS)
    settings = LLMSettings(model=model, api_base=api_base, **local)
    cache = ResponseCache(Path(options.workspace) / CACHE_DIR)
    return LLMClient(settings, options.model.concurrency, cache=cache, budget_usd=options.budget_usd)


def _context_tokens(model: ModelConfig) -> int:
    """``--context-tokens``, else the model's ``max_input_tokens`` from litellm, else 8192."""
    if model.context_tokens:
        return model.context_tokens
    from skillforge.llm import context_window

    return context_window(model.model or "") or DEFAULT_CONTEXT_TOKENS


def _resumed_options(options: DistillOptions, manifest: dict[str, Any]) -> DistillOptions:
    """The options a run was started with; only concurrency and budget may change on resume."""
    status = manifest.get("status")
    if status == "done":
        raise SkillforgeError(f"run {manifest.get('run_id')} is already finished (stored {manifest.get('version')}); start a new run instead")
    saved = manifest["options"]
    saved_model = manifest.get("model") or {}
    if options.model.model and saved_model.get("name") and options.model.model != saved_model.get("name") and (options.model.sources or {}).get("model") == "option":
        raise SkillforgeError(f"run {manifest.get('run_id')} used model {saved_model.get('name')!r}; resume it with that model (or start a new run)")
    model = replace(
        options.model,
        model=saved_model.get("name"),
        api_base=saved_model.get("api_base"),
        context_tokens=saved_model.get("context_tokens"),
    )
    return replace(
        options,
        paths=[Path(p) for p in saved["paths"]],
        skill_name=saved["skill_name"],
        store_dir=Path(saved["store_dir"]),
        analyst=saved["analyst"],
        description=saved.get("description", ""),
        model=model,
        from_path=Path(saved["from"]) if saved.get("from") else None,
        propose_batch=saved.get("propose_batch", options.propose_batch),
        fan_in=saved.get("fan_in", options.fan_in),
        max_fix_rounds=saved.get("max_fix_rounds", options.max_fix_rounds),
        min_support=saved.get("min_support"),
    )


def _new_manifest(run: RunFolder, options: DistillOptions, name: str, analyst: str, report: IngestReport, trajectories) -> dict[str, Any]:
    model = None
    if analyst == "llm":
        model = {
            "name": options.model.model,
            "api_base": options.model.api_base,
            "context_tokens": _context_tokens(options.model),
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
        },
        "analyst": analyst,
        "model": model,
        "budget_usd": options.budget_usd,
        "inputs": [
            {"path": f.path, "sha256": _sha256(Path(f.path)), "format": f.format, "trajectories": f.trajectories}
            for f in report.files
            if f.format
        ],
        "counts": {"trajectories": len(trajectories)},
        "ingest_problems": len(report.problems),
        "redactions": dict(report.redactions),
    }


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _add_usage(before: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    total = {key: before.get(key, 0) + value for key, value in now.items()}
    total["cost_usd"] = round(total.get("cost_usd", 0.0), 6)
    return total


