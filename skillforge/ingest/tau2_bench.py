"""tau2-bench simulation results (sierra-research/tau2-bench ``data/simulations/*.json``).

Format (``shared/docs/trace-formats.md`` §5; upstream ``src/tau2/data_model/simulation.py``):
one JSON object ``{timestamp, info, tasks[], simulations[]}``. Each simulation has ``id``,
``task_id``, ``trial``, ``termination_reason``, ``reward_info{reward, …}`` and ``messages[]``:
``{role: assistant|user|tool, content, tool_calls[{id, name, arguments: dict, requestor}],
turn_idx, timestamp, cost, usage}``; tool messages ``{id, role: "tool", content, requestor,
error: bool}``.

One trajectory per simulation; outcome from ``reward_info.reward`` (1.0 success, else failure;
origin ``log``, or ``judge`` when ``reward_info.reward_basis`` includes ``NL_ASSERTION``: those
assertions are graded by an LLM, ``src/tau2/evaluator/evaluator_nl_assertions.py``). In the
telecom domain the *user simulator* calls tools too (``requestor:
"user"``): those calls stay on the user's step and are listed in ``extra.user_call_ids``, so
"tool call ⇒ agent action" is never assumed. Large files are streamed simulation by simulation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_dict
from skillforge.ingest.jsonio import iter_json_items
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder, add_chat_messages
from skillforge.trajectory import Agent, Outcome, OutcomeOrigin, OutcomeStatus, SourceRef, Trajectory

NAME = "tau2-bench"


def detect(path: Path, head: bytes) -> bool:
    """True for a JSON object with ``simulations`` (and ``tasks`` or ``info``) among its top-level
    keys, wherever they sit (``tasks`` may run to hundreds of KB before ``simulations``)."""
    shape = sniff(head)
    if shape.kind != "object" or not mentions(head, "simulations"):
        return False
    return shape.has("simulations") and (shape.has("tasks") or shape.has("info"))


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per simulation; a bad simulation is reported by its index and skipped."""
    for index, simulation in iter_json_items(path, report, "simulations.item"):
        try:
            yield _simulation(path, index, simulation)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            report.problem(path, index, f"simulation skipped: {type(exc).__name__}: {exc}")


def _simulation(path: Path, index: int, simulation: Any) -> Trajectory:
    if not isinstance(simulation, dict):
        raise TypeError(f"expected an object, got {type(simulation).__name__}")
    messages = simulation.get("messages")
    if not isinstance(messages, list):
        raise TypeError("'messages' is not a list")
    builder = StepBuilder()
    add_chat_messages(builder, messages)
    reward_info = as_dict(simulation.get("reward_info"))
    reward = reward_info.get("reward")
    if isinstance(reward, (int, float)) and not isinstance(reward, bool):
        basis = reward_info.get("reward_basis")
        origin: OutcomeOrigin = "judge" if isinstance(basis, list) and "NL_ASSERTION" in basis else "log"
        status: OutcomeStatus = "success" if reward >= 1.0 else "failure"
        outcome = Outcome(status, float(reward), origin, f"reward_info.reward {reward}")
    else:
        outcome = Outcome()
    task_id = simulation.get("task_id")
    trial = simulation.get("trial")
    extra: dict[str, Any] = {"task_id": f"{path.stem}:{task_id}", "trial": trial}
    if isinstance(simulation.get("termination_reason"), str):
        extra["termination_reason"] = simulation["termination_reason"]
    final: dict[str, Any] = {"total_steps": len(builder.steps)}
    if isinstance(simulation.get("agent_cost"), (int, float)):
        final["total_cost_usd"] = float(simulation["agent_cost"])
    return Trajectory(
        session_id=f"tau2-bench:{simulation.get('id') or f'{path.stem}:{index}'}",
        agent=Agent(name="tau2-bench-agent"),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path), line=index),
        outcome=outcome,
        final_metrics=final,
        extra=extra,
    )
