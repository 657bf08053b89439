"""Gemini CLI chat sessions (``~/.gemini/tmp/<projectHash>/chats/session-*.json`` or ``.jsonl``).

Format (``shared/docs/trace-formats.md`` §10; upstream google-gemini/gemini-cli
``packages/core/src/services/chatRecordingService.ts``): one JSON object ``{sessionId,
projectHash, startTime, lastUpdated, messages[]}``; a message is ``{id, timestamp, type: user |
gemini | info | error | warning, content, thoughts[{subject, description}], tokens{input, output,
cached, thoughts, tool, total}, model, toolCalls[{id, name, args, result[{functionResponse{id,
name, response{output | error}}}], status, resultDisplay}]}``. A tool call and its result live in
the same object. Newer versions write the same record as JSONL: a metadata line, message lines and
``$set`` / ``$rewindTo`` lines, folded as the CLI itself loads them (:mod:`.gemini_records`).

``user`` messages are user steps, ``gemini`` messages agent steps (thoughts → reasoning, tool calls
with their results; a status other than ``success`` is an error, ``cancelled`` also marks the call
``extra.rejected_call_ids``), ``info``/``error``/``warning`` messages system steps (an ``info``
"Request cancelled." marks an interruption). No outcome is logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_int, as_str, content_text
from skillforge.ingest.gemini_records import load_jsonl_session
from skillforge.ingest.jsonio import load_object
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import HEAD_BYTES, mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import ErrorKind, add_result
from skillforge.trajectory import Agent, SourceRef, StepMetrics, Trajectory

NAME = "gemini-cli"


def detect(path: Path, head: bytes) -> bool:
    """True for an object with ``sessionId``, ``projectHash`` (or ``startTime``) and ``messages``, or
    JSONL whose first line is session metadata (``sessionId`` and ``projectHash`` strings, no
    ``type``: a Claude Code record has one)."""
    shape = sniff(head)
    if shape.kind not in ("jsonl", "object") or not mentions(head, "sessionId"):
        return False
    if shape.kind == "jsonl":
        first = shape.records[0]
        session, project = first.get("sessionId"), first.get("projectHash")
        return isinstance(session, str) and isinstance(project, str) and "type" not in first
    return (
        shape.kind == "object"
        and shape.has("sessionId")
        and shape.has("messages")
        and (shape.has("projectHash") or shape.has("startTime"))
    )


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the one trajectory of a chat session file (JSON or JSONL)."""
    with open(path, "rb") as handle:
        jsonl = sniff(handle.read(HEAD_BYTES)).kind == "jsonl"
    data = load_jsonl_session(path, report) if jsonl else load_object(path, report, "messages")
    if data is None:
        return
    builder = StepBuilder()
    model = None
    prompt = completion = 0
    for index, message in enumerate(data["messages"]):
        if not isinstance(message, dict):
            report.problem(path, index, "message is not an object; skipped")
            continue
        kind = message.get("type")
        stamp = as_str(message.get("timestamp"))
        text = content_text(message.get("content"))
        if kind == "user":
            builder.step("user", text, timestamp=stamp)
        elif kind == "gemini":
            model = model or as_str(message.get("model"))
            step = builder.step("agent", text, timestamp=stamp, reasoning_content=_thoughts(message.get("thoughts")))
            tokens = message.get("tokens") if isinstance(message.get("tokens"), dict) else {}
            if tokens:
                step.metrics = StepMetrics(as_int(tokens.get("input")), as_int(tokens.get("output")))
                prompt += as_int(tokens.get("input")) or 0
                completion += as_int(tokens.get("output")) or 0
            for call in message.get("toolCalls") or []:
                if not isinstance(call, dict):
                    continue
                tool_call = builder.call(step, call.get("id"), call.get("name"), call.get("args"))
                status = call.get("status")
                output = _output(call.get("result")) or content_text(call.get("resultDisplay"))
                error: ErrorKind | None = None
                if status not in (None, "success"):
                    error = "rejected" if status == "cancelled" else "status"
                add_result(builder, tool_call.tool_call_id, output, error)
                if status == "cancelled":
                    step.extra.setdefault("rejected_call_ids", []).append(tool_call.tool_call_id)
        elif kind in ("info", "error", "warning"):
            extra: dict[str, Any] = {kind: True}
            if kind == "info" and "cancel" in text.lower():
                extra["interrupted"] = True
            builder.step("system", text, timestamp=stamp, extra=extra)
        else:
            report.problem(path, index, f"message of unknown type {kind!r} skipped", "warning")
    if not builder.steps:
        report.problem(path, None, "no messages in the session", "warning")
        return
    yield Trajectory(
        session_id=as_str(data.get("sessionId")) or path.stem,
        agent=Agent(name="gemini-cli", model_name=model),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path)),
        final_metrics={
            "total_prompt_tokens": prompt,
            "total_completion_tokens": completion,
            "total_steps": len(builder.steps),
        },
        extra={"project_hash": data["projectHash"]} if isinstance(data.get("projectHash"), str) else {},
    )


def _thoughts(thoughts: Any) -> str | None:
    if not isinstance(thoughts, list):
        return None
    parts = []
    for thought in thoughts:
        if isinstance(thought, dict):
            subject, description = as_str(thought.get("subject")), as_str(thought.get("description"))
            parts.append(": ".join(p for p in (subject, description) if p))
        elif isinstance(thought, str):
            parts.append(thought)
    text = "\n\n".join(p for p in parts if p)
    return text or None


def _output(result: Any) -> str:
    texts = []
    for part in result if isinstance(result, list) else [result]:
        if not isinstance(part, dict):
            continue
        response = (
            part.get("functionResponse", {}).get("response") if isinstance(part.get("functionResponse"), dict) else None
        )
        if isinstance(response, dict):
            texts.append(content_text(response.get("output") if "output" in response else response.get("error")))
    return "\n".join(t for t in texts if t)
