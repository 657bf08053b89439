"""Progress bars for the pipeline: one bar per stage, each showing what its LLM calls did so far.

Every stage (reading logs, the analysts, propose, each merge level, apply, validate) gets one rich
progress task through :class:`StageBars`. A task carries a ``stats`` field, shown by the CLI as a
column: calls made, answered from the cache (or reused from the run folder), failed, tokens and USD
spent since the stage began, read from the run's :class:`~skillforge.llm.client.LLMClient` totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.progress import Progress, TaskID

from skillforge.llm.errors import shorten

LAST_FAILURE_CHARS = 60
"""How much of the last failure's reason a progress line shows."""


@contextmanager
def display_paused(progress: Progress) -> Iterator[None]:
    """Stop ``progress``'s live display (and its refresh thread) for the block, then restart it.

    For forking worker processes: a child forked while the refresh thread holds the terminal's
    write lock would wait for it forever at its first write. Outside a terminal, rich prints a
    line when the display stops.
    """
    live = progress.live.is_started
    if live:
        progress.stop()
    try:
        yield
    finally:
        if live:
            progress.start()


@dataclass
class Bar:
    """One stage's progress task.

    Attributes:
        bars: the owner; task: the rich task id.
        start: the client's totals when the stage began (``UsageTotals.to_dict()``), or {} without a client.
        reused: steps of this stage reused from the run folder (no call, no cost).
    """

    bars: StageBars
    task: TaskID
    start: dict = field(default_factory=dict)
    reused: int = 0

    def advance(self, steps: int = 1, *, reused: bool = False) -> None:
        """Count ``steps`` finished steps (``reused``: taken from the run folder) and refresh the stats."""
        self.reused += steps if reused else 0
        self.bars.progress.update(self.task, advance=steps, stats=self.stats())
        if self.bars.on_advance is not None:
            self.bars.on_advance()

    def finish(self, total: int | None = None) -> None:
        """Mark the stage complete (with ``total`` steps when given)."""
        task = next(t for t in self.bars.progress.tasks if t.id == self.task)
        done = total if total is not None else (task.total if task.total is not None else task.completed)
        self.bars.progress.update(self.task, total=done, completed=done, stats=self.stats())

    def stats(self) -> str:
        """``calls N · cached N · failed N · T tokens · $X`` for this stage ('' without a client), and
        ``· last failure: <reason>`` (shortened) once a call of the stage failed."""
        client = self.bars.client
        if client is None:
            return ""
        now = client.totals.to_dict()
        delta = {key: now[key] - self.start.get(key, 0) for key in ("calls", "cached", "failed_calls", "prompt_tokens", "completion_tokens", "cost_usd")}
        tokens = delta["prompt_tokens"] + delta["completion_tokens"]
        line = (
            f"calls {delta['calls']} · cached {delta['cached'] + self.reused} · failed {delta['failed_calls']} · "
            f"{tokens:,} tokens · ${delta['cost_usd']:.4f}"
        )
        if delta["failed_calls"] and client.last_error:
            line += f" · last failure: {shorten(client.last_error, LAST_FAILURE_CHARS)}"
        return line


class StageBars:
    """Makes one :class:`Bar` per stage on a rich ``Progress``.

    Args:
        progress: the rich Progress (``Progress(disable=True)`` for silence).
        client: the run's LLM client, or None (offline: no stats).
        on_advance: called after every finished step (the pipeline saves the run manifest there,
            so a killed run's manifest counts every finished call).
    """

    def __init__(self, progress: Progress, client=None, on_advance=None) -> None:
        self.progress = progress
        self.client = client
        self.on_advance = on_advance

    def stage(self, description: str, total: int | None = None, completed: int = 0) -> Bar:
        """Start a stage's bar (``total`` None: unknown yet)."""
        start = self.client.totals.to_dict() if self.client is not None else {}
        task = self.progress.add_task(description, total=total, completed=completed, stats="")
        bar = Bar(self, task, start)
        self.progress.update(task, stats=bar.stats())
        return bar
