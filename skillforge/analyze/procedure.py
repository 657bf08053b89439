"""The procedure successful runs share: an ordered skeleton of tool use, each step with its support.

A task family is the trajectories of one log format (one benchmark or agent's runs). Each successful
run becomes a sequence of actions (:func:`skillforge.analyze.calls.action_of`: ``search``,
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
from skillforge.analyze.calls import CallRecord, command_targets, plausible_program, shell_command
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
    """One procedure lesson per format whose successful runs share a skeleton of at least two steps."""
    families: dict[str, list[tuple[Trajectory, list[tuple[str, Action, int, str]]]]] = defaultdict(list)
    for trajectory, signals in pairs:
        if trajectory.outcome.status == "success":
            families[trajectory.source.format].append((trajectory, _sequence(signals, trajectory)))
    lessons = []
    for family, runs in sorted(families.items()):
        if len(runs) < MIN_SUCCESSES:
            continue
        lesson = _lesson(family, runs)
        if lesson is not None:
            lessons.append(lesson)
    return lessons


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


def _lesson(family: str, runs: list[tuple[Trajectory, list[tuple[str, Action, int, str]]]]) -> Lesson | None:
    needed = min_runs(len(runs))
    skeleton: list[str] = []
    supports: list[int] = []
    labels = sorted({entry[0] for _, sequence in runs for entry in sequence})
    while len(skeleton) < MAX_STEPS:
        best, best_key = None, (0, 0.0)
        for label in labels:
            if skeleton and skeleton[-1] == label:
                continue
            matches = [m for _, sequence in runs if (m := _match([*skeleton, label], sequence)) is not None]
            # most runs first; on a tie the step that comes earliest (mean position), so the order is kept
            key = (len(matches), -sum(m[-1] for m in matches) / max(1, len(matches)))
            if key > best_key:
                best, best_key = label, key
        best_count = best_key[0]
        if best is None or best_count < needed:
            break
        skeleton.append(best)
        supports.append(best_count)
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
    title = f"In {family} tasks, work in the order the successful runs shared"
    guidance = "\n".join(
        [
            f"Steps in order, each with how many of the {total} successful {family} runs did it and every step "
            "before it",
            *lines,
        ]
    )
    return Lesson(
        id=lesson_id("success", title, evidence),
        kind="success",
        title=title,
        when=f"A task of the kind these {family} runs worked on",
        guidance=guidance,
        rationale=(
            f"Greedy ordered skeleton over {total} successful runs; a step stays while at least {needed} runs "
            "share it and all steps before it."
        ),
        evidence=evidence,
        tags=[
            "signal:procedure",
            f"family:{family}",
            *[f"tool:{label}" for label in skeleton if label not in STEP_TEXT and ":" not in label][:0],
        ],
        confidence=0.6,
    )


def _step_text(label: str) -> str:
    if label.startswith("verify:"):
        base = label.split(":", 1)[1]
        return "verify: " + ("rerun the reproduction" if base == "reproduce" else "run the tests")
    return STEP_TEXT.get(label, f"call `{label}`")
