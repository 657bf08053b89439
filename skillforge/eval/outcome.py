"""The outcome of one A/B trial, read from what the agent left in its output folder.

Precedence (the first that gives success or failure wins):

1. the logs: every trajectory skillforge's ingest reads under the folder (any supported format:
   ATIF, tau-bench, Inspect AI, SWE-agent, Claude Code…), with the outcome ingest resolves for it
   (the log's own verdict, or a SWE-bench ``report.json`` beside it, matched on its task id); a
   trial succeeds when every trajectory with a known outcome succeeded;
2. a ``reward.txt`` anywhere under the folder (Harbor's verifier writes ``verifier/reward.txt``,
   one number): read with :func:`skillforge.ingest.outcomes.outcome_from_label` (1.0 or more is a
   success, as in tau-bench);
3. a SWE-bench ``report.json`` with no log beside it, matched on the trial's task id as ingest
   matches it (:class:`skillforge.ingest.outcomes.OutcomeResolver`);
4. the exit code of the agent command: 0 is a success, anything else a failure.

Tokens and cost (USD) are summed over the trajectories that carry them (ATIF ``final_metrics``
``total_prompt_tokens`` / ``total_completion_tokens`` / ``total_cost_usd``, else the steps' own
metrics); None when no log carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from skillforge.ingest.outcomes import OutcomeResolver, outcome_from_label
from skillforge.trajectory import Agent, SourceRef, Trajectory

REWARD_FILE = "reward.txt"
REPORT_FILE = "report.json"


@dataclass
class TrialOutcome:
    """What one trial achieved.

    Attributes:
        status: ``success`` or ``failure``.
        reward: the reward when the log or ``reward.txt`` had one.
        source: where the verdict came from: ``log:<format>``, ``reward.txt``, ``report.json``
            or ``exit code``.
        detail: a short reason (``reward 1.0``, ``exit code 2``).
        trajectories: trajectories read from the folder.
        prompt_tokens, completion_tokens: tokens the logs report (None: no log reports them).
        cost_usd: USD the logs report (None: no log reports it).
        problems: what ingest could not read (first few, ``file:line: message``).
    """

    status: str
    reward: float | None = None
    source: str = "exit code"
    detail: str = ""
    trajectories: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    problems: list[str] = field(default_factory=list)


def read_trial_outcome(out: Path, task: str, exit_code: int | None) -> TrialOutcome:
    """Read the outcome of the trial whose output folder is ``out`` (see the module docstring).

    Args:
        out: the folder the agent command wrote into (``{out}``).
        task: the trial's task id (to match a ``report.json``).
        exit_code: the command's exit code; None when it did not run to the end (timeout, could
            not start), which counts as a failure when nothing else decides.

    Returns:
        A :class:`TrialOutcome`; it never raises on bad files (they are listed in ``problems``).
    """
    report = IngestReport()
    trajectories = list(ingest([out], report)) if out.is_dir() else []
    outcome = TrialOutcome("failure", trajectories=len(trajectories))
    outcome.problems = [str(p) for p in report.errors[:5]]
    _add_usage(outcome, trajectories)
    known = [t for t in trajectories if t.outcome.status in ("success", "failure")]
    if known:
        outcome.status = "success" if all(t.outcome.status == "success" for t in known) else "failure"
        rewards = [t.outcome.reward for t in known if t.outcome.reward is not None]
        outcome.reward = sum(rewards) / len(rewards) if rewards else None
        outcome.source = "log:" + ",".join(sorted({t.source.format for t in known}))
        outcome.detail = "; ".join(dict.fromkeys(t.outcome.detail or t.outcome.status for t in known))[:200]
        return outcome
    reward_files = sorted(out.rglob(REWARD_FILE)) if out.is_dir() else []
    for path in reward_files:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            outcome.problems.append(f"{path}: cannot read ({exc})")
            continue
        label = outcome_from_label(text, "labels", f"{REWARD_FILE}: {text[:40]}")
        if label is None:
            outcome.problems.append(f"{path}:1: not a reward: {text[:40]!r}")
            continue
        outcome.status, outcome.reward, outcome.source, outcome.detail = (
            label.status,
            label.reward,
            REWARD_FILE,
            label.detail or "",
        )
        return outcome
    for path in sorted(out.rglob(REPORT_FILE)) if out.is_dir() else []:
        probe = Trajectory(task, Agent("agent"), [], SourceRef("report", str(path)), extra={"task_id": task})
        OutcomeResolver(None, report).apply(probe)
        if probe.outcome.status in ("success", "failure"):
            outcome.status, outcome.reward, outcome.source = probe.outcome.status, probe.outcome.reward, REPORT_FILE
            outcome.detail = probe.outcome.detail or ""
            return outcome
    if exit_code is None:
        outcome.detail = outcome.detail or "the command did not finish"
    else:
        outcome.status = "success" if exit_code == 0 else "failure"
        outcome.detail = f"exit code {exit_code}"
    return outcome


def _add_usage(outcome: TrialOutcome, trajectories: list[Trajectory]) -> None:
    """Sum tokens and cost over the trajectories that carry them."""
    prompt = completion = 0
    cost = 0.0
    any_tokens = any_cost = False
    for trajectory in trajectories:
        final = trajectory.final_metrics or {}
        steps = [s.metrics for s in trajectory.steps if s.metrics is not None]
        p = final.get("total_prompt_tokens")
        c = final.get("total_completion_tokens")
        if p is None and c is None:
            p = sum(m.prompt_tokens or 0 for m in steps) if any(m.prompt_tokens is not None for m in steps) else None
            c = (
                sum(m.completion_tokens or 0 for m in steps)
                if any(m.completion_tokens is not None for m in steps)
                else None
            )
        if p is not None or c is not None:
            any_tokens = True
            prompt += int(p or 0)
            completion += int(c or 0)
        usd = final.get("total_cost_usd")
        if usd is None and any(m.cost_usd is not None for m in steps):
            usd = sum(m.cost_usd or 0.0 for m in steps)
        if usd is not None:
            any_cost = True
            cost += float(usd)
    if any_tokens:
        outcome.prompt_tokens, outcome.completion_tokens = prompt, completion
    if any_cost:
        outcome.cost_usd = round(cost, 6)
