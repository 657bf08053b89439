"""Run the LLM analysts: one pass per trajectory, then one per comparable task, in parallel.

Stage ``analyse``: every trajectory gets exactly one pass, by the analyst its outcome calls for
(failure, success, or the judge when the outcome is unknown; :mod:`skillforge.analyze.analysts`).
Stage ``compare``: every task seen both succeeding and failing (outcomes judged in the first stage
count) gets one comparative pass. Passes run concurrently on one event loop; the
:class:`~skillforge.llm.client.LLMClient` bounds how many calls are in flight.

A pass renders its prompt (:mod:`skillforge.analyze.render_trajectory` fits the trajectories
into the model's context), makes one schema-checked call, turns the reply into :class:`Lesson`\\ s
(validated against ``schemas/lesson.schema.json``) and checks each against the trajectories
(:func:`~skillforge.analyze.grounding.grounding_problems`). Lessons that fail the check go back to
the model once (``templates/prompts/repair_grounding.md.j2``); those still failing are dropped
and counted. Each finished pass is appended to the run journal (``passes.jsonl``) at once, so a
resumed run skips it; passes that failed are tried again on resume.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import orjson

from skillforge.analyze import comparative, judge
from skillforge.analyze.analysts import ANALYSTS, Analyst, analyst_for
from skillforge.analyze.grounding import grounding_problems, snap_evidence
from skillforge.analyze.output_schema import MAX_LESSONS, bind_evidence, reply_schema
from skillforge.analyze.render_trajectory import LazyBudget, RenderedTrajectory, render_trajectory
from skillforge.analyze.signals import compute_signals
from skillforge.lesson import Evidence, Lesson, lesson_id
from skillforge.llm.client import LLMClient
from skillforge.llm.errors import BudgetExceeded, FatalLLMError, LLMError
from skillforge.llm.tokens import count_tokens, messages_size_bound
from skillforge.llm.types import Completion
from skillforge.prompts import PromptTemplate, prompt_template
from skillforge.trajectory import Trajectory


class PassJournal(Protocol):
    """Where finished passes are journaled: the run folder's ``passes.jsonl``
    (:class:`skillforge.distill.runfolder.RunFolder`)."""

    def read_passes(self) -> dict[str, dict[str, Any]]:
        """Finished passes by ``pass_id``."""
        ...

    def append_pass(self, record: dict[str, Any]) -> None:
        """Append one finished pass and push it to disk."""
        ...


STAGE_ANALYSE = "analyse"
STAGE_COMPARE = "compare"
STAGES = (STAGE_ANALYSE, STAGE_COMPARE)

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

REPAIR_TEMPLATE = "repair_grounding"


@dataclass
class AnalystPass:
    """One planned analyst call.

    Attributes:
        pass_id: ``<analyst>:<session_id>`` or ``comparative:<task_id>`` (the journal key).
        analyst: the analyst module.
        trajectories: what it reads (one, or the runs of a task).
        task_id: the task of a comparative pass.
    """

    pass_id: str
    analyst: Analyst
    trajectories: list[Trajectory]
    task_id: str | None = None

    def __reduce__(self):
        """Pickled with the analyst's name (a module does not pickle), for worker processes."""
        return _analyst_pass, (self.pass_id, self.analyst.NAME, self.trajectories, self.task_id)


def _analyst_pass(pass_id: str, analyst: str, trajectories: list[Trajectory], task_id: str | None) -> AnalystPass:
    return AnalystPass(pass_id, ANALYSTS[analyst], trajectories, task_id)


