"""The retrospective judge: one LLM call per held-out trajectory and skill version (issue 17).

For a failed trajectory the judge names the root-cause step (the first wrong decision, as the
failure analyst does) and says whether the skill holds guidance that, followed at that step, would
have changed the decision, citing the skill lines. For a successful one it says whether a skill
line prescribes something the run contradicts. Per version:

* **coverage** = failures whose root cause the skill addresses / failures judged;
* **harm** = successes the skill would have steered wrong / successes judged.

Only claims whose citations hold count (:mod:`skillforge.eval.citations`); a claim that fails
the check gets one repair round (``templates/prompts/retro_repair.md.j2``), and one that still
fails is counted as no claim, its problems kept with the judgement. Trajectories whose outcome is
unknown are skipped (listed). The prompt is ``templates/prompts/retro_judge.md.j2``, the reply
schema ``schemas/retro_judgement.schema.json``; calls go through the project's LLM client, so they
are cached (a rerun costs nothing), bounded in concurrency and held to the budget.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from skillforge.analyze.render_trajectory import render_trajectory
from skillforge.analyze.signals import compute_signals
from skillforge.eval.citations import SkillUnderTest, check_skill_lines, check_step
from skillforge.eval.judge_client import BudgetExceeded, Completion, LLMClient, LLMError, StageEstimate, count_tokens
from skillforge.prompts import prompt_template
from skillforge.resources import load_schema
from skillforge.trajectory import Trajectory

TEMPLATE = "retro_judge"
REPAIR_TEMPLATE = "retro_repair"
SCHEMA = "retro_judgement"
MAX_HINTS = 25
MIN_TRAJECTORY_TOKENS = 256
"""Token floor for the trajectory, however much of the context the skill takes."""
FIT_MARGIN_TOKENS = 64

Verdict = str
"""``addressed`` / ``missed`` (failures), ``harmful`` / ``harmless`` (successes), ``error`` (the call
failed), ``not_run`` (the budget stopped it)."""


def judgement_schema(kind: str) -> dict[str, Any]:
    """The reply schema for a ``failure`` or ``success`` trajectory (``$defs`` of the schema file)."""
    return copy.deepcopy(load_schema(SCHEMA)["$defs"][kind])


@dataclass
class Judgement:
    """The judge's verdict on one trajectory for one skill version, after the citation checks.

    Attributes:
        session_id, task_id: the trajectory.
        kind: ``failure`` or ``success`` (its outcome).
        verdict: see :data:`Verdict`.
        step: the cited step ``{"step_id", "quote"}`` (root cause, or what worked), checked; None
            when none was cited or it failed the check.
        skill_lines: the cited skill lines that hold, ``{"file", "line", "text"}`` (text as in the skill).
        description: the judge's root-cause description (failures).
        explanation: the judge's own words.
        problems: citations that failed the check (after the repair round).
        repaired: a repair round was made.
        calls, cached, prompt_tokens, completion_tokens, cost_usd: this judgement's usage (tokens; USD).
        error: the error of a failed call.
    """

    session_id: str
    task_id: str | None
    kind: str
    verdict: Verdict = "missed"
    step: dict[str, Any] | None = None
    skill_lines: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    explanation: str = ""
    problems: list[str] = field(default_factory=list)
    repaired: bool = False
    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None


@dataclass
class RetroResult:
    """The retrospective evaluation of one skill version.

    Attributes:
        skill, label: the skill and version label (``v3``, ``candidate``, ``none``).
        judgements: one per judged trajectory, in input order.
        skipped_unknown: session ids skipped because their outcome is unknown.
        stopped: ``budget`` when the budget stopped the evaluation.
        template: the prompt template version (``name@hash``).
    """

    skill: str
    label: str
    judgements: list[Judgement] = field(default_factory=list)
    skipped_unknown: list[str] = field(default_factory=list)
    stopped: str | None = None
    template: str = ""

    def _count(self, kind: str, verdict: str | None = None) -> int:
        return sum(
            1
            for j in self.judgements
            if j.kind == kind and j.verdict not in ("error", "not_run") and (verdict is None or j.verdict == verdict)
        )

    @property
    def failures(self) -> int:
        """Failed trajectories judged (calls that failed or were not run are not counted)."""
        return self._count("failure")

    @property
    def addressed(self) -> int:
        """Failures whose root cause the skill addresses, with citations that hold."""
        return self._count("failure", "addressed")

    @property
    def successes(self) -> int:
        """Successful trajectories judged."""
        return self._count("success")

    @property
    def harmful(self) -> int:
        """Successes the skill would have steered wrong, with citations that hold."""
        return self._count("success", "harmful")

    @property
    def coverage(self) -> float | None:
        """addressed / failures, None when no failure was judged."""
        return self.addressed / self.failures if self.failures else None

    @property
    def harm(self) -> float | None:
        """harmful / successes, None when no success was judged."""
        return self.harmful / self.successes if self.successes else None

    def usage(self) -> dict[str, Any]:
        """Calls, cached answers, tokens and USD over all judgements."""
        return {
            "calls": sum(j.calls for j in self.judgements),
            "cached": sum(j.cached for j in self.judgements),
            "prompt_tokens": sum(j.prompt_tokens for j in self.judgements),
            "completion_tokens": sum(j.completion_tokens for j in self.judgements),
            "cost_usd": round(sum(j.cost_usd for j in self.judgements), 6),
        }

    def summary(self) -> dict[str, Any]:
        """The figures without the judgements: counts, coverage, harm, errors, usage."""
        return {
            "label": self.label,
            "failures": self.failures,
            "addressed": self.addressed,
            "coverage": self.coverage,
            "successes": self.successes,
            "harmful": self.harmful,
            "harm": self.harm,
            "errors": sum(1 for j in self.judgements if j.verdict == "error"),
            "not_run": sum(1 for j in self.judgements if j.verdict == "not_run"),
            "ungrounded": sum(1 for j in self.judgements if j.problems),
            "skipped_unknown": len(self.skipped_unknown),
            "stopped": self.stopped,
            "template": self.template,
            "usage": self.usage(),
        }

    def to_dict(self) -> dict[str, Any]:
        """:meth:`summary` plus every judgement (cited lines, steps, quotes, problems)."""
        return {
            **self.summary(),
            "skill": self.skill,
            "judgements": [asdict(j) for j in self.judgements],
            "skipped": self.skipped_unknown,
        }


class RetroJudge:
    """Renders the judge's prompts and runs them against one client.

    Args:
        client: the LLM client (cache, concurrency, budget).
        context_tokens: the model's input context; the trajectory is fitted into what the
            instructions, the skill and the expected completion leave.
    """

    def __init__(self, client: LLMClient, context_tokens: int) -> None:
        self.client = client
        self.context_tokens = context_tokens

    def prompt(self, skill: SkillUnderTest, trajectory: Trajectory) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The messages and reply schema of one judgement (no call made)."""
        kind = trajectory.outcome.status
        schema = judgement_schema(kind)
        template = prompt_template(TEMPLATE)
        model = self.client.settings.model
        shared = {
            "kind": kind,
            "skill_name": skill.name,
            "skill_label": skill.label,
            "files": skill.numbered(),
            "schema_json": orjson.dumps(schema).decode(),
        }
        view = _view(trajectory)
        bare = template.messages(**shared, t=view)
        budget = (
            self.context_tokens
            - self.client.expected_completion_tokens
            - count_tokens(model, messages=bare)
            - FIT_MARGIN_TOKENS
        )
        rendered = render_trajectory(
            trajectory,
            max(MIN_TRAJECTORY_TOKENS, budget),
            lambda text: count_tokens(model, text=text),
            label=trajectory.session_id,
        )
        if rendered.omitted_steps or rendered.cut_blocks:
            view["note"] = (
                "to fit the context, parts of the run were cut (marked in place); do not cite what you cannot see."
            )
        view["text"] = rendered.text
        return template.messages(**shared, t=view), schema

    def estimate(self, skill: SkillUnderTest, trajectory: Trajectory) -> Any:
        """The :class:`~skillforge.llm.tokens.CallEstimate` of one judgement's first call (repairs not foreseen)."""
        messages, schema = self.prompt(skill, trajectory)
        return self.client.estimate(messages, schema, prompt_template(TEMPLATE).hash)

    async def judge(self, skill: SkillUnderTest, trajectory: Trajectory) -> Judgement:
        """Judge one trajectory against one version; LLM errors become an ``error`` verdict.

        Raises:
            BudgetExceeded: a call would pass the budget.
        """
        kind = trajectory.outcome.status
        judgement = Judgement(trajectory.session_id, trajectory.task_id, kind)
        messages, schema = self.prompt(skill, trajectory)
        template_hash = prompt_template(TEMPLATE).hash
        try:
            reply = await self._call(judgement, messages, schema, template_hash)
            problems = _apply(judgement, reply.data, skill, trajectory)
            if problems:
                repair = prompt_template(REPAIR_TEMPLATE)
                claim = "addressed" if kind == "failure" else "contradicted"
                turn = [{"role": "assistant", "content": reply.text}, *repair.messages(problems=problems, claim=claim)]
                judgement.repaired = True
                reply = await self._call(judgement, [*messages, *turn], schema, f"{template_hash}+{repair.hash}")
                _apply(judgement, reply.data, skill, trajectory)
        except LLMError as exc:
            judgement.verdict, judgement.error = "error", str(exc)
        return judgement

    async def _call(self, judgement: Judgement, messages, schema, template_hash: str) -> Completion:
        try:
            completion = await self.client.complete_json(
                messages, schema, schema_name=f"retro_{judgement.kind}", template_hash=template_hash
            )
        except LLMError:
            judgement.calls += 1
            raise
        if completion.cached:
            judgement.cached += 1
        else:
            judgement.calls += 1
        judgement.prompt_tokens += completion.prompt_tokens
        judgement.completion_tokens += completion.completion_tokens
        judgement.cost_usd += completion.cost_usd
        return completion


