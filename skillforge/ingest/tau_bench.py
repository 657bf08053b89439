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

from skillforge.ingest.base import IngestReport, content_text, load_json, parse_arguments
from skillforge.trajectory import (
    Agent,
    Observation,
    ObservationResult,
    Outcome,
    SourceRef,
    Step,
    ToolCall,
    Trajectory,
)

NAME = "tau-bench"

_ROLE_SOURCE = {"system": "system", "user": "user", "assistant": "agent"}


def detect(path: Path, head: bytes) -> bool:
    """True for a JSON array whose first object has ``task_id``, ``reward`` and ``traj``."""
    stripped = head.lstrip()
    return stripped.startswith(b"[") and b'"task_id"' in head and b'"traj"' in head and b'"reward"' in head


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per run of a tau-bench results array; bad runs are reported by index."""
    data = load_json(path, report)
    if data is None:
        return
    if not isinstance(data, list):
        report.problem(path, None, "expected a JSON array of tau-bench runs; file skipped")
        return
    for index, run in enumerate(data):
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
    steps: list[Step] = []
    call_step: dict[str, Step] = {}
    for message in messages:
        if not isinstance(message, dict):
            raise TypeError("a message in 'traj' is not an object")
        role = message.get("role")
        if role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            text = content_text(message.get("content"))
            step = call_step.get(call_id)
            if step is None:
                step = Step(step_id=len(steps) + 1, source="agent", extra={"orphan_result": True})
                steps.append(step)
            if step.observation is None:
                step.observation = Observation()
            step.observation.results.append(ObservationResult(call_id or None, text, text.startswith("Error")))
            continue
        if role not in _ROLE_SOURCE:
            raise ValueError(f"unknown message role {role!r}")
        step = Step(step_id=len(steps) + 1, source=_ROLE_SOURCE[role], message=content_text(message.get("content")))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            call_id = str(call.get("id") or f"call-{len(steps)}-{len(step.tool_calls)}")
            step.tool_calls.append(ToolCall(call_id, str(function.get("name", "?")), parse_arguments(function.get("arguments"))))
            call_step[call_id] = step
        steps.append(step)
    reward = run.get("reward")
    reward = float(reward) if isinstance(reward, (int, float)) else None
    if reward is None:
        outcome = Outcome()
    else:
        outcome = Outcome("success" if reward >= 1.0 else "failure", reward, "log", f"reward {reward}")
    task_id = run.get("task_id")
    trial = run.get("trial")
    info = run.get("info") if isinstance(run.get("info"), dict) else {}
    task = info.get("task") if isinstance(info.get("task"), dict) else {}
    extra: dict[str, Any] = {"task_id": f"{path.stem}:{task_id}", "trial": trial}
    if task.get("instruction"):
        extra["task_instruction"] = task["instruction"]
    session_id = f"tau-bench:{path.stem}:task{task_id}:trial{trial if trial is not None else index}"
    return Trajectory(
        session_id=session_id,
        agent=Agent(name="tau-bench-agent", model_name=_model_from_name(path.stem)),
        steps=steps,
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