@dataclass
class Prompt:
    """A pass's prompt, ready to send.

    Attributes:
        messages: the chat messages.
        schema: the reply's JSON Schema.
        template: the prompt template rendered.
        rendered: the trajectories as shown, in order.
        tokens: the messages' tokens: counted whole, or, where :meth:`PassRunner.prompt` was asked
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


@dataclass
class AnalysisReport:
    """What the LLM analysis produced.

    Attributes:
        lessons: lessons kept (grounded), in plan order, one per id (passes may agree on one).
        records: journal records of all finished or failed passes, in plan order (resumed ones too).
        stopped: ``"budget"`` when the budget stopped the analysis before every pass ran.
        not_run: pass ids left to do (budget stop).
        resumed: passes taken from the journal of an earlier attempt instead of being run.
        templates: prompt template versions used (``name@hash``).
    """

    lessons: list[Lesson] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None
    not_run: list[str] = field(default_factory=list)
    resumed: int = 0
    templates: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts for the manifest: passes by analyst and status, lessons kept/repaired/dropped,
        trajectory tokens sent vs raw (tokens of the trajectories' ATIF JSON)."""
        done = [r for r in self.records if r["status"] == "done"]
        per_trajectory = [r for r in done if r["analyst"] != comparative.NAME]
        return {
            "passes": dict(Counter(r["analyst"] for r in done)),
            "failed_passes": [
                {"pass_id": r["pass_id"], "error": r["error"]} for r in self.records if r["status"] == "failed"
            ],
            "not_run": self.not_run,
            "resumed_passes": self.resumed,
            "lessons": {
                "unique": len(self.lessons),
                "kept": sum(r["kept"] for r in done),
                "repaired": sum(r["repaired"] for r in done),
                "quotes_snapped": sum(r.get("snapped", 0) for r in done),
                "dropped": sum(len(r["dropped"]) for r in done),
            },
            "dropped_lessons": [{"pass_id": r["pass_id"], **d} for r in done for d in r["dropped"]],
            "trajectory_tokens": {
                "sent": sum(r["trajectory_tokens"] for r in per_trajectory),
                "raw": sum(r["raw_tokens"] for r in per_trajectory),
            },
            "shortened": _shortened_totals(self.records),
            "judged_outcomes": {r["sessions"][0]: r["notes"]["outcome"] for r in done if r["analyst"] == judge.NAME},
            "templates": self.templates,
        }


StageHook = Callable[[str, int, int], None]
"""``(stage, passes in total, passes already done)`` when a stage starts."""
PassHook = Callable[[str, dict[str, Any]], None]
"""``(stage, journal record)`` when a pass ends (done or failed)."""


def plan_trajectory_passes(trajectories: list[Trajectory]) -> list[AnalystPass]:
    """One pass per trajectory, by the analyst for its outcome."""
    passes = []
    for trajectory in trajectories:
        analyst = analyst_for(trajectory)
        passes.append(AnalystPass(f"{analyst.NAME}:{trajectory.session_id}", analyst, [trajectory]))
    return passes


def plan_comparative_passes(trajectories: list[Trajectory]) -> list[AnalystPass]:
    """One comparative pass per task with both successful and failed runs."""
    return [
        AnalystPass(f"{comparative.NAME}:{task}", comparative, runs, task)
        for task, runs in comparative.comparable_tasks(trajectories).items()
    ]


def apply_judged_outcomes(trajectories: list[Trajectory], records: list[dict[str, Any]]) -> int:
    """Set the outcome of each trajectory a judge pass judged (``origin: judge``); return how many."""
    by_id = {t.session_id: t for t in trajectories}
    changed = 0
    for record in records:
        if record["status"] == "done" and record["analyst"] == judge.NAME and record["sessions"][0] in by_id:
            by_id[record["sessions"][0]].outcome = judge.judged_outcome(record["notes"])
            changed += 1
    return changed


class PassRunner:
    """Builds prompts and runs passes against one client.

    Args:
        client: the LLM client (concurrency, cache, budget).
        context_tokens: the model's input context (tokens); trajectories are fitted into it after
            the instructions and the expected completion.
    """

    def __init__(self, client: LLMClient, context_tokens: int) -> None:
        self.client = client
        self.context_tokens = context_tokens
        self._renderer: ThreadPoolExecutor | None = None

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
        schema = _bound(analysis.analyst.output_schema(), analysis)
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
            views = [{**view, **_shown(r)} for view, r in zip(empty, rendered)]
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
            budget = LazyBudget(available.at_least, lambda: max(MIN_SHARE_TOKENS, available.exact()))
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
        schema = _bound(reply_schema(analysis.analyst.KINDS, max_lessons=len(failing)), analysis)
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


