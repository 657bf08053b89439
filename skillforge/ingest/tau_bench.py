"""tau-bench results (sierra-research/tau-bench ``historical_trajectories/*.json`` and the
``results/*.json`` files ``run.py`` writes).

Format (``shared/docs/trace-formats.md`` §4; upstream ``tau_bench/run.py`` and
``tau_bench/types.py``): one JSON array of runs ``{task_id, trial, reward, info, traj}`` where
``traj`` is an OpenAI Chat Completions message list (``system``, ``user`` = simulated customer,
``assistant`` with ``tool_calls[{id, function{name, arguments: JSON string}}]``, ``tool`` with
``tool_call_id`` and ``content``).

One trajectory per run; outcome from ``reward`` (1.0 success, otherwise failure, origin
``log``). Tool errors are result strings starting ``Error:`` (tau-bench's tools return them
instead of raising). ``extra.task_id`` groups the trials of one task for comparative analysis.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.jsonio import iter_json_items
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import sniff, streamed
from skillforge.ingest.steps import StepBuilder, add_chat_messages
from skillforge.trajectory import Agent, Outcome, SourceRef, Trajectory

NAME = "tau-bench"


def detect(path: Path, head: bytes) -> bool:
    """True for a JSON array whose first object has ``task_id``, ``reward`` and ``traj``: told by
    the head's bytes (cheap, for multi-MB files), or, when the first run is longer than the head,
    by the first items' keys read from the file."""
    if streamed(head):
        shape = sniff(head)
        return shape.kind == "array" and {"task_id", "traj", "reward"} <= shape.item_keys()
    stripped = head.lstrip()
    return stripped.startswith(b"[") and b'"task_id"' in head and b'"traj"' in head and b'"reward"' in head


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per run of a tau-bench results array; bad runs are reported by index.

    Large files are streamed run by run (:func:`~skillforge.ingest.jsonio.iter_json_items`).
    """
    for index, run in iter_json_items(path, report):
        try:
            trajectory = _run_to_trajectory(path, index, run)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            report.problem(path, index, f"run skipped: {type(exc).__name__}: {exc}")
            continue
        yield trajectory


def _run_to_trajectory(path: Path, index: int, run: Any) -> Trajectory:
    if not isinstance(run, dict):
        raise TypeError(f"expected an object, got {type(run).__name__}")
    messages = run.get("traj")
    if not isinstance(messages, list):
        raise TypeError("'traj' is not a list of messages")
    builder = StepBuilder()
    add_chat_messages(builder, messages, error_of=lambda message, text: text.startswith("Error"))
    reward = run.get("reward")
    reward = float(reward) if isinstance(reward, (int, float)) and not isinstance(reward, bool) else None
    if reward is None:
        outcome = Outcome()
    else:
        outcome = Outcome("success" if reward >= 1.0 else "failure", reward, "log", f"reward {reward}")
    task_id = run.get("task_id")
    trial = run.get("trial")
    info = run.get("info") if isinstance(run.get("info"), dict) else {}
    task = info.get("task") if isinstance(info.get("task"), dict) else {}
    extra: dict[str, Any] = {"task_id": f"{path.stem}:{task_id}", "trial": trial}
    if isinstance(task.get("instruction"), str):
        extra["task_instruction"] = task["instruction"]
    session_id = f"tau-bench:{path.stem}:task{task_id}:trial{trial if trial is not None else index}"
    return Trajectory(
        session_id=session_id,
        agent=Agent(name="tau-bench-agent", model_name=_model_from_name(path.stem)),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path), line=index),
        outcome=outcome,
        extra=extra,
    )


def _model_from_name(stem: str) -> str | None:
    # historical_trajectories files are named <model>-<domain>.json (e.g. gpt-4o-airline)
    for domain in ("-airline", "-retail"):
        if stem.endswith(domain):
            return stem[: -len(domain)]
    return None
