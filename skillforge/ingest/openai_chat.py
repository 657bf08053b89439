"""OpenAI-style chat transcripts: a list of Chat Completions messages with ``tool_calls``.

Format (``shared/docs/trace-formats.md`` §14; OpenAI Chat Completions API reference): messages
``{role: system|developer|user|assistant|tool, content (string | parts), tool_calls[{id, type:
"function", function{name, arguments: JSON string}}], tool_call_id}``; legacy ``function_call`` and
role ``function`` are read too. Accepted containers:

* a JSON array of messages (one conversation per file);
* a JSON object ``{"messages": [...]}``, optionally with ``id``/``session_id``, ``task_id`` and an
  outcome field (``reward``, ``success``, ``outcome``, ``resolved``);
* JSONL with one such object per line (one conversation per line, as fine-tuning and eval datasets
  store them), or JSONL with one message per line (one conversation per file).

Tool results are errors when the message has ``is_error``/``error`` set. The outcome comes from the
object's own outcome field when there is one (origin ``log``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.coerce import as_str
from skillforge.ingest.jsonio import iter_json_items, iter_jsonl, load_json
from skillforge.ingest.outcomes import outcome_from_label
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder, add_chat_messages
from skillforge.trajectory import Agent, Outcome, SourceRef, Trajectory

NAME = "openai-chat"

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_OUTCOME_FIELDS = ("reward", "success", "outcome", "resolved", "label")


def detect(path: Path, head: bytes) -> bool:
    """True for an array of ``role`` messages, an object with ``messages``, or JSONL of either."""
    if not mentions(head, "role"):
        return False
    shape = sniff(head)
    if shape.kind == "array":
        return shape.value("item.role") in _ROLES
    if shape.kind == "object":
        return shape.has("messages") and shape.value("messages.item.role") in _ROLES
    if shape.kind == "jsonl":
        first = shape.records[0]
        if first.get("role") in _ROLES:
            return True
        messages = first.get("messages")
        return isinstance(messages, list) and bool(messages) and isinstance(messages[0], dict) and messages[0].get("role") in _ROLES
    return False


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per conversation."""
    with open(path, "rb") as handle:
        head = handle.read(64 * 1024)
    shape = sniff(head)
    if shape.kind == "array":
        messages = [message for _, message in iter_json_items(path, report)]
        yield from _conversation(path, None, {"messages": messages}, report)
    elif shape.kind == "jsonl" and shape.records[0].get("role") in _ROLES:
        messages = [record for _, record in iter_jsonl(path, report)]
        yield from _conversation(path, None, {"messages": messages}, report)
    elif shape.kind == "jsonl":
        for number, record in iter_jsonl(path, report):
            yield from _conversation(path, number, record, report)
    else:
        data = load_json(path, report)
        if isinstance(data, dict):
            yield from _conversation(path, None, data, report)


def _conversation(path: Path, line: int | None, data: dict[str, Any], report: IngestReport) -> Iterator[Trajectory]:
    messages = data.get("messages")
    if not isinstance(messages, list):
        report.problem(path, line, "no 'messages' list; skipped")
        return
    builder = StepBuilder()
    try:
        add_chat_messages(builder, messages)
    except (TypeError, ValueError) as exc:
        report.problem(path, line, f"conversation skipped: {exc}")
        return
    if not builder.steps:
        return
    outcome = Outcome()
    for field in _OUTCOME_FIELDS:
        if field in data and data[field] is not None:
            outcome = outcome_from_label(data[field], "log", f"{field}={data[field]}") or Outcome()
            break
    session = as_str(data.get("session_id")) or as_str(data.get("id")) or (f"{path.stem}:{line}" if line is not None else path.stem)
    model = as_str(data.get("model")) or next((as_str(m.get("model")) for m in messages if isinstance(m, dict) and m.get("model")), None)
    extra: dict[str, Any] = {}
    if data.get("task_id") is not None:
        extra["task_id"] = str(data["task_id"])
    yield Trajectory(
        session_id=f"chat:{session}",
        agent=Agent(name=as_str(data.get("agent")) or "chat-agent", model_name=model),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path), line=line),
        outcome=outcome,
        final_metrics={"total_steps": len(builder.steps)},
        extra=extra,
    )
