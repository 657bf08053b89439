"""The dry run's analysis estimate: every analyst prompt rendered and counted, beside ingest
(used by :func:`skillforge.distill.estimate.estimate`).

Counting a gigabyte of prompts is the dry run's main cost, so it runs beside ingest: each
trajectory's pass is handed to a pool of worker processes as soon as ingest has read it, and the
prompts are rendered and counted there while the main process goes on reading. Processes, not
threads: litellm's token counter encodes a text 1,024 characters at a time, and each of those
short calls takes the GIL back, so a counting thread barely runs beside a thread that reads logs.
The workers are forked (Linux) so that they inherit litellm as configured (a model registered at
run time, the response cache's place); where forking is not the default start method, threads
count instead (same results, less overlap).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor

from skillforge.analyze.pass_plan import (
    STAGE_ANALYSE,
    STAGE_COMPARE,
    AnalystPass,
    plan_comparative_passes,
    plan_trajectory_passes,
)
from skillforge.analyze.pass_runner import PassRunner
from skillforge.distill.runfolder import RunFolder
from skillforge.llm.tokens import CallEstimate, StageEstimate
from skillforge.processes import FORKS, usable_cpus, worker_pool
from skillforge.trajectory import Trajectory

MAX_WORKERS = 4
"""Workers by default: the usable CPUs, at most this many."""


BATCH_STEPS = 4096
"""Steps handed to a worker at once: the cost of a hand-over is per batch, a batch's work per step."""


_worker_runner: PassRunner | None = None
"""The runner of a worker process (set by :func:`_start_worker`)."""


class AnalysisEstimate:
    """Per-stage estimate (calls, tokens, USD) of :func:`skillforge.analyze.passes.analyze_with_llm`,
    calling nothing.

    Trajectories are handed in one by one with :meth:`add` as ingest reads them; each one's analyst
    prompt is rendered and counted by a worker meanwhile; the comparative stage, which needs every
    run of a task, is estimated in :meth:`finish`. Prompts cut to fit the context are counted as
    the sum of their parts (:meth:`PassRunner.prompt` with ``exact=False``: within a few tokens of
    the whole count). Cached calls and passes already in ``run``'s journal cost nothing. The
    comparative stage counts only tasks whose outcomes are known now (judged outcomes come from
    calls not made); grounding repairs are not foreseen.

    The workers are forked when the object is made: no other thread may run then (see
    :func:`skillforge.distill.progress.display_paused`). Use as a context manager (the workers stop on exit)::

        with AnalysisEstimate(runner, run) as estimate:
            for trajectory in trajectories:
                estimate.add(trajectory)
            stages = estimate.finish(trajectories)

    Args:
        runner: renders and counts the prompts and prices them (``runner.client.estimate``); each
            worker process has a copy.
        run: a resumed run folder, whose finished passes are counted as cached.
        workers: how many workers; default one per usable processor, at most :data:`MAX_WORKERS`.
        processes: forked worker processes (the default on Linux) or threads (elsewhere).
    """

    def __init__(
        self,
        runner: PassRunner,
        run: RunFolder | None = None,
        workers: int | None = None,
        processes: bool | None = None,
    ) -> None:
        self.runner = runner
        self.journal = {k for k, v in (run.read_passes() if run else {}).items() if v["status"] == "done"}
        count = workers or usable_cpus(MAX_WORKERS)
        self.pool: Executor
        if processes if processes is not None else FORKS:
            runner.count("load the tokenizer once, before the workers are forked")
            self.pool = worker_pool(count, _start_worker, (runner,))
            self.pool.submit(os.getpid).result()  # a forking pool starts all its workers at the first task: now
        else:
            self.pool = ThreadPoolExecutor(
                count, thread_name_prefix="skillforge-estimate", initializer=_start_worker, initargs=(runner,)
            )
        self.analyse = StageEstimate(STAGE_ANALYSE)
        self.pending: list[tuple[int, Future[list[CallEstimate]]]] = []
        self._batch: list[AnalystPass] = []
        self._batch_steps = 0

    def __enter__(self) -> AnalysisEstimate:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    @property
    def passes(self) -> int:
        """Analyse-stage passes handed to the workers so far (cached ones not included)."""
        return sum(size for size, _ in self.pending) + len(self._batch)

    def add(self, trajectory: Trajectory) -> None:
        """Plan ``trajectory``'s analyst pass and have it counted (non-blocking)."""
        for analysis in plan_trajectory_passes([trajectory]):
            if analysis.pass_id in self.journal:
                self.analyse.cached += 1
                continue
            self._batch.append(analysis)
            self._batch_steps += len(trajectory.steps) + 1
            if self._batch_steps >= BATCH_STEPS:
                self._hand_over()

    def finish(self, trajectories: list[Trajectory], on_pass: Callable[[], None] | None = None) -> list[StageEstimate]:
        """Wait for the added trajectories' estimates and estimate the comparative stage over
        ``trajectories`` (all of them, as added); returns ``[analyse, compare]``.

        Args:
            trajectories: every trajectory added.
            on_pass: called after each analyse-stage pass counted (a progress bar).

        Raises:
            Exception: whatever rendering or counting a prompt raised in a worker.
        """
        self._hand_over()
        for _, future in self.pending:
            for call in future.result():
                self.analyse.add(call)
                if on_pass is not None:
                    on_pass()
        self.pending.clear()
        compare = StageEstimate(STAGE_COMPARE)
        passes = plan_comparative_passes(trajectories)
        compare.cached += sum(1 for analysis in passes if analysis.pass_id in self.journal)
        for calls in self.pool.map(
            _estimate_batch, [[analysis] for analysis in passes if analysis.pass_id not in self.journal]
        ):
            for call in calls:
                compare.add(call)
        if any(t.outcome.status == "unknown" for t in trajectories):
            compare.note = "tasks whose outcome the judge will decide are not counted"
        return [self.analyse, compare]

    def _hand_over(self) -> None:
        if self._batch:
            self.pending.append((len(self._batch), self.pool.submit(_estimate_batch, self._batch)))
            self._batch, self._batch_steps = [], 0


def _start_worker(runner: PassRunner) -> None:
    """A worker's set-up: its runner; in a forked process, the collector back on (ingest pauses
    it) with what the parent had frozen out of its sight."""
    global _worker_runner
    _worker_runner = runner
    if multiprocessing.parent_process() is not None:
        gc.freeze()
        gc.enable()


def _estimate_batch(passes: list[AnalystPass]) -> list[CallEstimate]:
    """Render and count each pass's prompt with the worker's runner; estimates in order."""
    runner = _worker_runner
    assert runner is not None, "worker not started"
    estimates = []
    for analysis in passes:
        prompt = runner.prompt(analysis, exact=False)
        estimates.append(
            runner.client.estimate(prompt.messages, prompt.schema, prompt.template.hash, prompt_tokens=prompt.tokens)
        )
    return estimates
