"""``skillforge ingest --check``: per trajectory, the counts a user can set beside the raw file.

For each trajectory: user turns (user steps, injected context such as Codex's ``AGENTS.md`` or
environment messages left out), agent steps, tool calls, tool errors by kind (the kinds of
:mod:`skillforge.ingest.tool_errors`: ``exit_code``, ``flag``, ``status``, ``timeout``,
``format_error``, ``rejected``, ``harness``, ``generic``; an error no format module classified is
``unclassified``), the outcome with its reward and origin (``log``/``labels``/``judge``), and
whether the capture stops mid-turn (``extra["truncated"]``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillforge.ingest import ingest
from skillforge.ingest.outcomes import load_labels
from skillforge.ingest.report import IngestReport
from skillforge.ingest.workers import default_jobs
from skillforge.trajectory import Trajectory


@dataclass
class TrajectoryCheck:
    """What one trajectory holds, counted.

    Attributes:
        path: the log file it was read from; session_id: its id; format: the log format.
        user_turns, agent_steps, tool_calls: counts of steps and calls.
        errors: tool results that are errors, per kind (see the module docstring).
        outcome, reward, origin: the settled outcome (``success``/``failure``/``unknown``), its
            reward (None when the log has none) and origin (None when unknown).
        truncated: True when the capture stops mid-turn.
    """

    path: str
    session_id: str
    format: str
    user_turns: int
    agent_steps: int
    tool_calls: int
    errors: Counter = field(default_factory=Counter)
    outcome: str = "unknown"
    reward: float | None = None
    origin: str | None = None
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``ingest --check --json``)."""
        return {
            "path": self.path,
            "session_id": self.session_id,
            "format": self.format,
            "user_turns": self.user_turns,
            "agent_steps": self.agent_steps,
            "tool_calls": self.tool_calls,
            "tool_errors": dict(self.errors),
            "outcome": self.outcome,
            "reward": self.reward,
            "origin": self.origin,
            "truncated": self.truncated,
        }


def check_trajectory(trajectory: Trajectory) -> TrajectoryCheck:
    """Count what ``trajectory`` (a whole one, steps included) holds."""
    kinds: Counter = Counter()
    unclassified = 0
    for step in trajectory.steps:
        recorded = step.extra.get("error_kinds") or {}
        kinds.update(recorded.values())
        failed = sum(1 for r in (step.observation.results if step.observation else []) if r.is_error)
        unclassified += max(0, failed - len(recorded))
    if unclassified:
        kinds["unclassified"] = unclassified
    outcome = trajectory.outcome
    return TrajectoryCheck(
        path=trajectory.source.path,
        session_id=trajectory.session_id,
        format=trajectory.source.format,
        user_turns=sum(1 for s in trajectory.steps if s.source == "user" and not s.extra.get("injected")),
        agent_steps=sum(1 for s in trajectory.steps if s.source == "agent"),
        tool_calls=sum(len(s.tool_calls) for s in trajectory.steps),
        errors=kinds,
        outcome=outcome.status,
        reward=outcome.reward,
        origin=outcome.origin,
        truncated=bool(trajectory.extra.get("truncated")),
    )


def run_check(
    paths: Sequence[Path], outcomes: Path | None = None, jobs: int | None = None
) -> tuple[list[TrajectoryCheck], IngestReport]:
    """Ingest ``paths`` (whole trajectories, outcomes settled as ``ingest`` settles them) and count
    each trajectory; returns the counts in file order and the ingest report.

    Raises:
        SkillforgeError: a missing path, or an unreadable or malformed labels file.
    """
    labels = load_labels(outcomes) if outcomes is not None else None
    report = IngestReport()
    trajectories = ingest(paths, report, labels, jobs=default_jobs() if jobs is None else jobs)
    try:
        return [check_trajectory(t) for t in trajectories], report
    finally:  # on Ctrl-C too: the generator stops its worker processes when closed
        close = getattr(trajectories, "close", None)
        if close is not None:
            close()
