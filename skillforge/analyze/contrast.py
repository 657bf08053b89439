"""Runs of the same task compared: what the successful runs did that the failed ones did not, and how
failed runs without a tool error ended.

The comparison set is every run of the tasks (``Trajectory.task_id``) seen both succeeding and
failing. Two kinds of lesson come from it, each stating counts over that set in fixed sentences
(:data:`SENTENCES`) that ``tests/analyze/test_claims.py`` recomputes from the logs:

* **comparative** (``success``): a tool that successful runs called much more often than failed runs
  (the rate among successful runs minus the rate among failed runs at least
  :data:`MIN_RATE_DIFFERENCE`, in at least :data:`MIN_RUNS` successful runs). The situation is a call
  it usually came before or after: the tool whose first call came on the same side of it in the most
  of those runs (more than half of them); without one, the start of the run when it was the first
  tool called in more than half of those runs (and at least :data:`MIN_RUNS`).
* **failure ending** (``failure``): failed runs without any tool error whose last call was to a tool
  that no successful run of the same task called, in at least :data:`MIN_RUNS` runs. The termination
  reason is quoted when the log records one besides a reward.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from skillforge.analyze.calls import call_records
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.trajectory import Trajectory

MIN_RATE_DIFFERENCE = 0.4
"""A comparative lesson needs the share of successful runs that called the tool to exceed the share of
failed runs by this much. With the few runs per task benchmarks record (tau-bench: 4 trials), a
smaller gap is within what chance alone gives (one run more or less moves a rate by 0.25)."""
MIN_RUNS = 3
"""A comparative lesson needs this many successful runs that called the tool, and a failure ending
this many failed runs: fewer is an anecdote."""

SENTENCES = {
    "comparative": (
        "In the {tasks} tasks seen both succeeding and failing, {s_with} of {s_total} successful runs called `{tool}`, "
        "against {f_with} of {f_total} failed runs."
    ),
    "before": "In {k} of those {s_with} successful runs its first call came before the first `{anchor}`.",
    "after": "In {k} of those {s_with} successful runs its first call came after the first `{anchor}`.",
    "first": "In {k} of those {s_with} successful runs it was the first tool called.",
    "ending": (
        "{k} failed runs of {tasks} tasks had no tool error and ended with a `{tool}` call, "
        "which no successful run of the same task made."
    ),
    "reason": 'Their logs give the end as: "{reason}".',
}
"""The sentences these lessons are made of."""


def comparison_set(trajectories: Iterable[Trajectory]) -> dict[str, list[Trajectory]]:
    """Task id → its runs, for the tasks seen both succeeding and failing (input order kept)."""
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        if trajectory.task_id is not None and trajectory.outcome.status in ("success", "failure"):
            by_task[trajectory.task_id].append(trajectory)
    return {task: runs for task, runs in by_task.items() if {r.outcome.status for r in runs} == {"success", "failure"}}


def contrast_lessons(trajectories: Iterable[Trajectory]) -> list[Lesson]:
    """Comparative and failure-ending lessons over the comparison set (module doc)."""
    tasks = comparison_set(trajectories)
    if not tasks:
        return []
    runs = [run for group in tasks.values() for run in group]
    calls = {run.session_id: _first_calls(run) for run in runs}
    return _comparative(tasks, runs, calls) + _endings(tasks, calls)


def _first_calls(trajectory: Trajectory) -> dict[str, tuple[int, int]]:
    """Tool → (position among the calls, step id) of its first successful call."""
    first: dict[str, tuple[int, int]] = {}
    for record in call_records(trajectory):
        if record.is_error or record.rejected:
            continue
        first.setdefault(record.name, (record.index, record.step_id))
    return first


def _comparative(
    tasks: dict[str, list[Trajectory]], runs: list[Trajectory], calls: dict[str, dict[str, tuple[int, int]]]
) -> list[Lesson]:
    successes = [r for r in runs if r.outcome.status == "success"]
    failures = [r for r in runs if r.outcome.status == "failure"]
    tools = sorted({tool for run in runs for tool in calls[run.session_id]})
    counts = {
        tool: (
            [r for r in successes if tool in calls[r.session_id]],
            [r for r in failures if tool in calls[r.session_id]],
        )
        for tool in tools
    }
    telling = {
        tool
        for tool, (s_with, f_with) in counts.items()
        if len(s_with) >= MIN_RUNS and len(s_with) / len(successes) - len(f_with) / len(failures) >= MIN_RATE_DIFFERENCE
    }
    lessons = []
    for tool in sorted(telling):
        with_tool, failed_with = counts[tool]
        # a telling tool is a situation only when at least as many successful runs called it
        unlike = {other for other in telling if len(counts[other][0]) < len(with_tool)}
        anchor, order, anchor_count = _anchor(tool, with_tool, calls, exclude=telling, never=unlike)
        sentences = [
            SENTENCES["comparative"].format(
                tasks=len(tasks),
                s_with=len(with_tool),
                s_total=len(successes),
                tool=tool,
                f_with=len(failed_with),
                f_total=len(failures),
            )
        ]
        if anchor:
            title = f"{order.capitalize()} calling `{anchor}`, call `{tool}`"
            sentences.append(SENTENCES[order].format(k=anchor_count, s_with=len(with_tool), anchor=anchor))
        elif _starts(tool, with_tool):
            title = f"Start by calling `{tool}`"
            sentences.append(SENTENCES["first"].format(k=_starts(tool, with_tool), s_with=len(with_tool)))
        else:
            title = f"Call `{tool}` in tasks like these"
        evidence = [Evidence(r.session_id, [calls[r.session_id][tool][1]], tool) for r in with_tool]
        lessons.append(
            Lesson(
                id=lesson_id("success", title, evidence),
                kind="success",
                title=title,
                when=f"A task of the kind seen both succeeding and failing{f', {order} `{anchor}`' if anchor else ''}",
                guidance=" ".join(sentences),
                rationale=(
                    f"Compared over the {len(successes) + len(failures)} runs of {len(tasks)} tasks; thresholds: "
                    f"rate difference ≥ {MIN_RATE_DIFFERENCE}, ≥ {MIN_RUNS} runs."
                ),
                evidence=evidence,
                tags=[f"tool:{tool}", "signal:comparative"],
                confidence=0.5,
            )
        )
    return lessons


def _starts(tool: str, runs: list[Trajectory]) -> int:
    """How many of ``runs`` called ``tool`` first (their first tool call, whatever its result), when
    that is at least :data:`MIN_RUNS` and more than half of them; else 0."""
    count = sum(1 for run in runs if [r.name for r in call_records(run)][:1] == [tool])
    return count if count >= MIN_RUNS and count * 2 > len(runs) else 0


def _anchor(
    tool: str,
    runs: list[Trajectory],
    calls: dict[str, dict[str, tuple[int, int]]],
    exclude: set[str],
    never: set[str],
) -> tuple[str | None, str, int]:
    """The situation of ``tool``: a tool whose first call came before or after ``tool``'s first call in
    the most of ``runs`` (at least :data:`MIN_RUNS` and more than half), never one in ``never``; on a
    tie one not in ``exclude`` (a call both kinds of run made), then "before".

    Returns:
        ``(anchor tool or None, "before" | "after", runs)``: ``before`` means ``tool`` came first.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for run in runs:
        first = calls[run.session_id]
        for other, position in first.items():
            if other != tool and other not in never:
                counts[(other, "before" if position > first[tool] else "after")] += 1
    if not counts:
        return None, "", 0
    (anchor, order), count = max(
        sorted(counts.items()), key=lambda item: (item[1], item[0][0] not in exclude, item[0][1] == "before")
    )
    if count >= MIN_RUNS and count * 2 > len(runs):
        return anchor, order, count
    return None, "", 0


