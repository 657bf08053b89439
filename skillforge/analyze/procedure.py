"""The procedure successful runs share: an ordered skeleton of tool use, each step with its support.

A task family is the trajectories of one log format (one benchmark or agent's runs), and, within it,
the runs that ended with the same write to a record (the last call that did not fail is a tool of
the task's own, not a shell or file tool, and names the record it acts on: tau-bench's
``update_reservation_flights``, ``cancel_reservation``…), so that the look-ups successful runs made
before such a write are a procedure of their own (:func:`ending_tool`); its last step is that write.
Each successful
run becomes a sequence of actions (:func:`skillforge.analyze.actions.action_of`: ``search``,
``inspect``, ``edit``, ``reproduce``, ``test``, ``submit``… for shell and file tools, the tool name
for the others), consecutive repeats collapsed, rejected calls and real mistakes left out. A test or
reproduction run after an edit is a verification step (``verify:``).

The skeleton grows greedily, the way a frequent-sequence miner extends a pattern: at each step the
action that keeps the most runs matching the skeleton in order (as a subsequence) is appended, while
at least :func:`min_runs` runs still match. Step *i*'s support is the number of successful runs that
did steps 1..*i* in that order, so every "k of n" in the item is true of the runs it cites, and
``tests/analyze/test_claims.py`` recomputes it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from skillforge.analyze.actions import REPRO_SCRIPT, Action, action_of
from skillforge.analyze.calls import TARGET_ARGUMENTS, CallRecord, command_targets, plausible_program, shell_command
from skillforge.analyze.signals import Signals
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.trajectory import Trajectory

MIN_SUCCESSES = 3
"""A family needs this many successful runs for a procedure: fewer is an anecdote, not a shared way."""
MIN_SHARE = 0.6
"""A step stays only while at least this share of the family's successful runs did it and every step
before it, in order (a majority with margin: what most successful runs did, not what one did)."""
MAX_STEPS = 8
"""At most this many steps (a skeleton, not a transcript)."""

STEP_TEXT = {
    "search": "search the code",
    "inspect": "look at the files and code",
    "edit": "edit",
    "reproduce": "reproduce the problem",
    "test": "run the tests",
    "build": "build",
    "vcs": "use git",
    "cleanup": "remove temporary files",
    "submit": "submit",
    "run": "run a command",
}
"""How a generic action reads in the procedure; any other label is a tool name, shown as code."""


def min_runs(successes: int) -> int:
    """Runs that must share a step: :data:`MIN_SHARE` of the successes, and at least :data:`MIN_SUCCESSES`."""
    return max(MIN_SUCCESSES, math.ceil(MIN_SHARE * successes))


def procedure_lessons(pairs: Iterable[tuple[Trajectory, Signals]]) -> list[Lesson]:
    """One procedure lesson per family (a format, or a format's runs that ended with one domain tool)
    whose successful runs share a skeleton of at least two steps.

    Args:
        pairs: every trajectory with its signals.

    Returns:
        The lessons, kind ``success``, formats in name order, a format's own before its endings'.
    """
    families: dict[tuple[str, str], list[tuple[Trajectory, list[tuple[str, Action, int, str]]]]] = defaultdict(list)
    for trajectory, signals in pairs:
        if trajectory.outcome.status == "success":
            run = (trajectory, _sequence(signals, trajectory))
            families[(trajectory.source.format, "")].append(run)
            end = ending_tool(trajectory)
            if end:
                families[(trajectory.source.format, end)].append(run)
    lessons = []
    for (family, end), runs in sorted(families.items()):
        if len(runs) < MIN_SUCCESSES:
            continue
        lesson = _lesson(family, runs, end)
        if lesson is not None:
            lessons.append(lesson)
    return lessons


def ending_tool(trajectory: Trajectory) -> str:
    """The write a run ended with: the name of its last call that neither failed nor was refused, when
    that call is not a shell, file, search or submit call (its action label is the tool name,
    :func:`~skillforge.analyze.actions.action_of`) and names the record it acts on (an argument of
    :data:`~skillforge.analyze.calls.TARGET_ARGUMENTS`, such as ``reservation_id``: a look-up-free
    helper such as ``calculate`` or ``think`` names none); '' otherwise."""
    from skillforge.analyze.calls import call_records

    done = [record for record in call_records(trajectory) if not record.is_error and not record.rejected]
    if not done:
        return ""
    last = done[-1]
    names_record = any(last.call.arguments.get(key) not in (None, "") for key in TARGET_ARGUMENTS)
    return last.name if names_record and action_of(last).label == last.name else ""


def _sequence(signals: Signals, trajectory: Trajectory) -> list[tuple[str, Action, int, str]]:
    """(label, action, step id, tool) per call, repeats collapsed; tests/reproductions after an edit are ``verify:``."""
    from skillforge.analyze.calls import call_records

    mistakes = {f.failed.index for f in signals.mistakes}
    out: list[tuple[str, Action, int, str]] = []
    edited = False
    for record in call_records(trajectory):
        if record.rejected or record.index in mistakes:
            continue
        action = action_of(record)
        label = action.label
        if label == "run" and not plausible_program(action.detail):
            continue  # text a harness took for a command (a sentence, a code span): no action
        if label == "edit" and REPRO_SCRIPT.search(_edited_target(record)):
            label = "reproduce"  # writing the reproduction script is part of reproducing
            action = Action(label, "create " + _edited_target(record).rsplit("/", 1)[-1])
        elif label == "edit":
            edited = True
        elif action.verifies and edited:
            label = f"verify:{label}"
        if out and out[-1][0] == label:
            continue
        out.append((label, action, record.step_id, record.name))
    return out


def _edited_target(record: CallRecord) -> str:
    """The file an edit writes ('' when it names none)."""
    for key in ("file_path", "path", "filePath"):
        value = record.effective.arguments.get(key)
        if isinstance(value, str):
            return value
    targets = command_targets(shell_command(record.effective) or "")
    return targets[-1] if targets else ""


def _last(sequence: Sequence[tuple[str, Action, int, str]], label: str) -> int:
    """Index of the last entry of ``sequence`` with ``label`` (``len(sequence)`` when none)."""
    return max((i for i, entry in enumerate(sequence) if entry[0] == label), default=len(sequence))


def _match(skeleton: Sequence[str], sequence: Sequence[tuple[str, Action, int, str]]) -> list[int] | None:
    """Positions in ``sequence`` matching ``skeleton`` in order (leftmost), or None."""
    positions, start = [], 0
    for label in skeleton:
        found = next((i for i in range(start, len(sequence)) if sequence[i][0] == label), None)
        if found is None:
            return None
        positions.append(found)
        start = found + 1
    return positions


def _lesson(
    family: str, runs: list[tuple[Trajectory, list[tuple[str, Action, int, str]]]], end: str = ""
) -> Lesson | None:
    needed = min_runs(len(runs))
    skeleton: list[str] = []
    supports: list[int] = []
    # with an ending, the steps are mined on what each run did before its last call of it, which ends them
    mined = [sequence[: _last(sequence, end)] if end else sequence for _, sequence in runs]
    labels = sorted({entry[0] for sequence in mined for entry in sequence})
    while len(skeleton) < MAX_STEPS - bool(end):
        best, best_key = None, (0, 0.0)
        for label in labels:
            if skeleton and skeleton[-1] == label:
                continue
            matches = [m for sequence in mined if (m := _match([*skeleton, label], sequence)) is not None]
            # most runs first; on a tie the step that comes earliest (mean position), so the order is kept
            key = (len(matches), -sum(m[-1] for m in matches) / max(1, len(matches)))
            if key > best_key:
                best, best_key = label, key
        best_count = best_key[0]
        if best is None or best_count < needed:
            break
        skeleton.append(best)
        supports.append(best_count)
    if end and skeleton:
        skeleton.append(end)
        supports.append(sum(1 for _, sequence in runs if _match(skeleton, sequence) is not None))
    if len(skeleton) < 2:
        return None
    evidence: list[Evidence] = []
    details: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for trajectory, sequence in runs:
        positions = None
        for length in range(len(skeleton), 0, -1):
            positions = _match(skeleton[:length], sequence)
            if positions is not None:
                break
        if not positions:
            continue
        for step_index, position in enumerate(positions):
            details[step_index][sequence[position][1].detail] += 1
        # one entry per step of the skeleton the run did, in order: its call's step and tool
        evidence += [Evidence(trajectory.session_id, [sequence[p][2]], sequence[p][3]) for p in positions]
    total = len(runs)
    lines = []
    for index, (label, support) in enumerate(zip(skeleton, supports, strict=True), start=1):
        shown = ", ".join(f"`{detail}`" for detail, _ in details[index - 1].most_common(2) if detail != label)
        lines.append(f"{index}. {_step_text(label)}{f' ({shown})' if shown else ''}: {support} of {total}.")
    if end:
        before = ", then ".join(_step_text(label) for label in skeleton[:-1])
        title = f"Before `{end}` in {family} tasks, {before}"
        runs_named = f"{total} successful {family} runs whose last call was `{end}`"
    else:
        title = f"In {family} tasks, work in the order the successful runs shared"
        runs_named = f"{total} successful {family} runs"
    guidance = "\n".join(
        [f"Steps in order, each with how many of the {runs_named} did it and every step before it", *lines]
    )
    return Lesson(
        id=lesson_id("success", title, evidence),
        kind="success",
        title=title,
        when=f"A task of the kind these {family} runs worked on" + (f", one that calls for `{end}`" if end else ""),
        guidance=guidance,
        rationale=(
            f"Greedy ordered skeleton over {total} successful runs; a step stays while at least {needed} runs "
            "share it and all steps before it."
        ),
        evidence=evidence,
        tags=[
            "signal:procedure",
            f"family:{family}" + (f":{end}" if end else ""),
            # an ending's write is what the item is about: items about different writes never merge
            *([f"tool:{end}"] if end else []),
        ],
        confidence=0.6,
    )


def _step_text(label: str) -> str:
    if label.startswith("verify:"):
        base = label.split(":", 1)[1]
        return "verify: " + ("rerun the reproduction" if base == "reproduce" else "run the tests")
    return STEP_TEXT.get(label, f"call `{label}`")
