"""Ingest: read agent log files of any known format into :class:`~skillforge.trajectory.Trajectory`.

Entry points: :func:`discover` (files under the given paths), :func:`detect` (which format a
file is, from its content), :func:`ingest` (all trajectories, problems collected in an
:class:`~skillforge.ingest.report.IngestReport`) and :func:`ingest_atif` (the same with each
trajectory's ATIF file, for ``ingest --to atif``). Each file is read on its own (:mod:`.reader`),
in this process or in worker processes (:mod:`.workers`); what depends on the files before it is
settled here, in file order, so the result is the same either way.

Every trajectory leaves :func:`ingest` with its outcome resolved (:mod:`.outcomes`) and its
secrets redacted (:mod:`.redact`): nothing downstream ever sees the raw text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from skillforge.ingest.atif import restamp
from skillforge.ingest.outcomes import Labels, OutcomeResolver
from skillforge.ingest.reader import Event, Keep, Parsed, detect, discover, failure_message, read_file, without_gc
from skillforge.ingest.redact import redact_outcome
from skillforge.ingest.report import FileSummary, IngestReport, Problem
from skillforge.trajectory import Trajectory

__all__ = ["detect", "discover", "ingest", "ingest_atif"]


def ingest(
    paths: Iterable[Path],
    report: IngestReport,
    labels: Labels | None = None,
    jobs: int = 1,
    whole: bool = True,
) -> Iterator[Trajectory]:
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
        jobs: processes reading files at once; 1 reads them here, one after the other. The
            trajectories, ``report`` and their order are the same for every value
            (:func:`skillforge.ingest.workers.read_files`).
        whole: False yields trajectories without their steps (only ``session_id``, ``agent``,
            ``source``, ``outcome`` and ``extra["task_id"]``; the counts in ``report`` are whole),
            for callers that only want the report: cheaper to send between processes.

    Raises:
        SkillforgeError: when a given path does not exist.
    """
    for parsed in _settled(paths, report, labels, jobs, "whole" if whole else "light"):
        yield parsed.trajectory


def ingest_atif(
    paths: Iterable[Path], report: IngestReport, labels: Labels | None = None, jobs: int = 1
) -> Iterator[tuple[Trajectory, bytes]]:
    """:func:`ingest` (with ``whole=False``) that also gives each trajectory's ATIF v1.4 file, made
    where the trajectory is read (by the workers with ``jobs`` > 1, where it costs most).

    Yields:
        ``(trajectory, document)``: the document is what
        :func:`~skillforge.ingest.atif.write_atif` writes for the whole trajectory (pass it as
        ``document``); the trajectory keeps only its session id, agent, source, outcome and task id.

    Raises:
        SkillforgeError: when a given path does not exist.
    """
    for parsed in _settled(paths, report, labels, jobs, "atif"):
        assert parsed.atif is not None
        yield parsed.trajectory, parsed.atif


def _settled(
    paths: Iterable[Path], report: IngestReport, labels: Labels | None, jobs: int, keep: Keep
) -> Iterator[Parsed]:
    files = discover(paths)
    merge = _Merge(report, labels)
    # the collector pauses while each trajectory is read (here or by workers, whose results are
    # unpickled meanwhile) and settled, and runs as usual while the caller handles it
    yield from without_gc(_merged(files, merge, jobs, keep))
    merge.resolver.finish()


def _merged(files: list[Path], merge: _Merge, jobs: int, keep: Keep) -> Iterator[Parsed]:
    if jobs > 1:
        from skillforge.ingest.workers import read_files

        for events in read_files(files, jobs, keep):
            yield from merge.file(events)
    else:
        for path in files:
            yield from merge.file(read_file(path, keep))


class _Merge:
    """Takes each file's events in file order: makes session ids unique, settles outcomes (labels,
    ``report.json``), redacts the outcome detail, and counts into the report."""

    def __init__(self, report: IngestReport, labels: Labels | None) -> None:
        self.report = report
        self.resolver = OutcomeResolver(labels, report)
        self.seen: dict[str, int] = {}

    def file(self, events: Iterable[Event]) -> Iterator[Parsed]:
        summary: FileSummary | None = None
        report = self.report
        for event in events:
            if type(event) is Parsed:
                assert summary is not None
                try:
                    self._settle(event, summary)
                except Exception as exc:  # as an error while reading: the rest of the file is lost
                    report.problem(summary.path, None, failure_message(exc))
                    return
                yield event
            elif type(event) is Problem:
                report.problems.append(event)
            else:
                summary = event
                report.files.append(summary)

    def _settle(self, parsed: Parsed, summary: FileSummary) -> None:
        trajectory = parsed.trajectory
        logged = trajectory.outcome
        read_as = trajectory.session_id
        count = self.seen.get(trajectory.session_id, 0) + 1
        self.seen[trajectory.session_id] = count
        if count > 1:
            self.report.problem(
                summary.path,
                trajectory.source.line,
                f"session id {trajectory.session_id!r} seen before; renamed with #{count}",
                "warning",
                redacted=True,  # the session id is, like the whole trajectory (reader._parsed)
            )
            trajectory.session_id = f"{trajectory.session_id}#{count}"
        if parsed.task_id is None and parsed.session_id is None:
            self.resolver.apply(trajectory)
        else:  # outcomes are matched on the log's own ids, as they were before redaction
            redacted = trajectory.extra.get("task_id"), trajectory.session_id
            if parsed.task_id is not None:
                trajectory.extra["task_id"] = parsed.task_id
            if parsed.session_id is not None:
                trajectory.session_id = parsed.session_id + trajectory.session_id[len(read_as) :]  # with its #N
            try:
                self.resolver.apply(trajectory)
            finally:
                if parsed.task_id is not None:
                    trajectory.extra["task_id"] = redacted[0]
                trajectory.session_id = redacted[1]
        if trajectory.outcome is logged:  # the log's own, redacted already
            detail = parsed.outcome_redactions
        else:
            detail = redact_outcome(trajectory.outcome) if trajectory.outcome.detail else None
        redactions = parsed.redactions
        if detail:
            redactions = Counter(redactions or ())  # the detail's kinds after the others, as one pass counts them
            redactions.update(detail)
        if redactions:
            self.report.redactions.update(redactions)
            summary.redactions.update(redactions)
        summary.trajectories += 1
        summary.steps += parsed.steps
        summary.tool_calls += parsed.tool_calls
        summary.tool_errors += parsed.tool_errors
        summary.outcomes[trajectory.outcome.status] += 1
        summary.origins[trajectory.outcome.origin or "none"] += 1
        summary.truncated += bool(trajectory.extra.get("truncated"))
        if parsed.atif is not None and (trajectory.session_id != read_as or trajectory.outcome is not logged):
            parsed.atif = restamp(parsed.atif, (read_as, logged), (trajectory.session_id, trajectory.outcome))
