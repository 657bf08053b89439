"""OpenHands event streams: exported trajectories, evaluation ``output.jsonl`` and resolver output.

Formats (``shared/docs/trace-formats.md`` §8; upstream ``openhands/events/serialization``):

* **exported trajectory** (UI "download trajectory", ``save_trajectory_path``): a JSON array of
  events. An action event has ``action`` (``message``, ``run``, ``edit``, ``read``, ``finish``…),
  ``args`` and usually ``tool_call_metadata{function_name, tool_call_id, model_response}``; an
  observation event has ``observation``, ``content``, ``extras`` and ``cause`` (the id of its action);
* **evaluation rows** (``evaluation/benchmarks/*/output.jsonl``): one JSON object per line,
  ``{instance_id, instruction, metadata, history[events], metrics, error, test_result}``;
* **resolver output** (``openhands-resolver``): rows ``{issue{owner, repo, number}, history,
  success, result_explanation, error}``, events without ``id``/``cause``.

What this module does: user/agent ``message`` actions become user/agent steps, ``system`` the
system step; every other action is a tool call (``tool_call_metadata.function_name`` or the
action name, its ``args`` minus ``thought``, which becomes ``reasoning_content``); actions from
one model response share a step. Observations attach to their action by ``tool_call_id``, then
``cause``, then order; ``error`` observations, run observations with a positive
``extras.metadata.exit_code`` and ``user_rejected`` ones are errors. ``recall`` actions and
``agent_state_changed``/``null`` observations are bookkeeping and skipped (a final agent state
``error`` is kept as ``extra.agent_state``).

Outcome: an evaluation row with ``error`` set failed (origin ``log``); otherwise unknown (its tests
are judged elsewhere; a SWE-bench ``report.json`` beside it is read, see :mod:`.outcomes`). A
resolver row's ``success`` was judged by an LLM: origin ``judge``. An exported trajectory whose
agent ended in state ``error`` failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_float, as_str, content_text
from skillforge.ingest.jsonio import iter_json_items, iter_jsonl
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.trajectory import Agent, Outcome, SourceRef, Step, Trajectory

NAME = "openhands"

_SKIPPED_ACTIONS = ("recall", "change_agent_state", "null")
_SKIPPED_OBSERVATIONS = ("agent_state_changed", "null", "recall")


def detect(path: Path, head: bytes) -> bool:
    """True for an array of events (``id``, ``source``, ``action``/``observation``), or JSONL rows
    with ``history`` and ``instance_id`` (evaluation) or ``issue`` (resolver)."""
    if not mentions(head, "source", "history"):
        return False
    shape = sniff(head)
    if shape.kind == "array":
        keys = shape.item_keys()
        return {"source"} <= keys and bool(keys & {"action", "observation"})
    if shape.kind in ("jsonl", "object"):
        return "history" in shape.keys and ("instance_id" in shape.keys or "issue" in shape.keys)
    return False


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per exported event array, or per evaluation/resolver row."""
    with open(path, "rb") as handle:
        first = handle.read(1024).lstrip()[:1]
    if first == b"[":
        events = [event for _, event in iter_json_items(path, report)]
        if events:
            yield _trajectory(path, None, f"openhands:{path.stem}", events, report, {})
        return
    for number, row in iter_jsonl(path, report):
        history = row.get("history")
        if not isinstance(history, list):
            report.problem(path, number, "row without a 'history' list skipped")
            continue
        yield _row(path, number, row, history, report)


def _row(path: Path, number: int, row: dict[str, Any], history: list[Any], report: IngestReport) -> Trajectory:
    extra: dict[str, Any] = {}
    metadata = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    issue = row.get("issue") if isinstance(row.get("issue"), dict) else None
    if isinstance(row.get("instance_id"), str):
        session_id = f"openhands:{row['instance_id']}"
        extra["task_id"] = row["instance_id"]
    elif issue is not None:
        session_id = f"openhands-resolver:{issue.get('owner')}/{issue.get('repo')}#{issue.get('number')}"
        extra["task_id"] = session_id.split(":", 1)[1]
    else:
        session_id = f"openhands:{path.stem}:{number}"
    trajectory = _trajectory(path, number, session_id, history, report, extra)
    llm = metadata.get("llm_config") if isinstance(metadata.get("llm_config"), dict) else {}
    trajectory.agent = Agent(name="openhands", version=as_str(metadata.get("agent_class")), model_name=as_str(llm.get("model")))
    metrics = row.get("metrics") if isinstance(row.get("metrics"), dict) else {}
    cost = as_float(metrics.get("accumulated_cost"))
    if cost is not None:
        trajectory.final_metrics = {**(trajectory.final_metrics or {}), "total_cost_usd": cost}
    error = as_str(row.get("error"))
    if error:
        trajectory.outcome = Outcome("failure", None, "log", f"error: {error[:200]}")
    elif isinstance(row.get("success"), bool):
        explanation = as_str(row.get("result_explanation")) or ""
        trajectory.outcome = Outcome("success" if row["success"] else "failure", None, "judge", f"resolver success={row['success']} {explanation[:160]}".strip())
    return trajectory