def analyze_with_llm(
    trajectories: list[Trajectory],
    runner: PassRunner,
    run: PassJournal,
    on_stage: StageHook | None = None,
    on_pass: PassHook | None = None,
) -> AnalysisReport:
    """Run both stages; finished passes from ``run``'s journal are reused, never repeated.

    Outcomes judged in the first stage are set on ``trajectories`` (``origin: judge``).

    Returns:
        An :class:`AnalysisReport`; ``stopped == "budget"`` when the budget refused a call (every
        pass finished before that is kept in the journal).

    Raises:
        KeyboardInterrupt: on Ctrl-C (finished passes are already in the journal).
    """

    async def main() -> AnalysisReport | None:
        try:
            return await _analyze(
                trajectories, runner, run, on_stage or (lambda *_: None), on_pass or (lambda *_: None)
            )
        except KeyboardInterrupt:
            return None  # asyncio.run raises it again; caught here, the task's exception is not left unread
        finally:
            runner.close()

    report = asyncio.run(main())
    if report is None:
        raise KeyboardInterrupt
    return report


async def _analyze(
    trajectories, runner: PassRunner, run: PassJournal, on_stage: StageHook, on_pass: PassHook
) -> AnalysisReport:
    journal = {k: v for k, v in run.read_passes().items() if v["status"] == "done"}
    report = AnalysisReport()
    # passes in progress at once: twice the calls in flight, so a rendered prompt is always
    # waiting when a call slot frees, and prompts are rendered as calls go, not all up front
    window = asyncio.Semaphore(2 * runner.client.concurrency)
    for stage in STAGES:
        passes = (
            plan_trajectory_passes(trajectories) if stage == STAGE_ANALYSE else plan_comparative_passes(trajectories)
        )
        for analysis in passes:
            template = prompt_template(analysis.analyst.TEMPLATE)
            report.templates[template.name] = template.version
        done = [journal[p.pass_id] for p in passes if p.pass_id in journal]
        todo = [p for p in passes if p.pass_id not in journal]
        report.resumed += len(done)
        on_stage(stage, len(passes), len(done))

        async def one(analysis: AnalystPass, stage: str = stage) -> dict[str, Any] | None:
            async with window:
                try:
                    record = await runner.run(analysis)
                except (BudgetExceeded, FatalLLMError):  # the run stops: left for a resumed run
                    report.not_run.append(analysis.pass_id)
                    return None
            run.append_pass(record)
            on_pass(stage, record)
            return record

        results = await asyncio.gather(*(one(p) for p in todo))
        finished = {r["pass_id"]: r for r in [*done, *(r for r in results if r is not None)]}
        report.records.extend(finished[p.pass_id] for p in passes if p.pass_id in finished)
        if stage == STAGE_ANALYSE:
            apply_judged_outcomes(trajectories, report.records)
        if runner.client.fatal is not None:
            report.stopped = "fatal"
            break
        if runner.client.budget_stopped:
            report.stopped = "budget"
            break
    report.templates[REPAIR_TEMPLATE] = prompt_template(REPAIR_TEMPLATE).version
    lessons: dict[str, Lesson] = {}
    for record in report.records:
        for data in record["lessons"]:
            lessons.setdefault(data["id"], Lesson.from_dict(data))
    report.lessons = list(lessons.values())
    return report


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


def _shortened_totals(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Across passes: trajectories shortened to fit the context, blocks cut, steps omitted, and
    the trajectories that did not fit even so (``shortened`` of each record; older journals lack it)."""
    cuts = [cut for r in records for cut in (r.get("shortened") or {}).values()]
    sessions = {session for r in records for session in (r.get("shortened") or {})}
    return {
        "trajectories": len(sessions),
        "cut_blocks": sum(c["cut_blocks"] for c in cuts),
        "omitted_steps": sum(len(c["omitted_steps"]) for c in cuts),
        "not_fitting": sorted({s for r in records for s, c in (r.get("shortened") or {}).items() if not c["fits"]}),
    }


def _bound(schema: dict[str, Any], analysis: AnalystPass) -> dict[str, Any]:
    """``schema`` with evidence limited to the pass's sessions (:func:`bind_evidence`)."""
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
