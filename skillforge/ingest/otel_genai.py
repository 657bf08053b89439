"""OpenTelemetry GenAI spans exported as OTLP JSON (the OpenTelemetry GenAI semantic conventions).

Format (``shared/docs/trace-formats.md`` §12; opentelemetry.io/docs/specs/semconv/gen-ai/, status
"Development"): ``{"resourceSpans": [{"resource": {attributes}, "scopeSpans": [{"spans": [...]}]}]}``
(the OTLP/JSON encoding: the collector's file exporter writes one such object per line). A span has
``traceId``, ``spanId``, ``parentSpanId``, ``name``, ``startTimeUnixNano``, ``attributes[{key,
value{stringValue|intValue|doubleValue|boolValue|arrayValue|kvlistValue}}]``, ``events`` and
``status{code: 2 = error, message}``. The attributes read:

* ``gen_ai.operation.name``: ``chat``/``text_completion``/``generate_content`` (a model call),
  ``execute_tool`` (a tool call), ``invoke_agent``/``create_agent`` (the agent);
* model calls: ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (JSON: ``[{role, parts[{type:
  text|reasoning|tool_call|tool_call_response, content, id, name, arguments, response}]}]``),
  ``gen_ai.system_instructions``, ``gen_ai.request.model``/``gen_ai.response.model``,
  ``gen_ai.usage.input_tokens``/``output_tokens``;
* tool calls: ``gen_ai.tool.name``, ``gen_ai.tool.call.id``, ``gen_ai.tool.call.arguments``,
  ``gen_ai.tool.call.result``, ``error.type`` / ``status.code == 2`` (error);
* ``gen_ai.conversation.id`` (session id, else the trace id), ``gen_ai.agent.name``.

One trajectory per trace, spans in start-time order: each model call is an agent step (new user
messages in its input become user steps first), each ``execute_tool`` span a tool result attached
to the step that requested its call id (or a step of its own). Message content is opt-in in the
conventions: exports without it still give the structure (tool names, errors, tokens).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from skillforge.ingest.coerce import as_int, as_str, content_text
from skillforge.ingest.jsonio import iter_jsonl, load_json
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import add_result
from skillforge.trajectory import Agent, SourceRef, Step, StepMetrics, Trajectory

NAME = "otel-genai"

MODEL_OPERATIONS = ("chat", "text_completion", "generate_content")
"""``gen_ai.operation.name`` values of a model call."""


def detect(path: Path, head: bytes) -> bool:
    """True for OTLP JSON (``resourceSpans`` at the top level, one object or one per line)."""
    shape = sniff(head)
    if shape.kind not in ("object", "jsonl") or not mentions(head, "resourceSpans"):
        return False
    return shape.has("resourceSpans")


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per trace found in the file."""
    spans: list[dict[str, Any]] = []
    shape_jsonl = False
    with open(path, "rb") as handle:
        shape_jsonl = sniff(handle.read(64 * 1024)).kind == "jsonl"
    documents = (record for _, record in iter_jsonl(path, report)) if shape_jsonl else iter([load_json(path, report)])
    for document in documents:
        if not isinstance(document, dict):
            continue
        for resource in document.get("resourceSpans") or []:
            for scope in (
                (resource.get("scopeSpans") or resource.get("instrumentationLibrarySpans") or [])
                if isinstance(resource, dict)
                else []
            ):
                for span in (scope.get("spans") or []) if isinstance(scope, dict) else []:
                    if isinstance(span, dict):
                        spans.append(span)
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        traces[str(span.get("traceId") or "")].append(span)
    for trace_id, trace_spans in traces.items():
        trajectory = _trace(path, trace_id, trace_spans)
        if trajectory is not None:
            yield trajectory


def attributes(span: dict[str, Any]) -> dict[str, Any]:
    """A span's OTLP ``attributes`` list as a plain dict (``intValue`` strings become ints)."""
    out: dict[str, Any] = {}
    for item in span.get("attributes") or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = _value(item.get("value"))
    return out


