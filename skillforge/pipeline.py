"""The ``distill`` pipeline, stage by stage: ingest → analyse → merge → render + validate → store.

Each stage is one function taking and returning the typed artifacts of DESIGN §1:

* :func:`ingest_stage` — log files → :class:`Trajectory` list (+ an :class:`IngestReport`);
* :func:`analyze_stage` — trajectories → grounded :class:`Lesson` list, by the offline heuristic
  analyst or by the LLM analysts (:mod:`skillforge.analyze.passes`);
* :func:`merge_stage` — lessons → ranked lesson groups (the deterministic merge for now; the LLM
  patch/consolidation stage replaces this one call);
* :func:`store_stage` — groups → skill folder rendered, validated and stored as a new version.

Every run has a run folder (:mod:`skillforge.run`) with its manifest, trajectories, journal and
lessons; :func:`distill` resumes one with ``options.resume``. :func:`estimate` is the dry run:
it reads and renders everything and calls nothing.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.progress import Progress, TaskID

from skillforge import __version__
from skillforge.analyze import heuristic
from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.signals import compute_signals
from skillforge.config import OFFLINE_HINT, ModelConfig
from skillforge.errors import SkillforgeError
from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from skillforge.ingest.command import nothing_read
from skillforge.ingest.outcomes import load_labels
from skillforge.lesson import Lesson
from skillforge.merge.offline import LessonGroup, group_lessons
from skillforge.run import RunFolder
from skillforge.skill.render import SkillContent, render_skill
from skillforge.skill.validate import ValidationReport, validate_skill
from skillforge.store.git_store import SkillStore, VersionInfo
from skillforge.trajectory import Trajectory

_NAME_OK = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ANALYSTS = ("auto", "heuristic", "llm")
DEFAULT_CONTEXT_TOKENS = 8192
"""Context assumed for a model litellm's model map does not know (tokens)."""
CACHE_DIR = "cache"


class RunInterrupted(SkillforgeError):
    """The run was interrupted (Ctrl-C); finished work is in the run folder. Exit code 130."""

    exit_code = 130


