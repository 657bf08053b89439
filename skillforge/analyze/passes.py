"""Run the LLM analysts: one pass per trajectory, then one per comparable task, in parallel.

Stage ``analyse``: every trajectory gets exactly one pass, by the analyst its outcome calls for
(failure, success, or the judge when the outcome is unknown; :mod:`skillforge.analyze.analysts`).
Stage ``compare``: every task seen both succeeding and failing (outcomes judged in the first stage
count) gets one comparative pass (:mod:`skillforge.analyze.pass_plan`). Passes run concurrently on
one event loop; the :class:`~skillforge.llm.client.LLMClient` bounds how many calls are in flight.

A pass (:class:`~skillforge.analyze.pass_runner.PassRunner`) renders its prompt
(:mod:`skillforge.analyze.prompt_fit` fits the trajectories into the model's context), makes one
schema-checked call, and keeps the lessons grounded in the trajectories (repaired once, else
dropped and counted). Each finished pass is appended to the run journal (``passes.jsonl``) at once,
so a resumed run skips it; passes that failed are tried again on resume.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from skillforge.analyze import comparative, judge
from skillforge.analyze.pass_plan import (
    STAGE_ANALYSE,
    STAGES,
    AnalystPass,
    apply_judged_outcomes,
    plan_comparative_passes,
    plan_trajectory_passes,
)
from skillforge.analyze.pass_runner import REPAIR_TEMPLATE, PassRunner
from skillforge.lesson import Lesson
from skillforge.llm.errors import BudgetExceeded, FatalLLMError
from skillforge.prompts import prompt_template
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
