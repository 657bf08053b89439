"""OpenHands event streams: exported trajectories, evaluation ``output.jsonl`` and resolver output.

Formats (``shared/docs/trace-formats.md`` §8; upstream ``openhands/events/serialization``):

* **exported trajectory** (UI "download trajectory", ``save_trajectory_path``): a JSON array of
  events. An action event has ``action`` (``message``, ``run``, ``edit``, ``read``, ``finish``…),
  ``args`` and usually ``tool_call_metadata{function_name, tool_call_id, model_response}``; an
  observation event has ``observation``, ``content``, ``extras`` and ``cause`` (the id of its action);
* **evaluation rows** (``evaluation/benchmarks/*/output.jsonl``): one JSON object per line,
  ``{instance_id, instruction, metadata, history[events], metrics, error, test_result}``;
* **resolver output** (``openhands-resolver``): rows ``{issue{owner, repo, number}, history,
  success, result_explanation | success_explanation, error}``, events without ``id``/``cause``;
  the older resolver wrote a **flat history**: events without ``source`` and ``args``, the
  arguments (``command``, ``code``…), ``thought`` and an observation's ``exit_code`` at the top
  level of the event. Such an event's arguments are its keys other than the event fields
  (:data:`_EVENT_FIELDS`); its first ``message`` is the task the user gave.

What this module does: user/agent ``message`` actions become user/agent steps, ``system`` the
system step; every other action is a tool call (``tool_call_metadata.function_name`` or the
action name, its ``args`` minus ``thought``, which becomes ``reasoning_content``); actions from
one model response share a step. Observations attach to their action by ``tool_call_id``, then
``cause``, then order; an observation is an error when it is an ``error`` observation, a
``user_rejected`` one, a run with a positive exit code (``extras.metadata.exit_code``, or
``exit_code`` in the flat history), ``success: false``, or holds one of OpenHands' own error
messages (:data:`HARNESS_MESSAGES`). ``recall`` actions and
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
from skillforge.ingest.tool_errors import ErrorKind, HarnessMessage, add_result, classify
from skillforge.trajectory import Agent, Outcome, SourceRef, Step, Trajectory

NAME = "openhands"

_SKIPPED_ACTIONS = ("recall", "change_agent_state", "null")
_EVENT_FIELDS = (
    "id",
    "timestamp",
    "source",
    "action",
    "message",
    "cause",
    "tool_call_metadata",
    "llm_metrics",
    "args",
    "timeout",
    "observation",
    "extras",
)
"""Keys of an event that are not the action's arguments (``openhands/events/serialization/event.py``)."""

HARNESS_MESSAGES = (
    HarnessMessage(
        r"^\[Your proposed edit has introduced new syntax error",
        "harness",
        "All-Hands-AI/OpenHands openhands/runtime/plugins/agent_skills file_ops (LINTER_ERROR_MSG)",
    ),
    HarnessMessage(
        r"^(?:ERROR:\s*)?Invalid `\w+` parameter",
        "harness",
        "openhands-aci str_replace_editor (EditorToolParameterInvalidError), All-Hands-AI/openhands-aci",
    ),
    HarnessMessage(r"^ERROR:\n", "harness", "OpenHands str_replace_editor error observations ('ERROR:' + message)"),
)
"""OpenHands' own error messages in observations, each with where it comes from (:mod:`.tool_errors`)."""
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
    if shape.kind in ("jsonl", "object"):  # "source" alone (Inspect logs say it) cannot make a history key
        return mentions(head, "history") and shape.has("history") and (shape.has("instance_id") or shape.has("issue"))
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
    trajectory.agent = Agent(
        name="openhands", version=as_str(metadata.get("agent_class")), model_name=as_str(llm.get("model"))
    )
    metrics = row.get("metrics") if isinstance(row.get("metrics"), dict) else {}
    cost = as_float(metrics.get("accumulated_cost"))
    if cost is not None:
        trajectory.final_metrics = {**(trajectory.final_metrics or {}), "total_cost_usd": cost}
    error = as_str(row.get("error"))
    if error:
        trajectory.outcome = Outcome("failure", None, "log", f"error: {error[:200]}")
    elif isinstance(row.get("success"), bool):
        explanation = as_str(row.get("result_explanation")) or as_str(row.get("success_explanation")) or ""
        trajectory.outcome = Outcome(
            "success" if row["success"] else "failure",
            None,
            "judge",
            f"resolver success={row['success']} {explanation[:160]}".strip(),
        )
    return trajectory


def _trajectory(
    path: Path, line: int | None, session_id: str, events: list[Any], report: IngestReport, extra: dict[str, Any]
) -> Trajectory:
    builder = StepBuilder()
    state = _State(builder)
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            report.problem(path, line if line is not None else index, f"event {index} is not an object; skipped")
            continue
        try:
            state.event(event)
        except (TypeError, ValueError, AttributeError) as exc:
            report.problem(
                path, line if line is not None else index, f"event {index} skipped: {type(exc).__name__}: {exc}"
            )
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
        self.messages = 0  # message actions seen (the flat history's first one is the task)
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
        flat = not isinstance(event.get("args"), dict)
        args = {k: v for k, v in event.items() if k not in _EVENT_FIELDS} if flat else event["args"]
        source = event.get("source")
        stamp = as_str(event.get("timestamp"))
        if action in _SKIPPED_ACTIONS:
            return
        if action == "message":
            text = content_text(args.get("content")) or content_text(event.get("message"))
            self.response_step = None
            self.messages += 1
            if source is None and flat:
                source = "user" if self.messages == 1 else "agent"  # the flat history opens with the task
            self.builder.step("user" if source == "user" else "agent", text, timestamp=stamp)
            return
        if action == "system":
            self.builder.step(
                "system", content_text(args.get("content")) or content_text(event.get("message")), timestamp=stamp
            )
            return
        metadata = event.get("tool_call_metadata") if isinstance(event.get("tool_call_metadata"), dict) else {}
        response = metadata.get("model_response") if isinstance(metadata.get("model_response"), dict) else {}
        self.model = self.model or as_str(response.get("model"))
        response_id = response.get("id")
        thought = args.get("thought") if isinstance(args.get("thought"), str) else ""
        if action == "finish":
            thought = str(thought)
            final = content_text(args.get("final_thought")) or content_text(event.get("message"))
            step = self.builder.step("agent", final or thought, timestamp=stamp, extra={"finish": True})
            if final and thought.strip() and thought.strip() != final.strip():
                step.reasoning_content = thought  # the agent's last thought (the flat history's only text)
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
        call = self.builder.call(
            step, metadata.get("tool_call_id") or (f"event-{event['id']}" if "id" in event else None), name, arguments
        )
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
        exit_code = run_meta.get("exit_code", extras.get("exit_code", event.get("exit_code")))
        error: ErrorKind | None
        if kind == "error":
            error = "flag"
        elif kind == "user_rejected":
            error = "rejected"
        elif isinstance(exit_code, int) and not isinstance(exit_code, bool) and exit_code > 0:
            error = "exit_code"
        elif event.get("success") is False:
            error = "status"
        else:
            error = classify(content, HARNESS_MESSAGES, generic=kind != "run")
        add_result(self.builder, call_id, content, error)
        if kind == "user_rejected":
            step = self.builder.last("agent")
            if step is not None:
                step.extra.setdefault("rejected_call_ids", []).append(call_id)
