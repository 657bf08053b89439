"""The stages of a distill run, each one function taking and returning the typed artifacts of
DESIGN §1:

* :func:`ingest_stage` — log files → :class:`Trajectory` list (+ an :class:`IngestReport`);
* :func:`start_stage` — the frozen start version of the skill: ``--from PATH``, else the latest
  store version of the skill (deepening), else a seed (:mod:`skillforge.distill.start`);
* :func:`analyze_stage` — trajectories → grounded :class:`Lesson` list, by the offline heuristic
  analyst or by the LLM analysts (:mod:`skillforge.analyze.passes`);
* :func:`build_stage` — lessons → a validated skill folder with provenance: propose, k-way merge,
  apply, validate and fix (:func:`skillforge.distill.build.build_skill`; offline: the deterministic patch);
* :func:`store_stage` — the built skill → a new version in the store (only when it validates).
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from skillforge.analyze import heuristic
from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.signals import compute_signals
from skillforge.distill.build import BuildOptions, SkillBuild, build_skill
from skillforge.distill.options import (
    DistillOptions,
)
from skillforge.distill.progress import StageBars
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.start import (
    StartVersion,
    folder_start,
    saved_start,
    seed_start,
    store_start,
)
from skillforge.errors import SkillforgeError
from skillforge.ingest import ingest
from skillforge.ingest.command import nothing_read
from skillforge.ingest.outcomes import load_labels
from skillforge.ingest.report import IngestReport
from skillforge.lesson import Lesson
from skillforge.store.compare import same_skill
from skillforge.store.git_store import SkillStore
from skillforge.store.version_info import VersionInfo
from skillforge.trajectory import Trajectory
from skillforge.wording import counted


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
    return seed_start(
        run,
        name,
        description=options.description,
        tools=[tool for tool, _ in tools.most_common()],
        trajectory_count=len(trajectories),
        formats=formats,
    )


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
        client: an :class:`~skillforge.llm.client.LLMClient`, or None for the heuristic analyst.
        context_tokens: the model's context in tokens (LLM path).
        bars: progress bars, one per stage (advanced as each pass ends).

    Returns:
        An :class:`Analysis`.
    """
    if client is None:
        return heuristic_analysis(trajectories, bars)
    from skillforge.analyze.pass_runner import PassRunner
    from skillforge.analyze.passes import analyze_with_llm

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


def build_stage(
    lessons: list[Lesson], start: StartVersion, run: RunFolder, client, options: BuildOptions, bars: StageBars
) -> SkillBuild:
    """Lessons → a skill folder staged in ``run``, validated, with provenance
    (:func:`skillforge.distill.build.build_skill`; ``client`` None: the offline path, no call).

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


class NothingNew(SkillforgeError):
    """The run would store a version with nothing new in it (the message says why); exit code 3."""

    exit_code = 3


def nothing_new(build: SkillBuild, start: StartVersion, store: SkillStore, analysis: dict[str, Any]) -> str | None:
    """Why the built skill is not worth a version, or None when it is.

    Not worth one: every analyst pass failed; a new skill (from the seed) that received no item; a
    skill whose files equal the ``--from`` folder it started from, or the store's latest version of
    the skill (also when another run stored it meanwhile), ``metadata.version`` aside
    (:func:`skillforge.store.compare.same_skill`).
    """
    finished = sum((analysis.get("passes") or {}).values())
    failed = len(analysis.get("failed_passes") or [])
    if failed and not finished:
        return f"every analyst pass failed ({failed} of {failed}), so nothing was learned"
    if start.mode == "seed" and build.report.apply.get("applied", 0) == 0:
        return f"no item came out of the {counted(build.report.trajectories, 'trajectory')}"
    if start.mode == "folder" and same_skill(build.folder, Path(start.source)):
        return f"nothing new: the skill would equal {start.source}"
    latest = store.latest_version(start.name)
    if latest:
        with tempfile.TemporaryDirectory(prefix="skillforge-latest-") as scratch:
            if same_skill(build.folder, store.materialize(start.name, latest, Path(scratch) / start.name)):
                return f"nothing new: the skill would equal {store.root}:{start.name}@v{latest}"
    return None


def store_stage(
    build: SkillBuild,
    store_dir: Path,
    info: dict[str, Any],
    *,
    start: StartVersion,
    analysis: dict[str, Any],
    allow_empty: bool = False,
) -> VersionInfo | None:
    """Commit the built skill as the next version with its provenance, when it validates and has
    something new (:func:`nothing_new`; ``allow_empty`` stores it anyway).

    A run stores one version however often it is resumed: when the store already holds a version
    committed by this run (``info["run"]``; it was killed after the commit), that version is
    returned and nothing new is stored.

    Returns:
        The stored version, or None when the skill fails validation (nothing is stored).

    Raises:
        NothingNew: the version would hold nothing new (nothing is stored).
    """
    if not build.ok:
        return None
    store = SkillStore(store_dir)
    store.repair()  # a write this run was killed in is completed (tagged) or undone first
    for stored in reversed(store.versions(build.report.skill)):
        if stored.info.get("run") == info["run"]:
            return stored  # a resumed run that had stored its version before it stopped
    reason = None if allow_empty else nothing_new(build, start, store, analysis)
    if reason is not None:
        raise NothingNew(f"nothing stored: {reason} (--allow-empty stores such a version anyway)")
    return store.commit_version(
        build.report.skill, build.provenance.version, build.folder, info, provenance=build.provenance
    )


def heuristic_analysis(trajectories: list[Trajectory], bars: StageBars) -> Analysis:
    """The offline analysis: the heuristic analyst on each trajectory and across runs of a task,
    every lesson checked by the grounding rule (dropped lessons are listed with why)."""
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
        "dropped_lessons": [{"title": title, "problems": problems} for title, problems in dropped],  # HTML report
    }
    return Analysis(kept, dropped, None, summary)
