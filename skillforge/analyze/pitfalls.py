"""Pitfalls: the same normalised error across trajectories, with the fix that really got past it.

Mistakes (:attr:`skillforge.analyze.signals.ToolFailure.mistake`: real failures with a meaningful
error line, expected failures left out) are grouped by tool and error key
(:func:`skillforge.analyze.errors.error_key`) across all trajectories. One lesson per group; its
evidence is one entry per trajectory: the failing step, and the fixing step when a retry of the same
attempt got past it (:mod:`skillforge.analyze.recovery`).

Every figure in the lesson is counted over exactly the trajectories it cites, in fixed sentences
(:data:`SENTENCES`) that ``tests/analyze/test_claims.py`` recomputes from the logs:

* the fix, when the runs that found it did not all fail: "In k of these runs a retry of the same call
  got past it: <change>." — the instruction names the change (and where the new value came from);
* a fix seen only in runs that failed is reported as such, never recommended;
* "In r of these runs the same call was sent again unchanged and failed again.";
* "Outcomes of these runs: a succeeded, b failed, c not recorded." — the lesson's kind follows them:
  ``success`` when every run behind it succeeded, else ``failure``.

A group seen in one trajectory without a fix teaches nothing and gives no lesson; a group seen in
one trajectory with a fix is a one-off, which the build's support rule keeps or drops
(:func:`skillforge.merge.support.min_support`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from skillforge.analyze.signals import Signals, ToolFailure
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.trajectory import Trajectory

SENTENCES = {
    "fixed": "In {k} of {runs} a retry of the same call got past it; for example {change}.",
    "sourced": "The new `{argument}` was found in an earlier `{tool}` result in {j} of those {k}.",
    "fixed_in_failed_runs": "In {k} of {runs} a retry of the same call got past it ({change}), but {failed}.",
    "resent": "In {r} of {runs} the same call was sent again unchanged and failed again.",
    "unfixed": "In none of {runs} did a retry of the same call get past it.",
    "outcomes": "Outcomes of {runs}: {succeeded} succeeded, {failed} failed, {unknown} not recorded.",
}
"""The sentences a pitfall's guidance is made of (every number in them is a count of cited runs)."""


@dataclass
class _Run:
    """One trajectory's part in a group: its first failure with the key, the failure that was fixed
    (if any), and whether any failure with the key was sent again unchanged and failed again."""

    trajectory: Trajectory
    first: ToolFailure
    fixed: ToolFailure | None
    resent: bool = False


def pitfall_lessons(pairs: Iterable[tuple[Trajectory, Signals]]) -> list[Lesson]:
    """One lesson per (tool, error key) group (module doc), most supported first.

    Args:
        pairs: every trajectory with its signals.

    Returns:
        Grounded-by-construction lessons: evidence quotes are the error lines of the cited steps.
    """
    groups: dict[tuple[str, str], dict[str, _Run]] = defaultdict(dict)
    for trajectory, signals in pairs:
        for failure in signals.mistakes:
            # a process's error (stated with an exit code) belongs to the call that started it
            tool = (
                failure.failed.effective.function_name if failure.error.exit_code is not None else failure.failed.name
            )
            key = (tool, failure.error.key)
            run = groups[key].get(trajectory.session_id)
            if run is None:
                run = groups[key][trajectory.session_id] = _Run(trajectory, failure, None)
            if run.fixed is None and failure.recovery is not None:
                run.fixed = failure
            run.resent = run.resent or bool(failure.resent)
    lessons = []
    for (tool, _), runs in groups.items():
        lesson = _lesson(tool, list(runs.values()))
        if lesson is not None:
            lessons.append(lesson)
    return sorted(lessons, key=lambda lesson: (-len(lesson.evidence), lesson.title))


