"""The ``distill`` pipeline: ingest → signals → analyze → merge → render → validate → store.

Each stage takes and returns the typed artifacts of DESIGN §1; this module only wires them
together and reports progress. The CLI calls :func:`distill` and prints its result.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import Progress

from skillforge.analyze import heuristic
from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.signals import compute_signals
from skillforge.errors import SkillforgeError
from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from skillforge.lesson import Lesson
from skillforge.merge.offline import LessonGroup, group_lessons
from skillforge.skill.render import SkillContent, render_skill
from skillforge.skill.validate import ValidationReport, validate_skill
from skillforge.store.git_store import SkillStore, VersionInfo
from skillforge.trajectory import Trajectory

_NAME_OK = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass
class DistillOptions:
    """Inputs of :func:`distill`.

    Attributes:
        paths: log files or folders.
        skill_name: name of the skill to create or add a version to (kebab-case); derived from
            the first path when empty.
        store_dir: the skill store folder.
        analyst: ``heuristic`` (offline) — the only analyst of this version.
        description: frontmatter description; derived when empty.
    """

    paths: Sequence[Path]
    skill_name: str = ""
    store_dir: Path = Path("skills")
    analyst: str = "heuristic"
    description: str = ""


@dataclass
class DistillResult:
    """What :func:`distill` produced.

    Attributes:
        ingest_report: per-file results and every problem found while reading logs.
        trajectories: number of trajectories analysed.
        lessons: lessons kept (grounded).
        dropped_lessons: lessons dropped by the grounding check, with the reason.
        groups: lesson groups after the merge, ranked.
        validation: the validator's report on the rendered skill.
        version: the stored version, None when the skill was invalid and not stored.
    """

    ingest_report: IngestReport
    trajectories: int = 0
    lessons: list[Lesson] = field(default_factory=list)
    dropped_lessons: list[tuple[Lesson, list[str]]] = field(default_factory=list)
    groups: list[LessonGroup] = field(default_factory=list)
    validation: ValidationReport | None = None
    version: VersionInfo | None = None


def skill_name_from(path: Path) -> str:
    """A valid skill name from a folder or file name (``sample_traces`` → ``sample-traces``)."""
    base = path.resolve().name if path.is_dir() else path.resolve().stem
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:64].strip("-")
    return name or "agent-skill"


def distill(options: DistillOptions, progress: Progress) -> DistillResult:
    """Run the whole pipeline and store a new version of the skill.

    Args:
        options: see :class:`DistillOptions`.
        progress: a rich Progress (use ``Progress(disable=True)`` for silence).

    Returns:
        A :class:`DistillResult`; ``result.version`` is None when validation failed (nothing stored).

    Raises:
        SkillforgeError: bad skill name, a missing path, or no trajectory could be read.
    """
    name = options.skill_name or skill_name_from(Path(options.paths[0]))
    if not _NAME_OK.match(name) or len(name) > 64:
        raise SkillforgeError(f"skill name {name!r} is not valid: use lowercase letters, digits and single hyphens (max 64)")
    if options.analyst != "heuristic":
        raise SkillforgeError(f"unknown analyst {options.analyst!r}; this version has: heuristic")
    report = IngestReport()
    result = DistillResult(ingest_report=report)

    reading = progress.add_task("Reading logs", total=None)
    trajectories: list[Trajectory] = []
    for trajectory in ingest(options.paths, report):
        trajectories.append(trajectory)
        progress.advance(reading)
    progress.update(reading, total=len(trajectories), completed=len(trajectories))
    if not trajectories:
        raise SkillforgeError(_nothing_read(options.paths, report))
    result.trajectories = len(trajectories)

    analysing = progress.add_task("Analysing trajectories", total=len(trajectories))
    lessons: list[Lesson] = []
    for trajectory in trajectories:
        lessons.extend(heuristic.analyze(trajectory, compute_signals(trajectory)))
        progress.advance(analysing)
    lessons.extend(heuristic.compare(trajectories))

    by_id = {t.session_id: t for t in trajectories}
    for lesson in lessons:
        problems = grounding_problems(lesson, by_id)
        if problems:
            result.dropped_lessons.append((lesson, problems))
        else:
            result.lessons.append(lesson)

    merging = progress.add_task("Merging lessons", total=1)
    result.groups = group_lessons(result.lessons)
    progress.advance(merging)

    store = SkillStore(options.store_dir)
    version = store.latest_version(name) + 1
    content = SkillContent(
        name=name,
        version=version,
        groups=result.groups,
        trajectory_count=len(trajectories),
        formats=sorted({t.source.format for t in trajectories}),
        tool_counts=Counter(call.function_name for t in trajectories for step in t.steps for call in step.tool_calls),
        description=options.description,
    )
    with tempfile.TemporaryDirectory(prefix="skillforge-") as scratch:
        staged = Path(scratch) / name
        render_skill(content, staged)
        result.validation = validate_skill(staged)
        if not result.validation.ok:
            return result
        info = {
            "inputs": [str(p) for p in options.paths],
            "analyst": options.analyst,
            "trajectories": len(trajectories),
            "lessons": len(result.lessons),
            "groups": len(result.groups),
            "formats": content.formats,
        }
        result.version = store.commit_version(name, version, staged, info)
    return result


def _nothing_read(paths: Sequence[Path], report: IngestReport) -> str:
    where = ", ".join(str(p) for p in paths)
    if not report.files:
        return f"no files found in {where}"
    if not any(f.format for f in report.files):
        return f"no agent log in a known format found in {where} ({len(report.files)} files looked at)"
    return f"no trajectory could be read from {where} ({len(report.errors)} problems, listed above)"
