"""The offline heuristic analyst: lessons from deterministic signals, no LLM.

Used when no model is configured or with ``--analyst heuristic``. It only states what the logs show,
every figure it writes is a count over the trajectories a lesson cites (or the comparison set it
names), and every lesson cites the steps it comes from. Two entry points, as the pipeline calls them:

* :func:`analyze` — one trajectory: the user's corrections in interactive sessions, quoted
  (:mod:`skillforge.analyze.corrections`);
* :func:`compare` — the whole run, for what needs more than one trajectory:

  - pitfalls: the same normalised error across runs with the fix that really got past it
    (:mod:`skillforge.analyze.pitfalls`);
  - the procedure the successful runs of a format share (:mod:`skillforge.analyze.procedure`);
  - for tasks seen both succeeding and failing, the tools the successful runs called far more often,
    and how failed runs without a tool error ended (:mod:`skillforge.analyze.contrast`).

Expected failures (a search that finds nothing, a probe, a reproduction before the fix) are never
lessons (:mod:`skillforge.analyze.expected`).
"""

from __future__ import annotations

from collections.abc import Iterable

from skillforge.analyze.contrast import contrast_lessons
from skillforge.analyze.corrections import Correction
from skillforge.analyze.pitfalls import pitfall_lessons
from skillforge.analyze.procedure import procedure_lessons
from skillforge.analyze.signals import Signals, compute_signals
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.trajectory import Trajectory

MAX_CORRECTIONS_PER_TRAJECTORY = 3
"""At most this many correction lessons per trajectory (Trace2Skill's analysts emit at most 3)."""

QUOTE_LIMIT = 200
"""The user's words are cited up to this many characters (the evidence quote must occur in the step)."""

VERBS = {"rejection": "refused the call and said", "interruption": "stopped the agent and said", "redirect": "answered"}


def analyze(trajectory: Trajectory, signals: Signals) -> list[Lesson]:
    """Lessons from one trajectory alone: its user corrections (at most
    :data:`MAX_CORRECTIONS_PER_TRAJECTORY`), each quoting the user's words.

    Args:
        trajectory: the trajectory.
        signals: ``compute_signals(trajectory)``.
    """
    lessons = [_correction_lesson(trajectory, correction) for correction in signals.corrections]
    return lessons[:MAX_CORRECTIONS_PER_TRAJECTORY]


def compare(trajectories: Iterable[Trajectory]) -> list[Lesson]:
    """Lessons that need the whole run (module doc): pitfalls, procedures, comparative lessons and
    failure endings, in that order.

    Args:
        trajectories: every trajectory of the run.
    """
    trajectories = list(trajectories)
    pairs = [(trajectory, compute_signals(trajectory)) for trajectory in trajectories]
    return pitfall_lessons(pairs) + procedure_lessons(pairs) + contrast_lessons(trajectories)


def _correction_lesson(trajectory: Trajectory, correction: Correction) -> Lesson:
    words = correction.words.rstrip("…")
    short = words if len(words) <= 80 else words[:79].rstrip() + "…"
    action = "an answer" if correction.agent_action == "a message" else correction.agent_action
    situation = f"after {action}" if correction.agent_step_id else "in a session like this"
    title = f'{situation.capitalize()}, do what the user asked: "{short}"'
    quote = " ".join(words.split())[:QUOTE_LIMIT]
    evidence = [
        Evidence(
            trajectory.session_id,
            sorted({correction.step_id} | ({correction.agent_step_id} if correction.agent_step_id else set())),
            quote,
        )
    ]
    tags = ["signal:user-correction", f"correction:{correction.kind}"]
    tool = correction.agent_action.split(" ", 1)[0]
    if tool and tool != "a":
        tags.insert(0, f"tool:{tool}")
    return Lesson(
        id=lesson_id("failure", title, evidence),
        kind="failure",
        title=title,
        when=f"The agent is {situation.removeprefix('after ')}"
        if correction.agent_step_id
        else "Working with this user",
        guidance=f'In this session the user {VERBS[correction.kind]}: "{correction.words}".',
        rationale=(
            f"A user {correction.kind} at step {correction.step_id}: the user's own words about what the agent did."
        ),
        evidence=evidence,
        tags=tags,
        confidence=0.7,
    )