def _trajectory(path: Path, line: int | None, session_id: str, events: list[Any], report: IngestReport, extra: dict[str, Any]) -> Trajectory:
    builder = StepBuilder()
    state = _State(builder)
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            report.problem(path, line if line is not None else index, f"event {index} is not an object; skipped")
            continue
        try:
            state.event(event)
        except (TypeError, ValueError, AttributeError) as exc:
            report.problem(path, line if line is not None else index, f"event {index} skipped: {type(exc).__name__}: {exc}")
    outcome = Outcome()
    if state.agent_state:
        extra["agent_state"] = state.agent_state
        if state.agent_state == "error":
            outcome = Outcome("failure", None, "log", "agent ended in state error")
    return Trajectory(
        session_id=session_id,
        agent=Agent(name="openhands", model_name=state.model),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path), line=line),
        outcome=outcome,
        final_metrics={"total_steps": len(builder.steps)},
        extra=extra,
    )


class _State:
    """Folds events into steps: which step holds which action, and the last model response."""

    def __init__(self, builder: StepBuilder) -> None:
        self.builder = builder
        self.by_event: dict[Any, str] = {}  # action event id -> tool call id
        self.response_step: tuple[Any, Step] | None = None
        self.agent_state: str | None = None
        self.model: str | None = None

    def event(self, event: dict[str, Any]) -> None:
        if "action" in event:
            self.action(event)
        elif "observation" in event:
            self.observation(event)

    def action(self, event: dict[str, Any]) -> None:
        action = event.get("action")
        args = event.get("args") if isinstance(event.get("args"), dict) else {}
        source = event.get("source")
        stamp = as_str(event.get("timestamp"))
        if action in _SKIPPED_ACTIONS:
            return
        if action == "message":
            text = content_text(args.get("content")) or content_text(event.get("message"))
            self.response_step = None
            self.builder.step("user" if source == "user" else "agent", text, timestamp=stamp)
            return
        if action == "system":
            self.builder.step("system", content_text(args.get("content")) or content_text(event.get("message")), timestamp=stamp)
            return
        metadata = event.get("tool_call_metadata") if isinstance(event.get("tool_call_metadata"), dict) else {}
        response = metadata.get("model_response") if isinstance(metadata.get("model_response"), dict) else {}
        self.model = self.model or as_str(response.get("model"))
        response_id = response.get("id")
        thought = args.get("thought") if isinstance(args.get("thought"), str) else ""
        if action == "finish":
            final = content_text(args.get("final_thought")) or content_text(event.get("message"))
            step = self.builder.step("agent", final, timestamp=stamp, extra={"finish": True})
            self.response_step = None
            return
        if self.response_step is not None and response_id is not None and self.response_step[0] == response_id:
            step = self.response_step[1]
        else:
            step = self.builder.step("agent", timestamp=stamp)
            self.response_step = (response_id, step) if response_id is not None else None
        if thought.strip():
            step.reasoning_content = f"{step.reasoning_content}\n\n{thought}" if step.reasoning_content else thought
        arguments = {k: v for k, v in args.items() if k != "thought"}
        name = as_str(metadata.get("function_name")) or str(action)
        call = self.builder.call(step, metadata.get("tool_call_id") or (f"event-{event['id']}" if "id" in event else None), name, arguments)
        if "id" in event:
            self.by_event[event["id"]] = call.tool_call_id

    def observation(self, event: dict[str, Any]) -> None:
        kind = event.get("observation")
        extras = event.get("extras") if isinstance(event.get("extras"), dict) else {}
        if kind == "agent_state_changed":
            self.agent_state = as_str(extras.get("agent_state")) or self.agent_state
            return
        if kind in _SKIPPED_OBSERVATIONS:
            return
        if kind == "condensation":
            self.builder.step("system", "[context condensed]", extra={"condensation": True})
            return
        metadata = event.get("tool_call_metadata") if isinstance(event.get("tool_call_metadata"), dict) else {}
        call_id = metadata.get("tool_call_id") or self.by_event.get(event.get("cause"))
        content = content_text(event.get("content")) or content_text(event.get("message"))
        run_meta = extras.get("metadata") if isinstance(extras.get("metadata"), dict) else {}
        exit_code = run_meta.get("exit_code")
        is_error = kind in ("error", "user_rejected") or (isinstance(exit_code, int) and exit_code > 0) or event.get("success") is False
        self.builder.result(call_id, content, is_error)
        if kind == "user_rejected":
            step = self.builder.last("agent")
            if step is not None:
                step.extra.setdefault("rejected_call_ids", []).append(call_id)
