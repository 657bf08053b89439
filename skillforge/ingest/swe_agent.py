"""SWE-agent trajectories (``<run>/<instance>.traj``; SWE-agent/SWE-agent).

Format (``shared/docs/trace-formats.md`` §6; upstream ``sweagent/types.py``): one JSON object
``{environment, trajectory[], history[], info{exit_status, submission, model_stats}}``.
``history[]`` is the chat as the model saw it: ``role`` ``system|user|assistant|tool``, the
assistant's ``thought`` and ``action`` (the command), 1.x ``message_type`` and function-calling
``tool_calls`` (stored as ``repr()`` of a list in some files) with ``tool` results linked by
``tool_call_ids``. ``trajectory[]`` holds ``{action, observation, thought, response}`` per step.

What this module does:

* reads ``history[]`` (it carries the task statement), leaving out demonstrations (``is_demo``,
  ``message_type: demonstration``: few-shot examples, not this run); falls back to
  ``trajectory[]`` when there is no history;
* an assistant message with an ``action`` is an agent step with one tool call: the
  function-calling name when there is one, else the command's first word (``edit``, ``create``,
  ``python``…), with ``{"command": action}``; the observation that follows is its result;
* SWE-agent records no exit code: a result is an error when it holds one of SWE-agent's own error
  messages (:data:`HARNESS_MESSAGES`: "Wrong flag!", "EXECUTION TIMED OUT", the edit linter's
  "syntax error(s)", a tool's ``Usage:`` line…), else by the generic match of :mod:`.tool_errors`
  (a traceback, a line starting ``Error:``…, never a word inside an identifier);
* outcome: ``info.exit_status`` ``submitted`` says nothing about correctness (unknown; a SWE-bench
  ``report.json`` beside the file decides, see :mod:`.outcomes`); any other exit status (``exit_cost``,
  ``exit_format``, ``early_exit``…) means the run stopped without submitting: failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_str, content_text, literal
from skillforge.ingest.jsonio import load_json
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import ErrorKind, HarnessMessage, add_result, classify
from skillforge.trajectory import Agent, Outcome, SourceRef, Trajectory

NAME = "swe-agent"

HARNESS_MESSAGES = (
    HarnessMessage(
        r"^Wrong flag!",
        "harness",
        "SWE-agent 0.7 sweagent/environment/swe_env.py (EnIGMA: submit of a wrong CTF flag)",
    ),
    HarnessMessage(
        r"^EXECUTION TIMED OUT",
        "timeout",
        "SWE-agent 0.7 sweagent/environment/swe_env.py (command interrupted)",
    ),
    HarnessMessage(
        r"^The command '.*' was cancelled because it took more than \d+ seconds",
        "timeout",
        "SWE-agent 1.x sweagent/agent/agents.py (command_cancelled_timeout_template)",
    ),
    HarnessMessage(
        r"^\[?Your proposed edit has introduced new syntax error",
        "harness",
        "SWE-agent tools/edit_linting (edit rejected by the linter)",
    ),
    HarnessMessage(
        r"^Usage: \w+",
        "harness",
        "SWE-agent tools/*/bin (a tool called with wrong arguments prints its usage)",
    ),
)
"""SWE-agent's own error messages in observations, each with where it comes from (:mod:`.tool_errors`)."""