def _endings(tasks: dict[str, list[Trajectory]], calls: dict[str, dict[str, tuple[int, int]]]) -> list[Lesson]:
    by_tool: dict[str, list[tuple[Trajectory, int]]] = defaultdict(list)
    for group in tasks.values():
        succeeded = {tool for run in group if run.outcome.status == "success" for tool in calls[run.session_id]}
        for run in group:
            if run.outcome.status != "failure":
                continue
            records = call_records(run)
            if not records or any(r.is_error for r in records):
                continue
            last = records[-1]
            if last.rejected or last.name in succeeded:
                continue
            by_tool[last.name].append((run, last.step_id))
    lessons = []
    for tool, ended in sorted(by_tool.items()):
        if len(ended) < MIN_RUNS:
            continue
        task_count = len({run.task_id for run, _ in ended})
        sentences = [SENTENCES["ending"].format(k=len(ended), tasks=task_count, tool=tool)]
        reasons = {
            run.outcome.detail
            for run, _ in ended
            if run.outcome.detail and not run.outcome.detail.startswith(("reward", "SWE-bench"))
        }
        if len(reasons) == 1:
            sentences.append(SENTENCES["reason"].format(reason=reasons.pop()))
        title = f"Call `{tool}` only when the request calls for it"
        evidence = [Evidence(run.session_id, [step], tool) for run, step in ended]
        lessons.append(
            Lesson(
                id=lesson_id("failure", title, evidence),
                kind="failure",
                title=title,
                when=f"About to finish a task with `{tool}`",
                guidance=" ".join(sentences)
                + f" Check that the user's request needs `{tool}` before making it the last step.",
                rationale=(
                    "Failed runs without tool errors, compared with the successful runs of the same tasks; "
                    f"at least {MIN_RUNS} runs."
                ),
                evidence=evidence,
                tags=[f"tool:{tool}", "signal:failure-ending"],
                confidence=0.5,
            )
        )
    return lessons
