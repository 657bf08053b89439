"""The offline heuristic analyst: lessons from deterministic signals, no LLM.

Used when no model is configured or with ``--analyst heuristic``. It only states what the
trajectory shows, and every lesson cites the steps it comes from:

* a tool error followed by a changed call of the same tool that succeeds →
  "when X fails with <error>, change <arguments> (what worked)" (failure lesson);
* a tool error the agent never got past → "check before calling X" (failure lesson);
* the same failing call repeated :data:`~skillforge.analyze.signals.LOOP_THRESHOLD`+ times →
  a guardrail against the loop (failure lesson);
* a call the user rejected → "ask before X" (failure lesson);
* for a task seen both rewarded and failed, tools called in every rewarded run and in no failed
  run → a success pattern (:func:`compare`, success lesson).

Lessons are phrased from the generalised error pattern (:func:`~skillforge.analyze.signals.error_pattern`)
so that the same failure in different runs yields the same title, which the deterministic
merge groups on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from skillforge.analyze.signals import (
    LABEL_ARGUMENTS,
    CallRecord,
    Signals,
    ToolFailure,
    call_records,
    canonical_arguments,
    error_pattern,
    error_summary,
)
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.trajectory import Trajectory

MAX_LESSONS_PER_TRAJECTORY = 5
"""Cap per trajectory (Trace2Skill's analysts emit at most 3 per item type)."""


def analyze(trajectory: Trajectory, signals: Signals) -> list[Lesson]:
    """Derive lessons from one trajectory's signals.

    Args:
        trajectory: the trajectory (used to check quotes and describe calls).
        signals: ``compute_signals(trajectory)``.

    Returns:
        At most :data:`MAX_LESSONS_PER_TRAJECTORY` lessons, loops first, then recovered
        failures, rejections, unrecovered failures; one lesson per (tool, error pattern).
    """
    session = trajectory.session_id
    lessons: list[Lesson] = []
    seen_titles: set[str] = set()

    def add(lesson: Lesson | None) -> None:
        if lesson is not None and lesson.title not in seen_titles:
            seen_titles.add(lesson.title)
            lessons.append(lesson)

    for loop in signals.loops:
        pattern = _short(error_pattern(loop.error))
        add(
            _lesson(
                "failure",
                title=f"Stop retrying `{loop.function_name}` with identical arguments",
                when=f"`{loop.function_name}` keeps failing with \"{pattern}\"",
                guidance=(
                    f"After `{loop.function_name}` fails, do not send the same arguments again. "
                    "Read the error, change the arguments or the approach, and after a second identical "
                    "failure stop and reconsider (or ask the user)."
                ),
                rationale=f"The same failing call was repeated {len(loop.step_ids)} times.",
                evidence=[Evidence(session, loop.step_ids, loop.error)] if loop.error else [],
                tags=[f"tool:{loop.function_name}", "signal:loop"],
                confidence=0.7,
            )
        )
    recovered = [f for f in signals.failures if f.recovery]
    unrecovered = [f for f in signals.failures if not f.recovery]
    for failure in recovered:
        add(_recovery_lesson(session, failure))
    for rejected in signals.rejections:
        add(_rejection_lesson(session, rejected))
    for failure in unrecovered:
        add(_unrecovered_lesson(session, failure))
    return lessons[:MAX_LESSONS_PER_TRAJECTORY]


def compare(trajectories: Iterable[Trajectory]) -> list[Lesson]:
    """Success patterns from tasks seen both rewarded and failed (comparative analysis).

    Trajectories are grouped by ``task_id``; for each task with at least one ``success`` and
    one ``failure``, every tool called in all successful runs and in none of the failed ones
    gives a success lesson citing the step of that call in each successful run.

    Returns:
        Lessons, one per (task, tool), titled by tool so the merge can count support across tasks.
    """
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        if trajectory.task_id is not None and trajectory.outcome.status in ("success", "failure"):
            by_task[trajectory.task_id].append(trajectory)
    lessons = []
    for task_id, runs in sorted(by_task.items()):
        successes = [t for t in runs if t.outcome.status == "success"]
        failures = [t for t in runs if t.outcome.status == "failure"]
        if not successes or not failures:
            continue
        records = {t.session_id: [r for r in call_records(t) if not r.is_error] for t in runs}
        called = {t.session_id: {r.call.function_name for r in records[t.session_id]} for t in runs}
        in_all_successes = set.intersection(*(called[t.session_id] for t in successes))
        in_any_failure = set.union(*(called[t.session_id] for t in failures))
        for name in sorted(in_all_successes - in_any_failure):
            evidence = []
            following: str | None = None
            for run in successes:
                calls = records[run.session_id]
                position = next(i for i, r in enumerate(calls) if r.call.function_name == name)
                evidence.append(Evidence(run.session_id, [calls[position].step_id], name))
                if following is None:
                    following = next((r.call.function_name for r in calls[position + 1 :] if r.call.function_name != name), None)
            order = f" before `{following}`" if following else " to complete the task"
            lessons.append(
                _lesson(
                    "success",
                    title=f"Call `{name}` when the task calls for it",
                    when="A task where some attempts succeeded and others failed",
                    guidance=f"Call `{name}`{order}: every successful attempt did, no failed attempt did.",
                    rationale=(
                        f"Task {task_id}: {len(successes)} successful and {len(failures)} failed attempts; "
                        f"`{name}` appears only in the successful ones."
                    ),
                    evidence=evidence,
                    tags=[f"tool:{name}", "signal:comparative", f"task:{task_id}"],
                    confidence=0.5,
                )
            )
    return lessons


def _lesson(kind: str, *, title: str, evidence: list[Evidence], **fields) -> Lesson | None:
    """Build a lesson with a stable id; None when there is no evidence (no lesson without evidence)."""
    evidence = [e for e in evidence if e.quote and e.step_ids]
    if not evidence:
        return None
    return Lesson(id=lesson_id(kind, title, evidence), kind=kind, title=title, evidence=evidence, **fields)  # type: ignore[arg-type]


def _recovery_lesson(session: str, failure: ToolFailure) -> Lesson | None:
    assert failure.recovery is not None
    name = failure.failed.call.function_name
    pattern = _short(error_pattern(failure.error))
    changed = _changed_arguments(failure.failed, failure.recovery)
    example = _describe_change(failure.recovery, changed)
    if changed:
        change = "change " + ", ".join(f"`{key}`" for key in changed)
    else:
        change = "change the call"
    return _lesson(
        "failure",
        title=f"When `{name}` fails with \"{pattern}\", {change} before retrying",
        when=f"`{name}` returns an error like \"{pattern}\"",
        guidance=(
            f"Read the error and {change} according to it instead of resending the same call; "
            f"a corrected call that worked: {example}."
        ),
        rationale=f"The call at step {failure.failed.step_id} failed; the changed call at step {failure.recovery.step_id} succeeded.",
        evidence=[Evidence(session, sorted({failure.failed.step_id, failure.recovery.step_id}), failure.error)],
        tags=[f"tool:{name}", "signal:error-recovery"],
        confidence=0.6,
    )


def _unrecovered_lesson(session: str, failure: ToolFailure) -> Lesson | None:
    name = failure.failed.call.function_name
    pattern = _short(error_pattern(failure.error))
    return _lesson(
        "failure",
        title=f"Check the preconditions of `{name}` to avoid \"{pattern}\"",
        when=f"About to call `{name}`",
        guidance=(
            f"Before calling `{name}`, verify what the error \"{pattern}\" is about (inputs, state, "
            "permissions); if it still fails, change the approach instead of moving on silently."
        ),
        rationale=f"The call at step {failure.failed.step_id} failed and no later `{name}` call succeeded.",
        evidence=[Evidence(session, [failure.failed.step_id], failure.error)],
        tags=[f"tool:{name}", "signal:unrecovered-error"],
        confidence=0.4,
    )


def _rejection_lesson(session: str, rejected: CallRecord) -> Lesson | None:
    name = rejected.call.function_name
    what = _command_head(rejected)
    subject = f"`{name}` calls like `{what}`" if what else f"`{name}` calls"
    quote = error_summary(rejected.result or "") or name
    return _lesson(
        "failure",
        title=f"Ask before {subject}",
        when=f"About to run {subject}",
        guidance=f"Explain the plan and get the user's go-ahead before running {subject}; the user refused one and stopped the run.",
        rationale=f"The user rejected the call at step {rejected.step_id}.",
        evidence=[Evidence(session, [rejected.step_id], quote)],
        tags=[f"tool:{name}", "signal:user-rejection"],
        confidence=0.5,
    )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _changed_arguments(failed: CallRecord, recovery: CallRecord) -> list[str]:
    before, after = failed.call.arguments, recovery.call.arguments
    keys = [k for k in dict.fromkeys([*before, *after]) if k not in LABEL_ARGUMENTS]
    return [k for k in keys if canonical_arguments({"v": before.get(k)}) != canonical_arguments({"v": after.get(k)})]


def _describe_change(record: CallRecord, changed: list[str], limit: int = 100) -> str:
    """The corrected call, showing only the arguments that changed (or the command for shells)."""
    command = _command_head(record, words=12)
    if command:
        text = command
    else:
        text = canonical_arguments({k: record.call.arguments.get(k) for k in changed} if changed else record.call.arguments)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"`{record.call.function_name}` with `{text}`" if text not in ("{}", "") else f"`{record.call.function_name}`"


def _command_head(record: CallRecord, words: int = 2) -> str:
    """The first words of a shell command argument (``command``/``cmd``), or ''."""
    arguments = record.call.arguments
    command = arguments.get("command") or arguments.get("cmd")
    if isinstance(command, list):
        command = " ".join(map(str, command))
    if not isinstance(command, str):
        return ""
    return " ".join(command.split()[:words]).replace("`", "'")
