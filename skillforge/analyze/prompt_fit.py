"""Fit a pass's prompt into the model's context: render the trajectories into what the
instructions and the expected completion leave free, count, and render again smaller if needed.

:mod:`skillforge.analyze.render_trajectory` cuts each trajectory to a token budget; here the
budget is worked out (one trajectory, or an equal share of the runs of a comparative pass), the
prompt template is filled (signal hints, and a note on what was cut), and the finished messages
are counted against the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from skillforge.analyze.output_schema import MAX_LESSONS, bind_evidence
from skillforge.analyze.pass_plan import AnalystPass
from skillforge.analyze.render_trajectory import LazyBudget, RenderedTrajectory, render_trajectory
from skillforge.analyze.signals import compute_signals
from skillforge.llm.client import LLMClient
from skillforge.llm.tokens import count_tokens, messages_size_bound
from skillforge.prompts import PromptTemplate, prompt_template
from skillforge.trajectory import Trajectory

MAX_HINTS = 25
"""Signal hints shown per trajectory (the first ones; the rest are counted)."""

MIN_TRAJECTORY_TOKENS = 512
"""Token budget floor for one trajectory, even when the context is nearly full with instructions;
lowered to an equal share (not below :data:`MIN_SHARE_TOKENS`) when several runs must share a small
context (a comparative pass on a 4k-token local model), so the prompt still fits."""

MIN_SHARE_TOKENS = 128
"""The lowest per-trajectory budget when runs share a small context."""

FIT_ATTEMPTS = 3
"""Renders tried per prompt to bring it under the context (the first nearly always fits)."""

FIT_MARGIN_TOKENS = 32


@dataclass
class Prompt:
    """A pass's prompt, ready to send.

    Attributes:
        messages: the chat messages.
        schema: the reply's JSON Schema.
        template: the prompt template rendered.
        rendered: the trajectories as shown, in order.
        tokens: the messages' tokens: counted whole, or, where :meth:`PromptFitter.prompt` was asked
            for a sum of parts and a trajectory had to be cut, the instructions' tokens plus each
            trajectory's (per step, markers included) and each note's (then ``exact`` is False).
        exact: ``tokens`` is the count of the whole messages.
    """

    messages: list[dict[str, str]]
    schema: dict[str, Any]
    template: PromptTemplate
    rendered: list[RenderedTrajectory]
    tokens: int = 0
    exact: bool = True


class PromptFitter:
    """Renders pass prompts within one model's context (no call made);
    :class:`skillforge.analyze.pass_runner.PassRunner` builds on it to run the passes.

    Args:
        client: the LLM client: its model (for counting tokens) and expected completion tokens.
        context_tokens: the model's input context (tokens); trajectories are fitted into it after
            the instructions and the expected completion.
    """

    def __init__(self, client: LLMClient, context_tokens: int) -> None:
        self.client = client
        self.context_tokens = context_tokens

    def count(self, text: str) -> int:
        """Tokens of ``text`` for the client's model."""
        return count_tokens(self.client.settings.model, text=text)

    def prompt(self, analysis: AnalystPass, reserve: int = 0, exact: bool = True) -> Prompt:
        """Render the prompt of ``analysis`` within the context budget (no call made).

        Args:
            analysis: the pass.
            reserve: tokens to leave free beyond the expected completion (a repair turn's
                reply and instructions); the trajectories are cut further to make room.
            exact: count the finished messages whole, and render again smaller should they pass
                the context (a real run: a prompt that does not fit is a failed call). False (the
                dry run): a prompt whose trajectories had to be cut to fit is counted as the sum
                of its parts, counted while fitting (instructions, steps, markers, notes), which
                spares a second count of the largest prompts; it stays within a few tokens of the
                whole count, and its messages are the ones a real run renders first. A prompt
                whose trajectories fitted whole is counted whole either way (one count).

        Returns:
            A :class:`Prompt`.
        """
        template = prompt_template(analysis.analyst.TEMPLATE)
        schema = bound_schema(analysis.analyst.output_schema(), analysis)
        shared = {"max_lessons": MAX_LESSONS, "schema_json": orjson.dumps(schema).decode(), "task_id": analysis.task_id}
        empty = [_view(t) for t in analysis.trajectories]
        model = self.client.settings.model
        bare = template.messages(**shared, t=empty[0], runs=empty)
        limit = self.context_tokens - self.client.expected_completion_tokens - reserve
        overhead = cache(lambda: count_tokens(model, messages=bare))
        if len(analysis.trajectories) == 1:
            # a trajectory that fits beside the instructions taken at one token per byte fits
            # beside them counted: they are then counted once, inside the whole prompt
            available: int | LazyBudget = LazyBudget(limit - messages_size_bound(bare), lambda: limit - overhead())
        else:
            available = limit - overhead()
        for attempt in range(FIT_ATTEMPTS):
            rendered = self._render(analysis.trajectories, available)
            views = [{**view, **_shown(r)} for view, r in zip(empty, rendered, strict=True)]
            messages = template.messages(**shared, t=views[0], runs=views)
            if not exact and any(r.in_parts for r in rendered):
                parts = (
                    overhead()
                    + sum(r.tokens for r in rendered)
                    + sum(self.count(v["note"]) for v in views if v["note"])
                )
                return Prompt(messages, schema, template, rendered, parts, exact=False)
            tokens = count_tokens(model, messages=messages)
            over = tokens - limit
            if over <= 0:
                break
            # notes, separators and markers the estimate missed; the cut grows each attempt, since
            # rendering drops whole steps and a small cut can leave the same text
            available = (available.exact() if isinstance(available, LazyBudget) else available) - (
                over + FIT_MARGIN_TOKENS
            ) * (attempt + 1) ** 2
        return Prompt(messages, schema, template, rendered, tokens)

    def _render(self, trajectories: list[Trajectory], available: int | LazyBudget) -> list[RenderedTrajectory]:
        """Render ``trajectories`` into ``available`` tokens (a :class:`LazyBudget` for one trajectory)."""
        if isinstance(available, LazyBudget):  # one trajectory: the floor below is MIN_SHARE_TOKENS
            budget: int | LazyBudget = LazyBudget(available.at_least, lambda: max(MIN_SHARE_TOKENS, available.exact()))
            return [render_trajectory(trajectories[0], budget, self.count, seen={}, label=trajectories[0].session_id)]
        seen: dict[str, str] = {}
        rendered: list[RenderedTrajectory] = []
        floor = min(MIN_TRAJECTORY_TOKENS, max(MIN_SHARE_TOKENS, available // len(trajectories)))
        for index, trajectory in enumerate(trajectories):
            # an equal share of what is left, so tokens one run leaves unused go to the next
            budget = max(floor, available // (len(trajectories) - index))
            rendered.append(render_trajectory(trajectory, budget, self.count, seen=seen, label=trajectory.session_id))
            if index < len(trajectories) - 1:  # the last one's tokens are not needed (and may not be counted yet)
                available -= rendered[-1].tokens
        return rendered


def bound_schema(schema: dict[str, Any], analysis: AnalystPass) -> dict[str, Any]:
    """``schema`` with evidence limited to the pass's sessions (:func:`bind_evidence`).

    Args:
        schema: a reply JSON Schema (an analyst's output schema, or the repair reply's).
        analysis: the pass whose trajectories the evidence may cite.

    Returns:
        A new schema dict; ``schema`` is left as it was.
    """
    return bind_evidence(schema, [t.session_id for t in analysis.trajectories])


def _view(trajectory: Trajectory) -> dict[str, Any]:
    """What the prompt templates see of a trajectory, its text left empty (see :func:`_shown`)."""
    hints = compute_signals(trajectory).as_hints()
    if len(hints) > MAX_HINTS:
        hints = [*hints[:MAX_HINTS], f"… and {len(hints) - MAX_HINTS} more"]
    agent = trajectory.agent.name + (f" ({trajectory.agent.model_name})" if trajectory.agent.model_name else "")
    status = trajectory.outcome.status
    return {
        "session_id": trajectory.session_id,
        "agent": agent,
        "format": trajectory.source.format,
        "task_id": trajectory.task_id,
        "outcome": "not recorded in the log" if status == "unknown" else status,
        "hints": hints,
        **_shown(None),
    }


def _shown(rendered: RenderedTrajectory | None) -> dict[str, str]:
    """A view's rendered text, and its note on what fitting the context cut (both empty for None)."""
    note = ""
    if rendered is not None and (rendered.omitted_steps or rendered.cut_blocks):
        done = []
        if rendered.omitted_steps:
            done.append(f"{len(rendered.omitted_steps)} steps were omitted")
        if rendered.cut_blocks:
            done.append(f"{rendered.cut_blocks} long texts were cut")
        note = f"to fit the context, {' and '.join(done)} (marked in place); do not cite what you cannot see."
    return {"note": note, "text": rendered.text if rendered is not None else ""}
