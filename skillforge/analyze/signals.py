"""Deterministic signals of one trajectory: tool errors and what followed them, loops, user pushback.

These are computed in code, without an LLM, and serve two purposes: the offline heuristic
analyst turns them into lessons, and LLM analysts receive them as hints (DESIGN §1).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import orjson

from skillforge.trajectory import ToolCall, Trajectory

RECOVERY_WINDOW = 8
"""How many later tool calls are searched for a successful call of the same tool after an error."""

LABEL_ARGUMENTS = frozenset({"description", "timeout", "thought"})
"""Arguments that label or pace a call without changing what it does (e.g. Claude Code's Bash
``description``); a retry that differs only in these is not a changed call."""

LOOP_THRESHOLD = 3
"""The same failing call (same tool, same arguments) this many times or more is a loop."""


@dataclass
class CallRecord:
    """One tool call with its place and result, flattened for signal detection."""

    step_id: int
    call: ToolCall
    result: str | None
    is_error: bool
    rejected: bool = False


@dataclass
class ToolFailure:
    """A tool call that failed, and the first later successful call of the same tool, if any.

    Attributes:
        failed: the failing call.
        error: the error, summarised to one line (see :func:`error_summary`).
        recovery: the first later call of the same tool, with different arguments (not counting
            :data:`LABEL_ARGUMENTS`), that succeeded within :data:`RECOVERY_WINDOW` calls; None when the agent never recovered.
    """

    failed: CallRecord
    error: str
    recovery: CallRecord | None = None


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
        steps, tool_calls, tool_errors: counts.
        failures: every failing call with its recovery (if any).
        loops: repeated identical failing calls.
        rejections: calls the user refused (Claude Code permission prompts).
        interruptions: step ids of user interruptions.
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

    def as_hints(self) -> list[str]:
        """Short human-readable lines (for prompts and reports)."""
        hints = [f"{self.tool_calls} tool calls, {self.tool_errors} failed; outcome {self.outcome}"]
        for failure in self.failures:
            fixed = f"; recovered at step {failure.recovery.step_id}" if failure.recovery else "; not recovered"
            error = failure.error or "(no error text)"
            hints.append(f"step {failure.failed.step_id}: {failure.failed.call.function_name} failed: {error}{fixed}")
        for loop in self.loops:
            hints.append(f"steps {loop.step_ids}: {loop.function_name} repeated {len(loop.step_ids)}x with the same arguments, failing: {loop.error}")
        for rejected in self.rejections:
            hints.append(f"step {rejected.step_id}: the user rejected the {rejected.call.function_name} call")
        for step_id in self.interruptions:
            hints.append(f"step {step_id}: the user interrupted the agent")
        return hints


def call_records(trajectory: Trajectory) -> list[CallRecord]:
    """Every tool call of the trajectory in order, with its result text and error flag."""
    records = []
    for step in trajectory.steps:
        rejected_ids = set(step.extra.get("rejected_call_ids", ()))
        for call in step.tool_calls:
            result = step.result_for(call.tool_call_id)
            records.append(
                CallRecord(
                    step_id=step.step_id,
                    call=call,
                    result=result.content if result else None,
                    is_error=bool(result and result.is_error),
                    rejected=call.tool_call_id in rejected_ids,
                )
            )
    return records


def compute_signals(trajectory: Trajectory) -> Signals:
    """Compute :class:`Signals` for one trajectory (pure function, no I/O)."""
    records = call_records(trajectory)
    signals = Signals(trajectory.session_id, trajectory.outcome.status, steps=len(trajectory.steps), tool_calls=len(records))
    repeated: dict[tuple[str, str], list[CallRecord]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.rejected:
            signals.rejections.append(record)
            continue
        if not record.is_error:
            continue
        signals.tool_errors += 1
        error = error_summary(record.result or "")
        recovery = None
        for later in records[index + 1 : index + 1 + RECOVERY_WINDOW]:
            if later.call.function_name != record.call.function_name or later.rejected:
                continue
            if not later.is_error and _substance(later.call.arguments) != _substance(record.call.arguments):
                recovery = later
                break
        signals.failures.append(ToolFailure(record, error, recovery))
        repeated[(record.call.function_name, _substance(record.call.arguments))].append(record)
    for (name, _), group in repeated.items():
        if len(group) >= LOOP_THRESHOLD:
            signals.loops.append(Loop(name, group[0].call.arguments, error_summary(group[0].result or ""), [r.step_id for r in group]))
    signals.interruptions = [s.step_id for s in trajectory.steps if s.extra.get("interrupted")]
    return signals


def _substance(arguments: dict) -> str:
    return canonical_arguments({k: v for k, v in arguments.items() if k not in LABEL_ARGUMENTS})


def canonical_arguments(arguments: dict) -> str:
    """Arguments as canonical JSON (sorted keys), for equality across calls."""
    try:
        return orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(sorted(arguments.items()))


_EXIT_CODE_LINE = re.compile(r"^(exit code \d+|error: exit code \d+)$", re.IGNORECASE)


_ERROR_WORDS = re.compile(
    r"\b(error|fatal|fail(ed|ure)?|exception|traceback|not found|no such|denied|invalid|cannot|can't|undefined|refused|timed? ?out)\b",
    re.IGNORECASE,
)


def error_summary(text: str, limit: int = 160) -> str:
    """The informative line of an error text, verbatim, cut to at most ``limit`` characters.

    The first line that names an error (``error``, ``fatal``, ``not found``, ``denied``…) is
    chosen, else the first line; a bare ``Exit code N`` line (Claude Code's Bash errors) is
    never chosen when another line exists, and ``<tool_use_error>`` markup is removed. The result
    is a substring of ``text`` after whitespace normalisation, so it can serve as an evidence quote.
    """
    text = re.sub(r"</?tool_use_error>", "\n", text)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not _EXIT_CODE_LINE.match(line)] or lines
    if not lines:
        return ""
    summary = next((line for line in lines if _ERROR_WORDS.search(line)), lines[0])
    return summary[:limit].rstrip()


_QUOTED = re.compile(r"(\"[^\"]*\"|'[^']*'|`[^`]*`)")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?\b")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@~-]+){2,}/?")
_ID_WITH_DIGITS = re.compile(r"\b(?=\w*\d)[\w-]+\b")


def error_pattern(text: str) -> str:
    """Generalise an error line so that errors differing only in literals compare equal.

    Paths become ``{path}``, dates ``{date}``, quoted strings ``{str}``, tokens containing a
    digit ``{id}`` (braces, not angle brackets, so the pattern is safe in markdown); case and
    spacing are normalised. Example:
    ``"Error: flight HAT030 not available on date 2024-05-13"`` →
    ``"error: flight {id} not available on date {date}"``.
    """
    text = _PATH.sub("{path}", text)
    text = _DATE.sub("{date}", text)
    text = _QUOTED.sub("{str}", text)
    text = _ID_WITH_DIGITS.sub("{id}", text)
    return " ".join(text.lower().split())