def _apply(judgement: Judgement, reply: dict[str, Any], skill: SkillUnderTest, trajectory: Trajectory) -> list[str]:
    """Set ``judgement`` from a reply whose citations are checked; return the problems of a claim
    that fails the check (empty when the verdict stands as the judge gave it)."""
    problems: list[str] = []
    if judgement.kind == "failure":
        cause = reply["root_cause"]
        judgement.step, problem = check_step(trajectory, cause["step_id"], cause["quote"])
        judgement.description = cause["description"]
        problems += [problem] if problem else []
        claimed = bool(reply["addressed"])
    else:
        cited = reply.get("step")
        claimed = bool(reply["contradicted"])
        judgement.step, problem = check_step(trajectory, cited["step_id"], cited["quote"]) if cited else (None, None)
        if claimed and cited is None:
            problem = "a contradiction needs the step that shows what worked"
        problems += [problem] if problem else []
    judgement.explanation = reply.get("explanation", "")
    lines, line_problems = check_skill_lines(skill, reply["skill_lines"]) if claimed else ([], [])
    problems += line_problems
    if claimed and not lines and not line_problems:
        problems.append("the claim cites no skill line")
    held = claimed and bool(lines) and judgement.step is not None
    judgement.skill_lines = lines if held else []
    positive, negative = ("addressed", "missed") if judgement.kind == "failure" else ("harmful", "harmless")
    judgement.verdict = positive if held else negative
    judgement.problems = problems if claimed else [p for p in problems if p.startswith("step")]
    return problems if claimed and problems else []