def _value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [_value(v) for v in (value["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in value:
        return {
            kv.get("key"): _value(kv.get("value"))
            for kv in (value["kvlistValue"] or {}).get("values") or []
            if isinstance(kv, dict)
        }
    return None


def _trace(path: Path, trace_id: str, spans: list[dict[str, Any]]) -> Trajectory | None:
    spans.sort(key=lambda s: as_int(_int_or_none(s.get("startTimeUnixNano"))) or 0)
    builder = StepBuilder()
    seen_users = 0
    model = agent_name = session = None
    step_for_call: dict[str, Step] = {}
    prompt = completion = 0
    for span in spans:
        attrs = attributes(span)
        operation = attrs.get("gen_ai.operation.name")
        session = session or as_str(attrs.get("gen_ai.conversation.id"))
        agent_name = agent_name or as_str(attrs.get("gen_ai.agent.name"))
        if operation in MODEL_OPERATIONS:
            model = model or as_str(attrs.get("gen_ai.response.model")) or as_str(attrs.get("gen_ai.request.model"))
            if not builder.steps:
                instructions = _messages(attrs.get("gen_ai.system_instructions"))
                if instructions:
                    builder.step("system", _parts_text(instructions))
            # each call's input repeats the conversation so far: only user messages beyond those
            # already seen are new
            users = [
                m
                for m in _messages(attrs.get("gen_ai.input.messages"))
                if isinstance(m, dict) and m.get("role") == "user"
            ]
            for message in users[seen_users:]:
                builder.step("user", _parts_text(message.get("parts")))
            seen_users = max(seen_users, len(users))
            step = builder.step("agent", timestamp=_time(span))
            input_tokens, output_tokens = (
                as_int(attrs.get("gen_ai.usage.input_tokens")),
                as_int(attrs.get("gen_ai.usage.output_tokens")),
            )
            if input_tokens is not None or output_tokens is not None:
                step.metrics = StepMetrics(input_tokens, output_tokens)
                prompt += input_tokens or 0
                completion += output_tokens or 0
            for message in _messages(attrs.get("gen_ai.output.messages")):
                if not isinstance(message, dict):
                    continue
                parts = message.get("parts") or []
                step.message = "\n".join(p for p in (step.message, _parts_text(parts)) if p)
                reasoning = _parts_text(parts, "reasoning")
                if reasoning:
                    step.reasoning_content = reasoning
                for part in parts:
                    if isinstance(part, dict) and part.get("type") == "tool_call":
                        call = builder.call(step, part.get("id"), part.get("name"), part.get("arguments"))
                        step_for_call[call.tool_call_id] = step
        elif operation == "execute_tool":
            call_id = as_str(attrs.get("gen_ai.tool.call.id"))
            status = span.get("status") if isinstance(span.get("status"), dict) else {}
            is_error = status.get("code") in (2, "STATUS_CODE_ERROR") or attrs.get("error.type") is not None
            result = attrs.get("gen_ai.tool.call.result")
            text = (
                content_text(result)
                if isinstance(result, str)
                else orjson.dumps(result).decode()
                if result is not None
                else ""
            )
            if is_error and not text:
                text = as_str(status.get("message")) or as_str(attrs.get("error.type")) or "error"
            if call_id is None or call_id not in step_for_call:
                step = builder.step("agent", timestamp=_time(span))
                call_id = builder.call(
                    step, call_id, attrs.get("gen_ai.tool.name"), attrs.get("gen_ai.tool.call.arguments")
                ).tool_call_id
            add_result(builder, call_id, text, "status" if is_error else None)  # the span's error status
    if not builder.steps:
        return None
    return Trajectory(
        session_id=f"otel:{session or trace_id}",
        agent=Agent(name=agent_name or "otel-genai-agent", model_name=model),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path)),
        final_metrics={
            "total_prompt_tokens": prompt,
            "total_completion_tokens": completion,
            "total_steps": len(builder.steps),
        },
        extra={"trace_id": trace_id},
    )


def _messages(value: Any) -> list[Any]:
    """A messages attribute: a JSON string (the convention) or an already structured list."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return [{"role": "user", "parts": [{"type": "text", "content": value}]}]
    return value if isinstance(value, list) else []


def _parts_text(parts: Any, kind: str = "text") -> str:
    texts = []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, dict) and part.get("type") == kind:
            texts.append(content_text(part.get("content")))
    return "\n".join(t for t in texts if t)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _time(span: dict[str, Any]) -> str | None:
    nanos = _int_or_none(span.get("startTimeUnixNano"))
    if nanos is None:
        return None
    from datetime import datetime, timezone

    try:
        return datetime.fromtimestamp(nanos / 1e9, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None
