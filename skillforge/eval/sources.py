"""What an evaluation reads: the versions to compare, and the held-out trajectories to judge them on.

Held-out trajectories come from, in order:

1. log files the user gives (ingested like ``distill`` ingests them, labels file included); from
   them every trajectory whose task (or, without a task id, session) the judged versions were
   distilled from is dropped, so that a task's own trajectories never judge a skill distilled
   from that task (issue 17). The tasks a version was distilled from are those of its run's
   ``trajectories.jsonl`` (the run named in the version's store info, in its run folder
   ``<runs>/<run id>/``, DESIGN §4) less the run's held-out split (``holdout.json``);
2. otherwise the held-out split recorded by the version's ``distill --holdout`` run
   (:func:`skillforge.eval.split.load_split`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skillforge.errors import SkillforgeError
from skillforge.eval.split import SPLIT_FILE, load_split, split_key
from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from skillforge.ingest.command import nothing_read
from skillforge.ingest.outcomes import load_labels
from skillforge.store.git_store import SkillStore
from skillforge.store.version_info import VersionInfo
from skillforge.trajectory import Trajectory, read_trajectories

TRAJECTORIES = "trajectories.jsonl"
"""The run folder's trajectories (DESIGN §4), read here without importing ``distill`` (which
imports this package for its gate)."""


@dataclass
class HeldOut:
    """The trajectories an evaluation judges on, and where they came from.

    Attributes:
        trajectories: the held-out trajectories.
        source: ``logs`` (given files) or ``run <id>`` (a recorded split).
        excluded: session ids dropped because a judged version was distilled from their task.
        problems: what ingest could not read (``file:line: message``), first few.
    """

    trajectories: list[Trajectory]
    source: str
    excluded: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Counts and sources (not the trajectories) for the stored record."""
        return {
            "source": self.source,
            "trajectories": len(self.trajectories),
            "failures": sum(1 for t in self.trajectories if t.outcome.status == "failure"),
            "successes": sum(1 for t in self.trajectories if t.outcome.status == "success"),
            "excluded": self.excluded,
        }


def run_folder(runs: Path, info: VersionInfo) -> Path | None:
    """The run folder (under ``runs``, e.g. ``.skillforge/runs``) of the ``distill`` run that stored
    ``info``, or None (no run recorded, or gone)."""
    run_id = info.info.get("run") or info.info.get("run_id")
    if not run_id:
        return None
    root = Path(runs) / str(run_id)
    return root if root.is_dir() else None


def distilled_keys(run: Path) -> set[str]:
    """Split keys (:func:`split_key`) of the trajectories the run in folder ``run`` distilled from
    (its held-out split excluded).

    Raises:
        SkillforgeError: the run's files cannot be read.
    """
    if not (run / TRAJECTORIES).is_file():
        return set()
    keys = {split_key(t) for t in read_trajectories(run / TRAJECTORIES)}
    if (run / SPLIT_FILE).is_file():
        record, _ = load_split(run)
        keys -= set(record.get("held_out_keys") or [])
    return keys


def held_out_for(
    store: SkillStore,
    name: str,
    versions: Sequence[VersionInfo],
    runs: Path,
    paths: Sequence[Path] = (),
    outcomes: Path | None = None,
) -> HeldOut:
    """The held-out trajectories to judge ``versions`` of ``name`` on (see the module docstring).

    ``versions[0]`` is the version under evaluation: its run's split is the default.

    Raises:
        SkillforgeError: given paths that hold no trajectory, no paths and no recorded split, or
            nothing left once the distilled tasks are dropped.
    """
    folders = [run for run in (run_folder(runs, v) for v in versions) if run is not None]
    if paths:
        report = IngestReport()
        trajectories = list(ingest(paths, report, load_labels(outcomes) if outcomes else None))
        if not trajectories:
            raise SkillforgeError(nothing_read(paths, report))
        used = set().union(*(distilled_keys(run) for run in folders)) if folders else set()
        kept = [t for t in trajectories if split_key(t) not in used]
        held = HeldOut(
            kept,
            "logs",
            [t.session_id for t in trajectories if split_key(t) in used],
            [str(p) for p in report.errors[:5]],
        )
        if not kept:
            raise SkillforgeError(
                f"every trajectory given belongs to a task {name} was distilled from; give logs of other tasks"
            )
        return held
    own = run_folder(runs, versions[0])
    if own is None:
        raise SkillforgeError(
            f"{name} v{versions[0].version} has no distill run in {runs} with a held-out split; "
            "give log files to evaluate on, or distill with --holdout FRACTION"
        )
    _, trajectories = load_split(own)
    if not trajectories:
        raise SkillforgeError(
            f"the held-out split of run {own.name} is empty; distill with a larger --holdout, or give log files"
        )
    return HeldOut(trajectories, f"run {own.name}")


def materialize_versions(
    store: SkillStore, name: str, versions: Sequence[VersionInfo], scratch: Path
) -> dict[int, Path]:
    """Write each version's files under ``scratch/v<N>/<name>/`` (from git); version → skill folder.

    Raises:
        SkillforgeError: unknown skill or version.
    """
    return {v.version: store.materialize(name, v.version, Path(scratch) / f"v{v.version}") for v in versions}


def pick_versions(
    store: SkillStore, name: str, version: int | None, baseline: int | None
) -> tuple[VersionInfo, VersionInfo | None]:
    """The version under evaluation (latest when None) and the one it is compared with
    (``baseline``, else the one before it, else None).

    Raises:
        SkillforgeError: unknown skill or version, or a baseline that is not older.
    """
    candidate = store.version(name, version)
    if baseline is not None:
        if baseline >= candidate.version:
            raise SkillforgeError(f"the baseline v{baseline} must be older than v{candidate.version}")
        return candidate, store.version(name, baseline)
    earlier = [v for v in store.versions(name) if v.version < candidate.version]
    return candidate, earlier[-1] if earlier else None
