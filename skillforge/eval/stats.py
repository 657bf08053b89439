"""Statistics of an A/B replay: success rate per arm with a 95 % interval, and arms compared paired by task.

All tests come from scipy (``scipy.stats``), none are our own:

* per arm, the success rate over its trials with the exact Clopper–Pearson interval
  (``binomtest(k, n).proportion_ci(method="exact")``). It treats trials as independent; with
  several trials per task it is narrower than it should be, which is why the comparison below,
  the one the gate uses, works on tasks;
* two arms, paired by task: each task's success rate in each arm (its trials' mean), the mean of
  the per-task differences, and its 95 % interval by the paired bootstrap over tasks
  (``scipy.stats.bootstrap(paired=True)``, BCa, 9,999 resamples, a fixed seed so that the same
  results give the same interval; the percentile method where BCa is undefined);
* per-task flips (the candidate's rate above, below or equal to the baseline's) and the exact
  McNemar test on the tasks that flipped (``binomtest(up, up + down, 0.5)``: with one trial per
  task this is McNemar's exact test, with several it is the sign test on the per-task differences).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 20240917


@dataclass
class ArmSummary:
    """One arm's figures.

    Attributes:
        arm: the arm's label.
        trials: finished trials; successes: those that succeeded.
        rate: successes / trials (None without trials).
        ci_low, ci_high: the 95 % Clopper–Pearson interval of ``rate``.
        tasks: tasks with at least one finished trial.
        prompt_tokens, completion_tokens, cost_usd: sums over the trials whose logs carry them
            (tokens; USD); None when none does. ``usage_trials``: how many trials carried them.
    """

    arm: str
    trials: int = 0
    successes: int = 0
    rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    tasks: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    usage_trials: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    """A candidate arm against a baseline arm, paired by task.

    Attributes:
        baseline, candidate: the arms' labels.
        tasks: tasks with finished trials in both arms.
        delta: mean over those tasks of (candidate rate - baseline rate); None without tasks.
        ci_low, ci_high: its 95 % paired-bootstrap interval (None with fewer than 2 tasks).
        up, down, same: tasks whose rate rose, fell, stayed.
        p_value: exact McNemar / sign test on ``up`` vs ``down`` (1.0 when nothing flipped).
        flips: ``[{task, baseline, candidate}]`` (per-task rates) of the tasks that moved.
    """

    baseline: str
    candidate: str
    tasks: int = 0
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    up: int = 0
    down: int = 0
    same: int = 0
    p_value: float = 1.0
    flips: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_arm(arm: str, records: Iterable[dict[str, Any]]) -> ArmSummary:
    """Figures of ``arm`` over trial records (``{"arm", "task", "status", "prompt_tokens", …}``)."""
    from scipy.stats import binomtest

    mine = [r for r in records if r["arm"] == arm]
    summary = ArmSummary(
        arm, len(mine), sum(1 for r in mine if r["status"] == "success"), tasks=len({r["task"] for r in mine})
    )
    if summary.trials:
        summary.rate = summary.successes / summary.trials
        interval = binomtest(summary.successes, summary.trials).proportion_ci(CONFIDENCE, method="exact")
        summary.ci_low, summary.ci_high = float(interval.low), float(interval.high)
    with_tokens = [r for r in mine if r.get("prompt_tokens") is not None or r.get("completion_tokens") is not None]
    if with_tokens:
        summary.prompt_tokens = sum(int(r.get("prompt_tokens") or 0) for r in with_tokens)
        summary.completion_tokens = sum(int(r.get("completion_tokens") or 0) for r in with_tokens)
    with_cost = [r for r in mine if r.get("cost_usd") is not None]
    if with_cost:
        summary.cost_usd = round(sum(float(r["cost_usd"]) for r in with_cost), 6)
    summary.usage_trials = len({id(r) for r in [*with_tokens, *with_cost]})
    return summary


def task_rates(arm: str, records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Task → success rate over the arm's finished trials of that task."""
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for record in records:
        if record["arm"] == arm:
            outcomes[record["task"]].append(record["status"] == "success")
    return {task: sum(values) / len(values) for task, values in outcomes.items()}


def compare_arms(records: list[dict[str, Any]], baseline: str, candidate: str) -> Comparison:
    """Compare ``candidate`` with ``baseline`` paired by task (see the module docstring)."""
    from scipy.stats import binomtest

    base, cand = task_rates(baseline, records), task_rates(candidate, records)
    tasks = sorted(set(base) & set(cand))
    comparison = Comparison(baseline, candidate, len(tasks))
    if not tasks:
        return comparison
    differences = [cand[t] - base[t] for t in tasks]
    comparison.delta = sum(differences) / len(differences)
    comparison.ci_low, comparison.ci_high = _paired_interval([base[t] for t in tasks], [cand[t] for t in tasks])
    for task, difference in zip(tasks, differences, strict=True):
        if difference > 0:
            comparison.up += 1
        elif difference < 0:
            comparison.down += 1
        else:
            comparison.same += 1
            continue
        comparison.flips.append({"task": task, "baseline": base[task], "candidate": cand[task]})
    moved = comparison.up + comparison.down
    comparison.p_value = float(binomtest(comparison.up, moved, 0.5).pvalue) if moved else 1.0
    return comparison


def _paired_interval(base: list[float], cand: list[float]) -> tuple[float | None, float | None]:
    """95 % paired-bootstrap interval of mean(cand - base); a point when every difference is equal."""
    if len(base) < 2:
        return None, None
    differences = {c - b for b, c in zip(base, cand, strict=True)}
    if len(differences) == 1:
        value = differences.pop()
        return value, value
    import numpy as np
    from scipy.stats import bootstrap

    def statistic(b, c, axis=-1):
        return np.mean(c - b, axis=axis)

    data = (np.asarray(base, dtype=float), np.asarray(cand, dtype=float))
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa on few distinct values warns, and may give nan
            result = bootstrap(
                data,
                statistic,
                paired=True,
                vectorized=True,
                n_resamples=BOOTSTRAP_RESAMPLES,
                confidence_level=CONFIDENCE,
                method=method,
                rng=np.random.default_rng(BOOTSTRAP_SEED),
            )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if not (np.isnan(low) or np.isnan(high)):
            return low, high
    return None, None
