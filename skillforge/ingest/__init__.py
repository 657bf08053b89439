"""Ingest: read agent log files of any known format into :class:`~skillforge.trajectory.Trajectory`.

Entry points: :func:`discover` (files under the given paths), :func:`detect` (which format a
file is, from its content) and :func:`ingest` (all trajectories, problems collected in an
:class:`~skillforge.ingest.base.IngestReport`).

Every trajectory leaves :func:`ingest` with its outcome resolved (:mod:`.outcomes`) and its
secrets redacted (:mod:`.redact`): nothing downstream ever sees the raw text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from skillforge.errors import SkillforgeError
from skillforge.ingest.base import HEAD_BYTES, FileSummary, IngestReport
from skillforge.ingest.formats import FORMATS
from skillforge.ingest.outcomes import Labels, OutcomeResolver
from skillforge.ingest.redact import redact_trajectory
from skillforge.trajectory import Trajectory

_JSONISH = (b"{", b"[")


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into a sorted list of files (hidden files and folders skipped).

    Raises:
        SkillforgeError: when a given path does not exist.
    """
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise SkillforgeError(f"{path}: no such file or folder")
        if path.is_file():
            found.append(path)
            continue
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path)
            if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                found.append(child)
    return found


def detect(path: Path, head: bytes | None = None) -> ModuleType | None:
    """Return the format module that recognises ``path`` from its first bytes, or None.

    Formats are tried in registry order; a ``detect()`` that raises counts as "not this format".

    Raises:
        OSError: when ``head`` is not given and the file cannot be read.
    """
    if head is None:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    for module in FORMATS.values():
        try:
            if module.detect(path, head):
                return module
        except Exception:  # a detector tripping over odd bytes must not stop the others
            continue
    return None


def ingest(paths: Iterable[Path], report: IngestReport, labels: Labels | None = None) -> Iterator[Trajectory]:
    """Yield every trajectory found under ``paths``, in file order, outcome set and secrets redacted.

    Files no format recognises are recorded in ``report.files`` with format None; those that
    look like JSON are also reported as problems (a log in an unknown format), other files
    (notes, READMEs, ``report.json`` files read for outcomes) silently. Unreadable files and bad
    records are reported and skipped; an error inside a format module is reported for its file
    and the next file is read. A session id seen twice gets a ``#2``, ``#3``… suffix so that
    evidence stays unambiguous. Per-file counts and redactions accumulate in ``report``.

    Args:
        paths: files and folders.
        report: collects problems and per-file summaries.
        labels: outcomes from a labels file (``--outcomes``), see :mod:`.outcomes`.

    Raises:
        SkillforgeError: when a given path does not exist.
    """
    seen: dict[str, int] = {}
    resolver = OutcomeResolver(labels, report)
    for path in discover(paths):
        try:
            with open(path, "rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError as exc:
            report.problem(path, None, f"cannot read file: {exc.strerror or exc}")
            report.files.append(FileSummary(str(path), None))
            continue
        module = detect(path, head)
        summary = FileSummary(str(path), module.NAME if module else None)
        report.files.append(summary)
        if module is None:
            if head.lstrip()[:1] in _JSONISH and path.name != "report.json":
                report.problem(path, None, "not a known agent log format; file skipped", "warning")
            continue
        try:
            for trajectory in module.parse(path, report):
                count = seen.get(trajectory.session_id, 0) + 1
                seen[trajectory.session_id] = count
                if count > 1:
                    report.problem(path, trajectory.source.line, f"session id {trajectory.session_id!r} seen before; renamed with #{count}", "warning")
                    trajectory.session_id = f"{trajectory.session_id}#{count}"
                resolver.apply(trajectory)
                redactions = redact_trajectory(trajectory)
                report.redactions.update(redactions)
                _count(summary, trajectory, redactions)
                yield trajectory
        except OSError as exc:
            report.problem(path, None, f"cannot read file: {exc.strerror or exc}")
        except RecursionError:
            report.problem(path, None, "nesting too deep to read; rest of the file skipped")
        except Exception as exc:  # a format module's bug or an input it did not foresee: lose the file, not the run
            report.problem(path, None, f"could not read the rest of the file ({type(exc).__name__}: {exc}); skipped")


def _count(summary: FileSummary, trajectory: Trajectory, redactions) -> None:
    summary.trajectories += 1
    summary.steps += len(trajectory.steps)
    for step in trajectory.steps:
        summary.tool_calls += len(step.tool_calls)
        if step.observation is not None:
            summary.tool_errors += sum(1 for result in step.observation.results if result.is_error)
    summary.outcomes[trajectory.outcome.status] += 1
    summary.redactions.update(redactions)
