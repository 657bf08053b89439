"""Deterministic signals of one trajectory: what failed and why, what fixed it, what was expected,
what the user corrected.

Computed in code, without an LLM, for two readers: the offline heuristic analyst turns them into
lessons (:mod:`skillforge.analyze.heuristic`), and every LLM analyst receives them as hints
(:meth:`Signals.as_hints`, DESIGN §1). The pieces:

* error texts normalised, the harness's wrappers stripped (:mod:`skillforge.analyze.errors`);
* expected failures (a search that finds nothing, a tool probe, a reproduction before the fix) set
  apart from mistakes (:mod:`skillforge.analyze.expected`);
* error → fix pairs only when the retry is the same attempt, reported as the difference
  (:mod:`skillforge.analyze.recovery`);
* loops: the same failing call sent :data:`LOOP_THRESHOLD` times or more;
* user corrections in interactive sessions, in the user's words (:mod:`skillforge.analyze.corrections`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import orjson

from skillforge.analyze.actions import action_of
from skillforge.analyze.calls import CallRecord, call_records
from skillforge.analyze.corrections import Correction, find_corrections
from skillforge.analyze.errors import ParsedError, parse_error
from skillforge.analyze.expected import expected_reason
from skillforge.analyze.recovery import LABEL_ARGUMENTS, Change, change_between, find_recovery
from skillforge.trajectory import Trajectory

__all__ = ["CallRecord", "Loop", "Signals", "ToolFailure", "call_records", "canonical_arguments", "compute_signals"]

HINT_LIMIT = 160
"""A hint line is cut to this many characters (hints are pointers into the trajectory, not copies of it)."""

LOOP_THRESHOLD = 3
"""The same failing call (same tool, same arguments but :data:`~skillforge.analyze.recovery.LABEL_ARGUMENTS`)
this many times or more is a loop."""


@dataclass
class ToolFailure:
    """A failed tool call, its normalised error, and what got past it.

    Attributes:
        failed: the failing call.
        error: the normalised error (:class:`~skillforge.analyze.errors.ParsedError`; ``error.line`` is
            '' when the result states no error).
        expected: why the failure is method, not a mistake (``search-no-match``, ``probe``,
            ``reproduction``), or None.
        recovery: the successful retry of the same attempt
            (:func:`~skillforge.analyze.recovery.find_recovery`), or None.
        change: what the retry changed (None without a recovery).
        resent: step ids of later identical calls that failed again.
    """

    failed: CallRecord
    error: ParsedError
    expected: str | None = None
    recovery: CallRecord | None = None
    change: Change | None = None
    resent: list[int] = field(default_factory=list)

    @property
    def mistake(self) -> bool:
        """A real failure with a meaningful error line (not expected, not an unexplained non-zero exit)."""
        return self.expected is None and bool(self.error.line)


@dataclass
class Loop:
    """The same failing call repeated :data:`LOOP_THRESHOLD`+ times."""

    function_name: str
    arguments: dict
    error: str
    step_ids: list[int]


@dataclass
class Signals:
    """Everything :func:`compute_signals` found in one trajectory.

    Attributes:
        session_id: the trajectory.
        outcome: its outcome status (``success``/``failure``/``unknown``).
        steps, tool_calls, tool_errors: counts (``tool_errors``: results marked as errors, rejections excluded).
        failures: every failed call (rejections excluded), with its error, expected reason and recovery.
        loops: repeated identical failing calls.
        rejections: calls the user refused (Claude Code and Gemini CLI permission prompts).
        interruptions: step ids of user interruptions.
        corrections: the user's corrections (interactive formats only).
    """

    session_id: str
    outcome: str
    steps: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    failures: list[ToolFailure] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    rejections: list[CallRecord] = field(default_factory=list)
    interruptions: list[int] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)

    @property
    def mistakes(self) -> list[ToolFailure]:
        """The failures that are real mistakes (:attr:`ToolFailure.mistake`)."""
        return [f for f in self.failures if f.mistake]

    def as_hints(self) -> list[str]:
        """Short human-readable lines (for prompts and reports), the most telling first: user
        corrections, then mistakes with their fixes, loops, expected failures."""
        expected = sum(1 for f in self.failures if f.expected)
        hints = [
            f"{self.tool_calls} tool calls, {self.tool_errors} failed ({expected} of them expected); "
            f"outcome {self.outcome}"
        ]
        for correction in self.corrections:
            after = (
                f" after step {correction.agent_step_id} ({correction.agent_action})"
                if correction.agent_step_id
                else ""
            )
            hints.append(f'step {correction.step_id}: user {correction.kind}{after}: "{correction.words}"')
        for failure in self.failures:
            if not failure.mistake:
                continue
            said = failure.error.line.removeprefix(f"{failure.failed.name} failed: ")  # no "X failed: X failed:"
            line = f"step {failure.failed.step_id}: {failure.failed.name} failed: {said}"
            if failure.recovery is not None and failure.change is not None:
                line += f"; fixed at step {failure.recovery.step_id} by {failure.change.describe() or 'a changed call'}"
            else:
                line += "; no retry of the same call succeeded"
            hints.append(line)
        for loop in self.loops:
            hints.append(
                f"steps {loop.step_ids}: {loop.function_name} sent {len(loop.step_ids)}x with the same arguments, "
                f"failing: {loop.error}"
            )
        for failure in self.failures:
            if failure.expected:
                hints.append(
                    f"step {failure.failed.step_id}: {failure.failed.name} failed as expected ({failure.expected})"
                )
        for rejected in self.rejections:
            hints.append(f"step {rejected.step_id}: the user rejected the {rejected.name} call")
        for step_id in self.interruptions:
            hints.append(f"step {step_id}: the user interrupted the agent")
        return [hint if len(hint) <= HINT_LIMIT else hint[: HINT_LIMIT - 1].rstrip() + "…" for hint in hints]


def compute_signals(trajectory: Trajectory) -> Signals:
    """Compute :class:`Signals` for one trajectory (pure function, no I/O)."""
    records = call_records(trajectory)
    signals = Signals(
        trajectory.session_id, trajectory.outcome.status, steps=len(trajectory.steps), tool_calls=len(records)
    )
    repeated: dict[tuple[str, str], list[ToolFailure]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.rejected:
            signals.rejections.append(record)
            continue
        if not record.is_error:
            continue
        signals.tool_errors += 1
        failure = ToolFailure(record, parse_error(record.result or ""), expected_reason(records, index, trajectory))
        if failure.mistake:
            failure.recovery = find_recovery(records, index)
            if failure.recovery is not None:
                failure.change = change_between(records, record, failure.recovery)
        signals.failures.append(failure)
        repeated[
            (record.effective.function_name, _substance(record.effective.arguments) + _substance(record.call.arguments))
        ].append(failure)
    for (name, _), group in repeated.items():
        for position, failure in enumerate(group):
            for later in group[position + 1 :]:
                if _edited_between(records, failure.failed.index, later.failed.index):
                    break
                failure.resent.append(later.failed.step_id)
        run = [group[0], *[group[i + 1] for i, f in enumerate(group[:-1]) if group[i + 1].failed.step_id in f.resent]]
        if len(run) >= LOOP_THRESHOLD:
            signals.loops.append(
                Loop(name, group[0].failed.call.arguments, group[0].error.line, [f.failed.step_id for f in run])
            )
    signals.interruptions = [s.step_id for s in trajectory.steps if s.extra.get("interrupted")]
    signals.corrections = find_corrections(trajectory, records)
    return signals


def _edited_between(records: list[CallRecord], start: int, end: int) -> bool:
    """A successful edit happened between the calls at ``start`` and ``end`` (so a resend is not a loop)."""
    return any(action_of(r).label == "edit" and not r.is_error for r in records[start + 1 : end])


def _substance(arguments: dict) -> str:
    return canonical_arguments({k: v for k, v in arguments.items() if k not in LABEL_ARGUMENTS})


def canonical_arguments(arguments: dict) -> str:
    """Arguments as canonical JSON (sorted keys), for equality across calls."""
    try:
        return orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(sorted(arguments.items()))
