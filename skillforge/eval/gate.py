"""The promotion gate: a candidate version is stored only if it is not worse than the current one.

* retrospective (:func:`decide_retro`): the candidate's coverage may be at most ``coverage_drop``
  below the current version's, and its harm at most ``harm_rise`` above it;
* A/B (:func:`decide_ab`): the candidate's success rate, paired by task, may be at most
  ``success_drop`` below the current version's (the mean per-task difference, :mod:`.stats`).

Without a current version the candidate is compared with no skill (coverage 0, harm 0 for the
judge; the no-skill arm for the replay). An incomplete evaluation (failed calls, a budget stop, no
trial finished in both arms) never promotes. Thresholds are shares (0.05 = five percentage
points); they come from the options, else the ``[eval]`` table of ``skillforge.toml``, else the
defaults (0: not worse at all)::

    [eval]
    coverage_drop = 0.0
    harm_rise = 0.0
    success_drop = 0.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from skillforge.config import CONFIG_FILE, read_table
from skillforge.errors import SkillforgeError
from skillforge.eval.retro import RetroResult
from skillforge.eval.stats import Comparison

TOLERANCE = 1e-9
"""Shares are compared with this slack (floating point)."""


@dataclass(frozen=True)
class GateThresholds:
    """How much worse a candidate may be and still be promoted (shares in [0, 1]).

    Attributes:
        coverage_drop: coverage may fall at most this much below the current version's.
        harm_rise: harm may rise at most this much above the current version's.
        success_drop: the A/B success rate may fall at most this much below the current version's.
    """

    coverage_drop: float = 0.0
    harm_rise: float = 0.0
    success_drop: float = 0.0


def load_thresholds(config_file: Path | None = None, **options: float | None) -> GateThresholds:
    """Thresholds from ``options`` (None: not given), else ``[eval]`` of ``skillforge.toml``, else defaults.

    Raises:
        SkillforgeError: an unknown key under ``[eval]``, or a value that is not a number in [0, 1]
            (the message names the file or the option).
    """
    names = [f.name for f in fields(GateThresholds)]
    unknown_options = sorted(set(options) - set(names))
    if unknown_options:
        raise SkillforgeError(f"unknown gate threshold(s): {', '.join(unknown_options)} (known: {', '.join(names)})")
    table = read_table("eval", config_file)
    where = str(config_file or CONFIG_FILE)
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise SkillforgeError(f"{where}: unknown key(s) under [eval]: {', '.join(unknown)} (known: {', '.join(names)})")
    values: dict[str, float] = {}
    for name in names:
        given, origin = (
            (options.get(name), f"option {name}")
            if options.get(name) is not None
            else (table.get(name), f"{where} [eval] {name}")
        )
        if given is None:
            continue
        if isinstance(given, bool) or not isinstance(given, (int, float)) or not 0.0 <= float(given) <= 1.0:
            raise SkillforgeError(f"{origin} must be a number between 0 and 1 (a share), got {given!r}")
        values[name] = float(given)
    return GateThresholds(**values)


@dataclass
class GateDecision:
    """Whether to promote the candidate, and why.

    Attributes:
        mode: ``retro`` or ``ab``.
        promote: True when the candidate may be stored.
        candidate, baseline: the labels compared (``candidate``/``v4`` against ``v3``/``none``).
        reasons: one sentence per check, with the figures.
        figures: the numbers checked (JSON-ready).
        thresholds: the thresholds used.
    """

    mode: str
    promote: bool
    candidate: str
    baseline: str
    reasons: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide_retro(candidate: RetroResult, current: RetroResult | None, thresholds: GateThresholds) -> GateDecision:
    """The retrospective gate (see the module docstring); ``current`` None compares with no skill."""
    baseline = current.label if current is not None else "none"
    decision = GateDecision("retro", True, candidate.label, baseline, thresholds=asdict(thresholds))
    incomplete = [
        r
        for r in (candidate, current)
        if r is not None and (r.stopped or any(j.verdict in ("error", "not_run") for j in r.judgements))
    ]
    for result in incomplete:
        failed = sum(1 for j in result.judgements if j.verdict in ("error", "not_run"))
        decision.promote = False
        decision.reasons.append(
            f"{result.label}: the evaluation is incomplete ({failed} judgements failed or not run"
            f"{', budget stop' if result.stopped else ''})"
        )
    cur_cov = (current.coverage if current is not None else 0.0) or 0.0
    cur_harm = (current.harm if current is not None else 0.0) or 0.0
    decision.figures = {
        "candidate": candidate.summary(),
        "baseline": current.summary() if current is not None else None,
    }
    if candidate.coverage is None:
        decision.reasons.append("coverage: no held-out failure to judge")
    elif candidate.coverage + TOLERANCE < cur_cov - thresholds.coverage_drop:
        decision.promote = False
        decision.reasons.append(
            f"coverage fell: {_pct(candidate.coverage)} < {baseline} {_pct(cur_cov)}"
            f" - {_pct(thresholds.coverage_drop)} allowed"
        )
    else:
        decision.reasons.append(
            f"coverage {_pct(candidate.coverage)} ({candidate.addressed}/{candidate.failures})"
            f" vs {baseline} {_pct(cur_cov)}: not lower"
        )
    if candidate.harm is None:
        decision.reasons.append("harm: no held-out success to judge")
    elif candidate.harm - TOLERANCE > cur_harm + thresholds.harm_rise:
        decision.promote = False
        decision.reasons.append(
            f"harm rose: {_pct(candidate.harm)} > {baseline} {_pct(cur_harm)} + {_pct(thresholds.harm_rise)} allowed"
        )
    else:
        decision.reasons.append(
            f"harm {_pct(candidate.harm)} ({candidate.harmful}/{candidate.successes})"
            f" vs {baseline} {_pct(cur_harm)}: not higher"
        )
    return decision


def decide_ab(comparison: Comparison, thresholds: GateThresholds) -> GateDecision:
    """The A/B gate on ``comparison`` (candidate against the current version or no skill)."""
    decision = GateDecision(
        "ab",
        True,
        comparison.candidate,
        comparison.baseline,
        thresholds=asdict(thresholds),
        figures=comparison.to_dict(),
    )
    if comparison.delta is None:
        decision.promote = False
        decision.reasons.append(f"no task finished in both {comparison.candidate} and {comparison.baseline}")
        return decision
    interval = (
        f", 95 % CI [{_points(comparison.ci_low)}, {_points(comparison.ci_high)}]"
        if comparison.ci_low is not None
        else ""
    )
    said = (
        f"success rate {_points(comparison.delta)} pts vs {comparison.baseline} over {comparison.tasks} tasks"
        f"{interval}, p = {comparison.p_value:.3g}"
    )
    if comparison.delta + TOLERANCE < -thresholds.success_drop:
        decision.promote = False
        decision.reasons.append(f"{said}: worse by more than the {_pct(thresholds.success_drop)} allowed")
    else:
        decision.reasons.append(f"{said}: not worse")
    return decision


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


def _points(value: float | None) -> str:
    return "?" if value is None else f"{100 * value:+.1f}"