def _view(trajectory: Trajectory) -> dict[str, Any]:
    """What ``_trajectory.md.j2`` shows of a trajectory, its text left empty."""
    hints = compute_signals(trajectory).as_hints()
    if len(hints) > MAX_HINTS:
        hints = [*hints[:MAX_HINTS], f"… and {len(hints) - MAX_HINTS} more"]
    agent = trajectory.agent.name + (f" ({trajectory.agent.model_name})" if trajectory.agent.model_name else "")
    return {
        "session_id": trajectory.session_id,
        "agent": agent,
        "format": trajectory.source.format,
        "task_id": trajectory.task_id,
        "outcome": trajectory.outcome.status,
        "hints": hints,
        "note": "",
        "text": "",
    }


JudgedHook = Callable[[str, Judgement], None]
"""``(version label, judgement)`` when a judgement is done."""


def judge_versions(
    skills: list[SkillUnderTest],
    trajectories: list[Trajectory],
    judge: RetroJudge,
    on_judged: JudgedHook | None = None,
) -> list[RetroResult]:
    """Judge every trajectory of known outcome against every version, all calls on one event loop.

    A version without files (the no-skill arm) makes no call: it addresses nothing and harms
    nothing, so its result has every failure ``missed`` and every success ``harmless``.

    Returns:
        One :class:`RetroResult` per skill, in order; ``stopped == "budget"`` (and the verdicts of
        calls not made ``not_run``) when the budget refused a call.
    """
    judged = [t for t in trajectories if t.outcome.status in ("success", "failure")]
    skipped = [t.session_id for t in trajectories if t.outcome.status not in ("success", "failure")]
    version = prompt_template(TEMPLATE).version
    results = [RetroResult(s.name, s.label, skipped_unknown=list(skipped), template=version) for s in skills]

    async def one(skill: SkillUnderTest, result: RetroResult, trajectory: Trajectory) -> Judgement:
        if skill.empty:
            return Judgement(
                trajectory.session_id,
                trajectory.task_id,
                trajectory.outcome.status,
                "missed" if trajectory.outcome.status == "failure" else "harmless",
            )
        try:
            judgement = await judge.judge(skill, trajectory)
        except BudgetExceeded:
            result.stopped = "budget"
            return Judgement(trajectory.session_id, trajectory.task_id, trajectory.outcome.status, "not_run")
        if on_judged is not None:
            on_judged(skill.label, judgement)
        return judgement

    async def main() -> list[list[Judgement]]:
        return list(
            await asyncio.gather(
                *(asyncio.gather(*(one(s, r, t) for t in judged)) for s, r in zip(skills, results, strict=True))
            )
        )

    for result, judgements in zip(results, asyncio.run(main()), strict=True):
        result.judgements = list(judgements)
    return results


def estimate_versions(skills: list[SkillUnderTest], trajectories: list[Trajectory], judge: RetroJudge) -> StageEstimate:
    """The dry run of :func:`judge_versions`: calls, tokens and USD, counted locally, calling nothing."""
    stage = StageEstimate("retro")
    for skill in skills:
        if skill.empty:
            continue
        for trajectory in trajectories:
            if trajectory.outcome.status in ("success", "failure"):
                stage.add(judge.estimate(skill, trajectory))
    return stage
