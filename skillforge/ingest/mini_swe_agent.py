"""mini-swe-agent trajectories (``<out>/<instance>/<instance>.traj.json``; SWE-agent/mini-swe-agent).

Format (``shared/docs/trace-formats.md`` §7; upstream ``minisweagent/run/utils/save.py``): one JSON
object ``{info{exit_status, submission, model_stats, mini_version, config}, messages[],
trajectory_format: "mini-swe-agent-1", instance_id}``. Messages are chat messages: ``system``, the
task as the first ``user`` message, then ``assistant`` turns (``THOUGHT: …`` and exactly one fenced
``bash`` block, the command) each answered by a ``user`` observation
``<returncode>N</returncode><output>…</output>``. v2 files (``mini-swe-agent-1.1``) may use tool
calls (``tool_calls``, ``role: "tool"``) and an ``exit`` message.

What this module does: each assistant turn is an agent step with a ``bash`` tool call
``{"command": …}`` (the fenced block); the next observation is its result, an error when the
return code is not 0; a user message that answers a turn without a command (a format error
message) is kept as a user step marked ``extra.environment_feedback``. The provider's reasoning
(``extra.response.choices[0].message.reasoning``) becomes ``reasoning_content``; per-call usage
and cost become step metrics.

Outcome: ``info.exit_status`` ``Submitted`` is unknown (the SWE-bench ``report.json`` beside the file
decides, see :mod:`.outcomes`); ``LimitsExceeded``, ``TimeExceeded``, ``RepeatedFormatError`` or an
exception name mean the run gave up: failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_float, as_int, as_str, content_text
from skillforge.ingest.jsonio import load_object
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder, add_chat_messages
from skillforge.ingest.swe_agent import exit_status_outcome
from skillforge.trajectory import Agent, SourceRef, StepMetrics, Trajectory

NAME = "mini-swe-agent"

_COMMAND = re.compile(r"```(?:bash|sh|shell)?[ \t]*\n(.*?)\n?```", re.DOTALL)
_RETURN_CODE = re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>")


def detect(path: Path, head: bytes) -> bool:
    """True for an object with ``messages`` and a mini-swe-agent marker (``trajectory_format`` or
    ``info.mini_version``)."""
    if not mentions(head, "trajectory_format", "mini_version"):
        return False
    shape = sniff(head)
    if shape.kind != "object":
        return False
    marker = str(shape.values.get("trajectory_format") or "")
    return marker.startswith("mini-swe-agent") or ("info.mini_version" in shape.values and "messages" in shape.keys)


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the one trajectory of a ``.traj.json`` file."""
    data = load_object(path, report, "messages")
    if data is None:
        return
    builder = StepBuilder()
    try:
        if any(isinstance(m, dict) and (m.get("tool_calls") or m.get("role") == "tool") for m in data["messages"]):
            add_chat_messages(builder, [m for m in data["messages"] if not (isinstance(m, dict) and m.get("role") == "exit")])
        else:
            _text_protocol(builder, data["messages"])
    except (TypeError, ValueError, AttributeError) as exc:
        report.problem(path, None, f"trajectory skipped: {type(exc).__name__}: {exc}")
        return
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    config = info.get("config") if isinstance(info.get("config"), dict) else {}
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
    instance = data.get("instance_id") if isinstance(data.get("instance_id"), str) else _instance_from(path)
    final: dict[str, Any] = {"total_steps": len(builder.steps)}
    if isinstance(stats.get("instance_cost"), (int, float)):
        final["total_cost_usd"] = float(stats["instance_cost"])
    extra: dict[str, Any] = {"task_id": instance}
    if isinstance(info.get("exit_status"), str):
        extra["exit_status"] = info["exit_status"]
    yield Trajectory(
        session_id=f"mini-swe-agent:{instance}",
        agent=Agent(name="mini-swe-agent", version=as_str(info.get("mini_version")), model_name=as_str(model.get("model_name"))),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path)),
        outcome=exit_status_outcome(info.get("exit_status"), submitted="Submitted"),
        final_metrics=final,
        extra=extra,
    )


def _text_protocol(builder: StepBuilder, messages: list[Any]) -> None:
    waiting: str | None = None
    answered = True  # whether the last assistant turn has had its observation
    for message in messages:
        if not isinstance(message, dict):
            raise TypeError(f"a message is {type(message).__name__}, not an object")
        role = message.get("role")
        text = content_text(message.get("content"))
        if role == "assistant":
            response = _response(message)
            step = builder.step("agent", text, reasoning_content=_reasoning(response))
            usage = response.get("usage") if isinstance(response.get("usage"), dict) else None
            if usage:
                step.metrics = StepMetrics(as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")), as_float(usage.get("cost")))
            commands = _COMMAND.findall(text)
            waiting = builder.call(step, None, "bash", {"command": commands[-1].strip()}).tool_call_id if commands else None
            answered = False
        elif role == "user" and not answered and waiting is not None:
            code = _RETURN_CODE.search(text[:200])
            builder.result(waiting, text, bool(code) and int(code.group(1)) != 0)
            waiting, answered = None, True
        elif role == "user" and not answered:
            builder.step("user", text, extra={"environment_feedback": True})
            answered = True
        elif role in ("user", "system"):
            builder.step(role, text)
        elif role == "exit":
            builder.step("system", text, extra={"exit": True})
        else:
            raise ValueError(f"unknown role {role!r}")


def _response(message: dict[str, Any]) -> dict[str, Any]:
    extra = message.get("extra")
    response = extra.get("response") if isinstance(extra, dict) else None
    return response if isinstance(response, dict) else {}


def _reasoning(response: dict[str, Any]) -> str | None:
    choices = response.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict):
            for key in ("reasoning", "reasoning_content"):
                if isinstance(message.get(key), str) and message[key] and not message[key].isspace():
                    return message[key]
    return None


def _instance_from(path: Path) -> str:
    return path.name[: -len(".traj.json")] if path.name.endswith(".traj.json") else path.stem