@dataclass
class DistillOptions:
    """Inputs of :func:`distill` and :func:`estimate`.

    Attributes:
        paths: log files or folders (ignored on resume: the run's trajectories are reused).
        skill_name: name of the skill to create or add a version to (kebab-case); derived from
            the first path when empty.
        store_dir: the skill store folder.
        analyst: ``auto`` (the LLM analysts when a model is configured, else heuristic),
            ``heuristic`` (offline) or ``llm`` (a model is required).
        description: frontmatter description; derived when empty.
        model: the resolved model settings (:func:`skillforge.config.resolve_config`).
        budget_usd: most USD this invocation may spend on LLM calls; None for no limit.
        resume: a run id (or ``latest``, or a run folder path) to resume; None for a new run.
        workspace: where run folders and the response cache live (``.skillforge``).
        outcomes: labels file for logs without an outcome (:mod:`skillforge.ingest.outcomes`).
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
        groups: lesson groups after the merge, ranked.
        validation: the validator's report on the rendered skill (None when not reached).
        version: the stored version; None when the skill was invalid or the run stopped early.
        stopped: ``"budget"`` when the budget stopped the run before the merge.
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
    groups: list[LessonGroup] = field(default_factory=list)
    validation: ValidationReport | None = None
    version: VersionInfo | None = None
    stopped: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class DryRun:
    """What :func:`estimate` found: per-stage calls, tokens and USD, with nothing called.

    Attributes:
        analyst, model, hint: as :class:`DistillResult`.
        trajectories: how many would be analysed.
        stages: one :class:`~skillforge.llm.StageEstimate` per stage.
        priced: False when the model has no price in litellm's map (USD unknown).
    """

    analyst: str
    model: str | None
    hint: str | None
    trajectories: int
    stages: list = field(default_factory=list)
    priced: bool = True
    ingest_report: IngestReport = field(default_factory=IngestReport)


def skill_name_from(path: Path) -> str:
    """A valid skill name from a folder or file name (``sample_traces`` → ``sample-traces``)."""
    base = path.resolve().name if path.is_dir() else path.resolve().stem
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:64].strip("-")
    return name or "agent-skill"


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


def ingest_stage(paths: Sequence[Path], progress: Progress, outcomes: Path | None = None) -> tuple[list[Trajectory], IngestReport]:
    """Read every trajectory under ``paths``.

    Raises:
        SkillforgeError: a missing path, or no trajectory could be read.
    """
    report = IngestReport()
    task = _task(progress, "Reading logs", None)
    trajectories: list[Trajectory] = []
    for trajectory in ingest(paths, report, load_labels(outcomes) if outcomes else None):
        trajectories.append(trajectory)
        progress.advance(task)
    progress.update(task, total=len(trajectories), completed=len(trajectories))
    if not trajectories:
        raise SkillforgeError(nothing_read(paths, report))
    return trajectories, report


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
    progress: Progress,
    on_record=None,
) -> Analysis:
    """Trajectories → grounded lessons: the LLM analysts when ``client`` is given, else the
    offline heuristic analyst.

    Args:
        trajectories: the input (judged outcomes are set on them by the LLM path).
        run: the run folder (the LLM path journals each pass there).
        client: an :class:`~skillforge.llm.LLMClient`, or None for the heuristic analyst.
        context_tokens: the model's context in tokens (LLM path).
        progress: rich Progress, one bar per stage.
        on_record: called with each LLM pass's journal record as it ends.

    Returns:
        An :class:`Analysis`.
    """
    if client is None:
        return _heuristic_analysis(trajectories, progress)
    from skillforge.analyze.passes import PassRunner, analyze_with_llm

    tasks: dict[str, TaskID] = {}
    labels = {"analyse": "Analysing trajectories", "compare": "Comparing runs of a task"}

    def on_stage(stage: str, total: int, done: int) -> None:
        tasks[stage] = _task(progress, labels[stage], total, completed=done, stats=_stats(client))

    def on_pass(stage: str, record: dict) -> None:
        progress.update(tasks[stage], advance=1, stats=_stats(client))
        if on_record is not None:
            on_record(record)

    report = analyze_with_llm(trajectories, PassRunner(client, context_tokens), run, on_stage, on_pass)
    summary = report.summary()
    dropped = [(d["title"], d["problems"]) for d in summary["dropped_lessons"]]
    return Analysis(report.lessons, dropped, report.stopped, summary)


def merge_stage(lessons: list[Lesson], trajectories: list[Trajectory], run: RunFolder | None, client, progress: Progress) -> list[LessonGroup]:
    """Lessons → ranked groups (the deterministic merge of :mod:`skillforge.merge.offline`).

    ``trajectories``, ``run`` and ``client`` are unused by this merge; they are the inputs of the
    LLM patch/consolidation stage that replaces this call.
    """
    task = _task(progress, "Merging lessons", 1)
    groups = group_lessons(lessons)
    progress.advance(task)
    return groups


def store_stage(
    name: str, groups: list[LessonGroup], trajectories: list[Trajectory], store_dir: Path, description: str, info: dict[str, Any]
) -> tuple[ValidationReport, VersionInfo | None]:
    """Render the skill, validate it and, when valid, commit it as the next version.

    Returns:
        ``(validation report, stored version or None when invalid)``.
    """
    store = SkillStore(store_dir)
    version = store.latest_version(name) + 1
    content = SkillContent(
        name=name,
        version=version,
        groups=groups,
        trajectory_count=len(trajectories),
        formats=sorted({t.source.format for t in trajectories}),
        tool_counts=Counter(call.function_name for t in trajectories for step in t.steps for call in step.tool_calls),
        description=description,
    )
    with tempfile.TemporaryDirectory(prefix="skillforge-") as scratch:
        staged = Path(scratch) / name
        render_skill(content, staged)
        validation = validate_skill(staged)
        if not validation.ok:
            return validation, None
        return validation, store.commit_version(name, version, staged, {**info, "formats": content.formats})


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
        SkillforgeError: bad options, a missing path, nothing readable, or a run that cannot be resumed.
        RunInterrupted: on Ctrl-C; the manifest says ``interrupted`` and the run can be resumed.
    """
    if options.resume:
        run = RunFolder.open(options.workspace, options.resume)
        manifest = run.read_manifest()
        options = _resumed_options(options, manifest)
    analyst, hint = resolve_analyst(options.analyst, options.model)
    name = options.skill_name or skill_name_from(Path(options.paths[0]))
    if not _NAME_OK.match(name) or len(name) > 64:
        raise SkillforgeError(f"skill name {name!r} is not valid: use lowercase letters, digits and single hyphens (max 64)")
    timings: dict[str, float] = {}
    started = time.monotonic()
    if options.resume:
        trajectories = run.read_trajectories()
        report = IngestReport()
        manifest["attempts"] = manifest.get("attempts", 1) + 1
    else:
        trajectories, report = ingest_stage(options.paths, progress, options.outcomes)
        run = RunFolder.create(options.workspace)
        manifest = _new_manifest(run, options, name, analyst, report, trajectories)
        run.write_trajectories(trajectories)
    timings["ingest"] = time.monotonic() - started
    result = DistillResult(ingest_report=report, run=run, analyst=analyst, hint=hint, trajectories=len(trajectories))
    client = _client(options, analyst)
    if client is not None and options.budget_usd is not None:
        from skillforge.llm import has_price

        if not has_price(client.settings.model):
            result.warnings.append(f"litellm's cost map has no price for {client.settings.model}, so --budget cannot limit this run")
    usage_before = dict(manifest.get("usage") or {})
    manifest.update(status="running")
    run.write_manifest(manifest)

    def save(status: str | None = None) -> None:
        if status:
            manifest["status"] = status
        if client is not None:
            manifest["usage"] = _add_usage(usage_before, client.totals.to_dict())
        manifest["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        run.write_manifest(manifest)

    try:
        clock = time.monotonic()
        context_tokens = _context_tokens(options.model) if client is not None else 0
        analysis = analyze_stage(trajectories, run, client, context_tokens, progress, on_record=lambda _record: save())
        result.lessons, result.dropped_lessons, result.stopped = analysis.lessons, analysis.dropped, analysis.stopped
        manifest["analysis"] = analysis.summary
        if "templates" in analysis.summary:
            manifest["templates"] = analysis.summary["templates"]
        run.write_trajectories(trajectories)  # with judged outcomes
        run.write_lessons(result.lessons)
        timings["analyse"] = time.monotonic() - clock
        if result.stopped:
            save("stopped")
            result.manifest = manifest
            return result

        clock = time.monotonic()
        result.groups = merge_stage(result.lessons, trajectories, run, client, progress)
        timings["merge"] = time.monotonic() - clock

        clock = time.monotonic()
        info = {
            "inputs": [str(p) for p in options.paths],
            "analyst": analyst,
            "model": options.model.model if analyst == "llm" else None,
            "run": run.run_id,
            "trajectories": len(trajectories),
            "lessons": len(result.lessons),
            "groups": len(result.groups),
            "cost_usd": round(client.totals.cost_usd + usage_before.get("cost_usd", 0.0), 6) if client else 0.0,
        }
        result.validation, result.version = store_stage(name, result.groups, trajectories, options.store_dir, options.description, info)
        timings["store"] = time.monotonic() - clock
    except KeyboardInterrupt:
        save("interrupted")
        raise RunInterrupted(f"interrupted; finished work is kept: resume with `skillforge distill --resume {run.run_id}`") from None
    except BaseException:
        save("failed")
        raise
    manifest["counts"] = {"trajectories": len(trajectories), "lessons": len(result.lessons), "groups": len(result.groups)}
    if result.version is not None:
        manifest["version"] = {"name": result.version.name, "version": result.version.version}
    save("done" if result.version is not None else "invalid")
    result.manifest = manifest
    return result


def estimate(options: DistillOptions, progress: Progress) -> DryRun:
    """The dry run: per-stage calls, tokens and USD of :func:`distill`, calling no model.

    Reads the logs (or the resumed run), renders every prompt and counts its tokens locally;
    calls already in the response cache or finished in the resumed run count as cached. Writes
    nothing.

    Raises:
        SkillforgeError: as :func:`distill`.
    """
    from skillforge.llm import StageEstimate, has_price

    run = None
    if options.resume:
        run = RunFolder.open(options.workspace, options.resume)
        options = _resumed_options(options, run.read_manifest())
        trajectories, report = run.read_trajectories(), IngestReport()
    else:
        trajectories, report = ingest_stage(options.paths, progress, options.outcomes)
    analyst, hint = resolve_analyst(options.analyst, options.model)
    dry = DryRun(analyst, options.model.model if analyst == "llm" else None, hint, len(trajectories), ingest_report=report)
    if analyst == "heuristic":
        dry.stages = [StageEstimate("analyse", note="offline heuristic analyst: no calls")]
    else:
        from skillforge.analyze.passes import PassRunner, estimate_llm_analysis

        task = _task(progress, "Estimating prompts", None)
        client = _client(options, analyst)
        dry.stages = estimate_llm_analysis(trajectories, PassRunner(client, _context_tokens(options.model)), run)
        dry.priced = has_price(client.settings.model)
        progress.update(task, total=1, completed=1)
    dry.stages.append(StageEstimate("merge", note="deterministic merge: no calls"))
    return dry


# --- helpers ---------------------------------------------------------------------------------


def _heuristic_analysis(trajectories: list[Trajectory], progress: Progress) -> Analysis:
    task = _task(progress, "Analysing trajectories", len(trajectories))
    lessons: list[Lesson] = []
    for trajectory in trajectories:
        lessons.extend(heuristic.analyze(trajectory, compute_signals(trajectory)))
        progress.advance(task)
    lessons.extend(heuristic.compare(trajectories))
    by_id = {t.session_id: t for t in trajectories}
    kept, dropped = [], []
    for lesson in lessons:
        problems = grounding_problems(lesson, by_id)
        if problems:
            dropped.append((lesson.title, problems))
        else:
            kept.append(lesson)
    summary = {"passes": {"heuristic": len(trajectories)}, "lessons": {"kept": len(kept), "repaired": 0, "dropped": len(dropped)}}
    return Analysis(kept, dropped, None, summary)


def _client(options: DistillOptions, analyst: str):
    if analyst != "llm":
        return None
    from skillforge.llm import LLMClient, LLMSettings, ResponseCache

    settings = LLMSettings(model=options.model.model or "", api_base=options.model.api_base)
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


def _task(progress: Progress, description: str, total: int | None, completed: int = 0, stats: str = "") -> TaskID:
    """A progress task; every task carries a ``stats`` field (the CLI shows it as a column)."""
    return progress.add_task(description, total=total, completed=completed, stats=stats)


def _stats(client) -> str:
    totals = client.totals
    tokens = totals.prompt_tokens + totals.completion_tokens
    return f"calls {totals.calls} · cached {totals.cached} · failed {totals.failed_calls} · {tokens:,} tokens · ${totals.cost_usd:.4f}"