def _lesson(tool: str, runs: list[_Run]) -> Lesson | None:
    fixed = [run for run in runs if run.fixed is not None]
    if len(runs) == 1 and not fixed:
        return None
    example = runs[0].first.error.line
    outcomes = Counter(run.trajectory.outcome.status for run in runs)
    helpful = [run for run in fixed if run.trajectory.outcome.status != "failure"]
    resent = [run for run in runs if run.resent]
    sentences = []
    if helpful:
        change = _dominant_change(helpful)
        instruction = _instruction(change)
        title = f'When `{tool}` fails with "{_quote(example)}", {instruction}'
        sentences.append(SENTENCES["fixed"].format(k=len(fixed), runs=_runs(len(runs)), change=_describe(fixed[0])))
        for argument, source in change.sources.items():
            count = sum(
                1
                for run in fixed
                if run.fixed and run.fixed.change and run.fixed.change.sources.get(argument) == source
            )
            sentences.append(SENTENCES["sourced"].format(argument=argument, tool=source, j=count, k=len(fixed)))
    elif fixed:
        first_fix = fixed[0].fixed
        assert first_fix is not None
        not_just = _instruction(first_fix.change, sources=False)
        title = f'When `{tool}` fails with "{_quote(example)}", do not just {not_just}'
        sentences.append(
            SENTENCES["fixed_in_failed_runs"].format(
                k=len(fixed),
                runs=_runs(len(runs)),
                change=_describe(fixed[0]),
                failed=(
                    f"all {len(fixed)} of those runs failed"
                    if len(fixed) > 2
                    else "both of those runs failed"
                    if len(fixed) == 2
                    else "that run failed"
                ),
            )
        )
    else:
        title = f'When `{tool}` fails with "{_quote(example)}", change the approach instead of retrying'
        sentences.append(SENTENCES["unfixed"].format(runs=_runs(len(runs))))
    if resent:
        sentences.append(SENTENCES["resent"].format(r=len(resent), runs=_runs(len(runs))))
    sentences.append(
        SENTENCES["outcomes"].format(
            runs=_runs(len(runs)),
            succeeded=outcomes["success"],
            failed=outcomes["failure"],
            unknown=outcomes["unknown"],
        )
    )
    evidence = []
    for run in runs:
        cited = run.fixed or run.first
        steps = [cited.failed.step_id] + (
            [cited.recovery.step_id]
            if cited.recovery is not None and cited.recovery.step_id != cited.failed.step_id
            else []
        )
        evidence.append(Evidence(run.trajectory.session_id, steps, cited.error.line))
    kind = "success" if outcomes["success"] == len(runs) else "failure"
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1].rstrip() + "…"
    return Lesson(
        id=lesson_id(kind, title, evidence),
        kind=kind,  # type: ignore[arg-type]
        title=title,
        when=f'`{tool}` returns an error like "{_quote(example)}"',
        guidance=" ".join(sentences),
        rationale=(
            f"The same error (normalised) in {len(runs)} run(s); fixes counted only when the retry was the same "
            "attempt."
        ),
        evidence=evidence,
        tags=[f"tool:{tool}", "signal:pitfall", "signal:error-recovery" if fixed else "signal:unrecovered-error"],
        confidence=min(0.9, 0.4 + 0.1 * len(runs)),
    )


def _dominant_change(runs: list[_Run]):
    """The change of the fixed runs whose changed arguments are the most common (first seen on ties)."""
    signatures = Counter(tuple(run.fixed.change.arguments) for run in runs if run.fixed and run.fixed.change)
    best = signatures.most_common(1)[0][0] if signatures else ()
    return next(
        run.fixed.change for run in runs if run.fixed and run.fixed.change and tuple(run.fixed.change.arguments) == best
    )


def _instruction(change, sources: bool = True) -> str:
    """The fix as an instruction: "add `--set-upstream origin main` and retry", "change `payment_id`
    (to a value from `get_user_details`)", "fix `mix.exs`, then run it again"."""
    if change is None:
        return "retry it"
    if change.identical:
        files = list(dict.fromkeys(f"`{name}`" for _, name in change.edits if name))
        return (
            f"fix {', '.join(files[:3])} first, then run it again"
            if files
            else "fix the cause first, then run it again"
        )
    if change.words and len(change.words) == 1 and "command" in change.arguments and len(change.arguments) == 1:
        removed, added = change.words[0]
        if removed and added:
            return f"replace `{_short(removed)}` with `{_short(added)}` and retry"
        if added:
            return f"add `{_short(added)}` and retry"
        return f"drop `{_short(removed)}` and retry"
    names = [name for name in change.arguments]
    text = "change " + ", ".join(f"`{name}`" for name in names[:3])
    found = [f"take `{name}` from a `{tool}` result" for name, tool in change.sources.items()] if sources else []
    if found:
        text += " (" + "; ".join(found) + ")"
    return text + " before retrying"


def _describe(run: _Run) -> str:
    fixed = run.fixed
    assert fixed is not None and fixed.change is not None and fixed.recovery is not None
    steps = f"step {fixed.failed.step_id} → {fixed.recovery.step_id} of `{run.trajectory.session_id}`"
    return f"{fixed.change.describe() or 'a changed call'} ({steps})"


TITLE_LIMIT = 200
"""``lesson.schema.json`` caps a title at 200 characters: the example error is cut to :data:`QUOTE_LIMIT`
and the words of a fix to :data:`WORDS_LIMIT` so that the title fits."""
QUOTE_LIMIT = 80
WORDS_LIMIT = 36


def _runs(count: int) -> str:
    """``these 4 runs``, or ``1 run``."""
    return f"these {count} runs" if count != 1 else "1 run"


def _quote(line: str, limit: int = QUOTE_LIMIT) -> str:
    text = line.replace('"', "'").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _short(text: str, limit: int = WORDS_LIMIT) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