def detect(path: Path, head: bytes) -> bool:
    """True for an object with ``trajectory`` and ``history`` (or ``environment`` then ``trajectory``)."""
    shape = sniff(head)
    if shape.kind != "object" or not mentions(head, "trajectory"):
        return False
    if not shape.has("trajectory"):
        return False
    return shape.has("history") or (shape.keys[:2] == ["environment", "trajectory"])


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the one trajectory of a ``.traj`` file."""
    data = load_json(path, report)
    if data is None:
        return
    if not isinstance(data, dict):
        report.problem(path, None, "expected a JSON object; file skipped")
        return
    builder = StepBuilder()
    history = data.get("history")
    try:
        if isinstance(history, list) and history:
            _from_history(builder, history)
        elif isinstance(data.get("trajectory"), list):
            _from_trajectory(builder, data["trajectory"])
        else:
            report.problem(path, None, "neither 'history' nor 'trajectory' is a list; file skipped")
            return
    except (TypeError, ValueError, AttributeError) as exc:
        report.problem(path, None, f"trajectory skipped: {type(exc).__name__}: {exc}")
        return
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    instance = path.name[: -len(".traj")] if path.name.endswith(".traj") else path.stem
    stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
    final: dict[str, Any] = {"total_steps": len(builder.steps)}
    cost = stats.get("instance_cost")
    if isinstance(cost, (int, float)):
        final["total_cost_usd"] = float(cost)
    for ours, theirs in (("total_prompt_tokens", "tokens_sent"), ("total_completion_tokens", "tokens_received")):
        if isinstance(stats.get(theirs), int):
            final[ours] = stats[theirs]
    extra: dict[str, Any] = {"task_id": instance}
    if isinstance(info.get("exit_status"), str):
        extra["exit_status"] = info["exit_status"]
    yield Trajectory(
        session_id=f"swe-agent:{instance}",
        agent=Agent(name="swe-agent", version=as_str(info.get("swe_agent_version"))),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path)),
        outcome=exit_status_outcome(info.get("exit_status"), submitted="submitted"),
        final_metrics=final,
        extra=extra,
    )


def exit_status_outcome(status: Any, submitted: str) -> Outcome:
    """Outcome from an agent's exit status: a normal submission is ``unknown`` (only tests can
    tell whether the patch is right); any other status means the run gave up: ``failure``."""
    if not isinstance(status, str) or not status:
        return Outcome()
    if status.lower() == submitted.lower():
        return Outcome()
    if status.lower().startswith(submitted.lower()):
        # "submitted (exit_cost)": auto-submitted when a limit was hit; the patch may still be right
        return Outcome(detail=f"exit_status {status}")
    return Outcome("failure", None, "log", f"exit_status {status}")


def output_error(text: str) -> ErrorKind | None:
    """The kind of error a command's output shows (:data:`HARNESS_MESSAGES`, then the generic
    match), or None."""
    return classify(text, HARNESS_MESSAGES)


def _from_history(builder: StepBuilder, history: list[Any]) -> None:
    waiting: str | None = None  # call id of an action whose observation is the next user message
    for message in history:
        if not isinstance(message, dict):
            raise TypeError(f"a history entry is {type(message).__name__}, not an object")
        if _is_demo(message):
            continue
        role = message.get("role")
        text = content_text(message.get("content"))
        if role == "assistant":
            thought = message.get("thought") if isinstance(message.get("thought"), str) else None
            step = builder.step(
                "agent", text, reasoning_content=thought if thought and thought.strip() != text.strip() else None
            )
            calls = literal(message.get("tool_calls"))
            if isinstance(calls, list) and calls:
                for call in calls:
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict):
                        builder.call(step, call.get("id"), function.get("name"), function.get("arguments"))
                waiting = None
            elif isinstance(message.get("action"), str) and message["action"].strip():
                action = message["action"].strip()
                waiting = builder.call(step, None, _command_name(action), {"command": action}).tool_call_id
        elif role == "tool":
            ids = literal(message.get("tool_call_ids"))
            call_id = ids[0] if isinstance(ids, list) and ids else message.get("tool_call_id")
            add_result(builder, call_id, text, output_error(text))
        elif role == "user" and waiting is not None:
            add_result(builder, waiting, text, output_error(text))
            waiting = None
        elif role in ("user", "system"):
            builder.step("user" if role == "user" else "system", text)
        else:
            raise ValueError(f"unknown role {role!r}")


def _from_trajectory(builder: StepBuilder, entries: list[Any]) -> None:
    for entry in entries:
        if not isinstance(entry, dict):
            raise TypeError(f"a trajectory entry is {type(entry).__name__}, not an object")
        thought = content_text(entry.get("thought"))
        step = builder.step("agent", thought or content_text(entry.get("response")))
        action = content_text(entry.get("action")).strip()
        if action:
            call = builder.call(step, None, _command_name(action), {"command": action})
            observation = content_text(entry.get("observation"))
            add_result(builder, call.tool_call_id, observation, output_error(observation))


def _is_demo(message: dict[str, Any]) -> bool:
    flag = message.get("is_demo")
    return flag is True or str(flag).lower() == "true" or message.get("message_type") == "demonstration"


def _command_name(action: str) -> str:
    first = action.split(None, 1)[0] if action.split() else "command"
    return first.strip("'\"`")[:64] or "command"
