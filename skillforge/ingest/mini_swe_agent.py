"""mini-swe-agent trajectories (``<out>/<instance>/<instance>.traj.json``; SWE-agent/mini-swe-agent).

Format (``shared/docs/trace-formats.md`` §7; upstream ``minisweagent/run/utils/save.py``): one JSON
object ``{info{exit_status, submission, model_stats, mini_version, config}, messages[],
trajectory_format: "mini-swe-agent-1", instance_id}``. Messages are chat messages: ``system``, the
task as the first ``user`` message, then ``assistant`` turns (``THOUGHT: …`` and exactly one fenced
``bash`` block, the command) each answered by a ``user`` observation
``<returncode>N</returncode><output>…</output>``. v2 files (``mini-swe-agent-1.1``) may use tool
calls (``tool_calls``, ``role: "tool"``) and an ``exit`` message.

What this module does: each assistant turn is an agent step; its command is what mini-swe-agent
itself would run — the saved ``action_regex`` (or the upstream default), exactly one match — as a
``bash`` tool call ``{"command": …}``; the next observation is its result, an error when the
return code is not 0 or it is the harness's timeout message; a turn with zero or several matches
is the format error the agent was told about (:mod:`.mini_swe_protocol`). The regex used is kept
in ``extra.action_regex``. The provider's reasoning (``extra.response.choices[0].message.reasoning``)
becomes ``reasoning_content``; per-call usage and cost become step metrics.

Outcome: ``info.exit_status`` ``Submitted`` is unknown (the SWE-bench ``report.json`` beside the file
decides, see :mod:`.outcomes`); ``LimitsExceeded``, ``TimeExceeded``, ``RepeatedFormatError`` or an
exception name mean the run gave up: failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_dict, as_str
from skillforge.ingest.jsonio import load_object
from skillforge.ingest.mini_swe_protocol import ActionRule, fold_text, fold_tool_calls
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.swe_agent import exit_status_outcome
from skillforge.trajectory import Agent, SourceRef, Trajectory

NAME = "mini-swe-agent"


def detect(path: Path, head: bytes) -> bool:
    """True for an object with ``messages`` and a mini-swe-agent marker (``trajectory_format`` or
    ``info.mini_version``)."""
    shape = sniff(head)
    if shape.kind != "object" or not mentions(head, "trajectory_format", "mini_version"):
        return False
    if shape.value("info.mini_version") is not None and shape.has("messages"):
        return True  # near the start of every file; ``trajectory_format`` is the last key
    return str(shape.value("trajectory_format") or "").startswith("mini-swe-agent")


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the one trajectory of a ``.traj.json`` file."""
    data = load_object(path, report, "messages")
    if data is None:
        return
    builder = StepBuilder()
    info = as_dict(data.get("info"))
    rule = ActionRule.of(info)
    try:
        if any(isinstance(m, dict) and (m.get("tool_calls") or m.get("role") == "tool") for m in data["messages"]):
            fold_tool_calls(builder, data["messages"], rule)
        else:
            fold_text(builder, data["messages"], rule)
    except (TypeError, ValueError, AttributeError) as exc:
        report.problem(path, None, f"trajectory skipped: {type(exc).__name__}: {exc}")
        return
    config = as_dict(info.get("config"))
    model = as_dict(config.get("model"))
    stats = as_dict(info.get("model_stats"))
    instance = data.get("instance_id") if isinstance(data.get("instance_id"), str) else _instance_from(path)
    final: dict[str, Any] = {"total_steps": len(builder.steps)}
    if isinstance(stats.get("instance_cost"), (int, float)):
        final["total_cost_usd"] = float(stats["instance_cost"])
    extra: dict[str, Any] = {"task_id": instance, "action_regex": {"pattern": rule.regex.pattern, "from": rule.source}}
    if isinstance(info.get("exit_status"), str):
        extra["exit_status"] = info["exit_status"]
    yield Trajectory(
        session_id=f"mini-swe-agent:{instance}",
        agent=Agent(
            name="mini-swe-agent", version=as_str(info.get("mini_version")), model_name=as_str(model.get("model_name"))
        ),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path)),
        outcome=exit_status_outcome(info.get("exit_status"), submitted="Submitted"),
        final_metrics=final,
        extra=extra,
    )


def _instance_from(path: Path) -> str:
    return path.name[: -len(".traj.json")] if path.name.endswith(".traj.json") else path.stem
