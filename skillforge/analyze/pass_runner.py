"""Run one LLM analyst pass: render its prompt, make one schema-checked call, turn the reply into
:class:`Lesson`\\ s and check each against the trajectories.

Lessons are validated against ``schemas/lesson.schema.json`` and grounded with
:func:`~skillforge.analyze.grounding.grounding_problems`. Lessons that fail the check go back to
the model once (``templates/prompts/repair_grounding.md.j2``); those still failing are dropped and
counted in the pass's journal record. Prompts are fitted into the context by
:class:`~skillforge.analyze.prompt_fit.PromptFitter`, on a render thread of the runner's own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from skillforge.analyze.grounding import grounding_problems, snap_evidence
from skillforge.analyze.output_schema import reply_schema
from skillforge.analyze.pass_plan import AnalystPass
from skillforge.analyze.prompt_fit import FIT_MARGIN_TOKENS, Prompt, PromptFitter, bound_schema
from skillforge.analyze.render_trajectory import RenderedTrajectory
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.llm.client import LLMClient
from skillforge.llm.errors import LLMError
from skillforge.llm.tokens import count_tokens
from skillforge.llm.types import Completion
from skillforge.prompts import prompt_template

REPAIR_TEMPLATE = "repair_grounding"
"""The prompt template of the grounding repair turn."""


class PassRunner(PromptFitter):
    """Builds prompts (:class:`PromptFitter`) and runs passes against one client.

    Args:
        client: the LLM client (concurrency, cache, budget).
        context_tokens: the model's input context (tokens); trajectories are fitted into it after
            the instructions and the expected completion.
    """

    def __init__(self, client: LLMClient, context_tokens: int) -> None:
        super().__init__(client, context_tokens)
        self._renderer: ThreadPoolExecutor | None = None

    async def run(self, analysis: AnalystPass) -> dict[str, Any]:
        """Run one pass; return its journal record (``status`` ``done`` or ``failed``).

        Raises:
            BudgetExceeded: a call of this pass would pass the budget (the pass is not finished).
        """
        prompt = await self._render_prompt(analysis)
        record: dict[str, Any] = {
            "pass_id": analysis.pass_id,
            "analyst": analysis.analyst.NAME,
            "template": prompt.template.version,
            "sessions": [t.session_id for t in analysis.trajectories],
            "task_id": analysis.task_id,
            "status": "done",
            "error": None,
            "lessons": [],
            "kept": 0,
            "repaired": 0,
            "dropped": [],
            "notes": {},
            "calls": 0,
            "cached": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": 0.0,
            "trajectory_tokens": sum(r.tokens for r in prompt.rendered),
            "raw_tokens": sum(r.raw_tokens for r in prompt.rendered),
            "shortened": _shortened(prompt.rendered),
        }
        try:
            reply = await self._call(
                record, prompt.messages, prompt.schema, analysis.analyst.NAME, prompt.template.hash
            )
        except LLMError as exc:
            record.update(status="failed", error=str(exc))
            return record
        record["notes"] = analysis.analyst.notes(reply.data)
        kept, failing = self._check(analysis, reply.data["lessons"], record)
        if failing:
            repaired, still_failing, error = await self._repair(analysis, prompt, reply.text, failing, record)
            kept += repaired
            record["repaired"] = len(repaired)
            record["dropped"] = [{"title": title, "problems": problems} for title, problems in still_failing]
            if error:
                record["error"] = f"grounding repair failed: {error}"
        unique = list({lesson.id: lesson for lesson in kept}.values())
        record["lessons"] = [lesson.to_dict() for lesson in unique]
        record["kept"] = len(unique)
        return record

    async def _render_prompt(self, analysis: AnalystPass) -> Prompt:
        """:meth:`prompt` on this runner's render thread, so the event loop goes on sending calls
        and taking replies meanwhile (rendering counts tokens over and over; the tokenizer
        releases the GIL). One thread of its own: renders never queue behind, or hold up, the
        work litellm hands to the loop's default executor."""
        if self._renderer is None:
            self._renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skillforge-render")
        return await asyncio.get_running_loop().run_in_executor(self._renderer, self.prompt, analysis)

    def close(self) -> None:
        """Stop the render thread (a later :meth:`run` starts a new one)."""
        if self._renderer is not None:
            self._renderer.shutdown(wait=False, cancel_futures=True)
            self._renderer = None

    async def _call(self, record: dict[str, Any], messages, schema, name: str, template_hash: str) -> Completion:
        try:
            completion = await self.client.complete_json(
                messages, schema, schema_name=name, template_hash=template_hash
            )
        except LLMError as exc:
            record["calls"] += 1
            record["attempts_failed"] = record.get("attempts_failed", 0) + exc.attempts
            raise
        record["cached" if completion.cached else "calls"] += 1
        record["prompt_tokens"] += completion.prompt_tokens
        record["completion_tokens"] += completion.completion_tokens
        record["cost_usd"] += completion.cost_usd
        return completion

    def _check(
        self, analysis: AnalystPass, items: list[dict[str, Any]], record: dict[str, Any] | None = None
    ) -> tuple[list[Lesson], list[tuple[int, Lesson, list[str]]]]:
        """Split reply lessons into grounded ones and failing ``(index, lesson, problems)``.

        Near-miss quotes are repaired in code first (:func:`snap_evidence`); how many is added
        to ``record["snapped"]``.
        """
        by_id = {t.session_id: t for t in analysis.trajectories}
        kept, failing = [], []
        for index, item in enumerate(items, 1):
            lesson, snapped = snap_evidence(_lesson(item, analysis), by_id)
            if record is not None and snapped:
                record["snapped"] = record.get("snapped", 0) + snapped
            problems = grounding_problems(lesson, by_id)
            if problems:
                failing.append((index, lesson, problems))
            else:
                kept.append(lesson)
        return kept, failing

    async def _repair(
        self, analysis: AnalystPass, prompt: Prompt, reply_text: str, failing, record
    ) -> tuple[list[Lesson], list[tuple[str, list[str]]], str | None]:
        """One repair round for lessons that failed grounding; returns (repaired, still failing, error)."""
        template = prompt_template(REPAIR_TEMPLATE)
        described = [{"index": i, "title": lesson.title, "problems": problems} for i, lesson, problems in failing]
        turn = [{"role": "assistant", "content": reply_text}, *template.messages(failing=described)]
        messages = [*prompt.messages, *turn]
        model = self.client.settings.model
        if count_tokens(model, messages=messages) + self.client.expected_completion_tokens > self.context_tokens:
            # the repair turn does not fit beside the full prompt: cut the trajectories further
            reserve = count_tokens(model, messages=turn) + FIT_MARGIN_TOKENS
            messages = [*self.prompt(analysis, reserve=reserve).messages, *turn]
        schema = bound_schema(reply_schema(analysis.analyst.KINDS, max_lessons=len(failing)), analysis)
        originals = [(lesson.title, problems) for _, lesson, problems in failing]
        try:
            reply = await self._call(record, messages, schema, "lessons", f"{prompt.template.hash}+{template.hash}")
        except LLMError as exc:
            return [], originals, str(exc)
        repaired, still = self._check(analysis, reply.data["lessons"][: len(failing)], record)
        details = [(lesson.title, problems) for _, lesson, problems in still]
        answered = {lesson.title for lesson in repaired} | {title for title, _ in details}
        missing = len(failing) - len(repaired) - len(details)  # lessons the model left out
        details += [(title, problems) for title, problems in originals if title not in answered][: max(0, missing)]
        return repaired, details, None


def _lesson(item: dict[str, Any], analysis: AnalystPass) -> Lesson:
    """A reply lesson item (valid against the reply schema) → :class:`Lesson` with id and analyst tag."""
    evidence = [Evidence(e["session_id"], list(e["step_ids"]), e["quote"]) for e in item["evidence"]]
    tags = list(dict.fromkeys([*item.get("tags", []), f"analyst:{analysis.analyst.NAME}"]))
    data = {**item, "id": lesson_id(item["kind"], item["title"], evidence), "tags": tags}
    return Lesson.from_dict(data)


def _shortened(rendered: list[RenderedTrajectory]) -> dict[str, dict[str, Any]]:
    """What fitting the context cut, per trajectory that was shortened (for the run journal).

    Returns:
        ``{session_id: {"cut_blocks": int, "omitted_steps": [step ids], "fits": bool}}``.
    """
    return {
        r.session_id: {"cut_blocks": r.cut_blocks, "omitted_steps": list(r.omitted_steps), "fits": r.fits}
        for r in rendered
        if r.cut_blocks or r.omitted_steps or not r.fits
    }
