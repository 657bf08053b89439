"""What each log format's *upstream* definition says a raw file holds, read without skillforge.

The conformance tests compare ``skillforge ingest`` against these figures, never against
skillforge's own earlier output: the number of tool calls as the harness that wrote the file
defines a tool call, the user prompts it recorded, and each call's raw arguments. Each reader
names the upstream file whose rule it follows. Only the standard library and ``re`` are used, so
a fault in skillforge's readers cannot leak into the expected values.
"""

from __future__ import annotations

import ast
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Raw:
    """The upstream view of one file.

    Attributes:
        prompts: text of every user prompt a human (or user simulator) typed, in file order.
        calls: one entry per tool call: its raw arguments (a dict, or the raw text/value).
        format_errors: assistant turns the harness rejected for their format (mini-swe-agent).
        errors: tool results the harness itself marks as failed (structured signals only).
    """

    prompts: list[str] = field(default_factory=list)
    calls: list[Any] = field(default_factory=list)
    format_errors: int = 0
    errors: int = 0


def _jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text(part) for part in content if _text(part))
    if isinstance(content, dict):
        for key in ("text", "content", "output_text", "input_text"):
            if isinstance(content.get(key), str):
                return content[key]
    return ""


# Claude Code: no published schema; record shapes as Claude Code writes them (user records with a
# string or text-block content are what the person typed; ``isMeta``, command wrappers and the
# interruption marker are written by Claude Code itself).
_CLAUDE_NOT_TYPED = (
    "<command-",
    "<local-command-",
    "<system-reminder>",
    "Caveat: The messages below",
    "[Request interrupted",
)


def claude_code(path: Path) -> Raw:
    """User prompts, ``tool_use`` blocks (unique by id) and ``is_error`` tool results."""
    raw = Raw()
    seen: set[str] = set()
    for record in _jsonl(path):
        message = record.get("message") if isinstance(record.get("message"), dict) else {}
        content = message.get("content")
        if record.get("type") == "assistant" and isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("id") not in seen:
                    seen.add(block.get("id"))
                    raw.calls.append(block.get("input"))
        elif record.get("type") == "user" and not record.get("isMeta") and not record.get("isCompactSummary"):
            if isinstance(content, list):
                raw.errors += sum(
                    1
                    for b in content
                    if isinstance(b, dict) and b.get("type") == "tool_result" and b.get("is_error") is True
                )
                texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
                text = "\n".join(t for t in texts if t)
            else:
                text = content if isinstance(content, str) else ""
            if text.strip() and not text.lstrip().startswith(_CLAUDE_NOT_TYPED) and not record.get("isSidechain"):
                raw.prompts.append(text)
    return raw


# Codex CLI: item types of the codex-protocol crate (openai/codex codex-rs/protocol/src/models.rs
# ``ResponseItem``; ``EventMsg::UserMessage`` in protocol.rs). A prompt may be written as a
# ``response_item`` user message, as an ``event_msg`` ``user_message``, or as both.
_CODEX_CALLS = ("function_call", "custom_tool_call", "local_shell_call", "web_search_call")
_CODEX_INJECTED = (
    "<permissions instructions>",
    "# AGENTS.md instructions",
    "<environment_context>",
    "<user_instructions>",
    "<INSTRUCTIONS>",
    "<user_shell_command>",
)


def codex(path: Path) -> Raw:
    """User prompts (the ``user_message`` events when the file has them — one per prompt the person
    sent — else the non-injected ``response_item`` user messages) and every tool call item."""
    raw = Raw()
    events: list[str] = []
    items: list[str] = []
    for record in _jsonl(path):
        payload = record.get("payload") if isinstance(record.get("payload"), dict) else record
        kind = payload.get("type")
        if record.get("type") == "event_msg" and kind == "user_message":
            events.append(payload.get("message") or "")
        elif kind == "message" and payload.get("role") == "user":
            text = _text(payload.get("content"))
            if not text.lstrip().startswith(_CODEX_INJECTED):
                items.append(text)
        elif kind in _CODEX_CALLS:
            raw.calls.append(payload.get("arguments") or payload.get("input") or payload.get("action"))
    raw.prompts = [t for t in (events or items) if t.strip()]
    return raw


# Gemini CLI: packages/core/src/services/chatRecordingService.ts (google-gemini/gemini-cli):
# a JSON ``ConversationRecord``, or JSONL of a metadata record, ``MessageRecord``s (a later
# record with the same id replaces the earlier one), ``{"$set": …}`` updates (``messages`` in a
# ``$set`` replaces them all) and ``{"$rewindTo": id}`` (drops that message and all after it).
def gemini_cli(path: Path) -> Raw:
    """Messages after the upstream loader's rules; prompts of ``user`` messages, ``toolCalls``."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
        records = [document]
    except json.JSONDecodeError:
        records = _jsonl(path)
    messages: dict[str, dict[str, Any]] = {}
    for record in records:
        if "$rewindTo" in record:
            ids = list(messages)
            cut = ids.index(record["$rewindTo"]) if record["$rewindTo"] in ids else 0
            for key in ids[cut:]:
                del messages[key]
        elif "$set" in record:
            if isinstance(record["$set"].get("messages"), list):
                messages = {m["id"]: m for m in record["$set"]["messages"] if isinstance(m, dict) and "id" in m}
        elif isinstance(record.get("messages"), list):
            messages.update({m["id"]: m for m in record["messages"] if isinstance(m, dict) and "id" in m})
        elif "id" in record and "type" in record:
            messages[record["id"]] = record
    raw = Raw()
    for message in messages.values():
        if message.get("type") == "user" and _text(message.get("content")).strip():
            raw.prompts.append(_text(message.get("content")))
        for call in message.get("toolCalls") or []:
            raw.calls.append(call.get("args"))
            raw.errors += call.get("status") == "error"
    return raw


# tau2-bench: src/tau2/data_model/message.py (sierra-research/tau2-bench): ``ToolCall`` on
# assistant *and* user messages, ``ToolMessage.error``.
def tau2_bench(path: Path) -> Raw:
    """Every tool call of every simulation, user-simulator utterances, ``error: true`` results."""
    raw = Raw()
    for simulation in json.loads(path.read_text(encoding="utf-8"))["simulations"]:
        for message in simulation["messages"]:
            raw.calls.extend(call.get("arguments") for call in message.get("tool_calls") or [])
            if message.get("role") == "user" and isinstance(message.get("content"), str) and message["content"].strip():
                raw.prompts.append(message["content"])
            raw.errors += message.get("role") == "tool" and message.get("error") is True
    return raw


# tau-bench: tau_bench/run.py writes ``[{task_id, reward, info, traj}]``; ``traj`` is an OpenAI
# chat message list (sierra-research/tau-bench).
def tau_bench(path: Path) -> Raw:
    """Every ``tool_calls`` entry and user-simulator message of every run."""
    raw = Raw()
    for run in json.loads(path.read_text(encoding="utf-8")):
        for message in run.get("traj") or []:
            raw.calls.extend((call.get("function") or {}).get("arguments") for call in message.get("tool_calls") or [])
            if message.get("role") == "user" and _text(message.get("content")).strip():
                raw.prompts.append(_text(message.get("content")))
    return raw


# SWE-agent: sweagent/types.py ``TrajectoryStep`` (SWE-agent/SWE-agent): one ``action`` per step.
def swe_agent(path: Path) -> Raw:
    """One call per function-calling ``tool_calls`` entry of the (non-demo) history, else one per
    ``trajectory`` step with an action; the task is the first non-demo user message."""
    data = json.loads(path.read_text(encoding="utf-8"))
    raw = Raw()
    history = [
        m for m in data.get("history") or [] if not m.get("is_demo") and m.get("message_type") != "demonstration"
    ]
    for message in history:
        calls = message.get("tool_calls")
        if isinstance(calls, str):
            calls = ast.literal_eval(calls)
        raw.calls.extend((call.get("function") or {}).get("arguments") for call in calls or [])
    if not raw.calls:
        steps = data.get("trajectory") or []
        raw.calls = [step.get("action") for step in steps if str(step.get("action") or "").strip()]
    for message in history:
        if message.get("role") == "user" and _text(message.get("content")).strip():
            raw.prompts.append(_text(message.get("content")))
            break
    return raw


# mini-swe-agent: v1 ``DefaultAgent.parse_action`` (minisweagent/agents/default.py:
# ``re.findall(self.config.action_regex, content, re.DOTALL)``, exactly one match or FormatError;
# default ``r"```bash\s*\n(.*?)\n```"``); v2 tool-call models put ``tool_calls`` on the message.
MINI_DEFAULT_ACTION_REGEX = r"```bash\s*\n(.*?)\n```"


def mini_swe_agent(path: Path) -> Raw:
    """Actions by the saved (or default) ``action_regex``; zero or several is a format error."""
    data = json.loads(path.read_text(encoding="utf-8"))
    config = data.get("info", {}).get("config", {})
    pattern = (
        config.get("agent", {}).get("action_regex")
        or config.get("model", {}).get("action_regex")
        or MINI_DEFAULT_ACTION_REGEX
    )
    raw = Raw()
    messages = data["messages"]
    for message in messages:
        if message.get("role") != "assistant":
            continue
        if message.get("tool_calls"):
            raw.calls.extend(call.get("function", {}).get("arguments") for call in message["tool_calls"])
            continue
        actions = re.findall(pattern, _text(message.get("content")), re.DOTALL)
        if len(actions) == 1:
            raw.calls.append({"command": actions[0].strip()})
        elif not any(m.get("role") == "tool" for m in messages):
            raw.format_errors += 1
    task = next((m for m in messages if m.get("role") == "user"), None)
    if task is not None:
        raw.prompts.append(_text(task.get("content")))
    return raw


# OpenHands: openhands/events/serialization (All-Hands-AI/OpenHands). An action event carries
# ``action``; its arguments sit in ``args`` (current) or at the top level (the older flat history
# the resolver wrote). ``message`` actions are conversation, ``finish``/``recall``/``system``/
# ``change_agent_state`` are not tool calls.
_OPENHANDS_NOT_CALLS = ("message", "system", "recall", "change_agent_state", "null", "finish")
_OPENHANDS_EVENT_KEYS = (
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
    "content",
    "extras",
)


def openhands(path: Path) -> Raw:
    """The first user message of each row (the task), and every tool-call action with its arguments."""
    text = path.read_text(encoding="utf-8")
    rows = [{"history": json.loads(text)}] if text.lstrip().startswith("[") else _jsonl(path)
    raw = Raw()
    for row in rows:
        first = True
        for event in row["history"]:
            action = event.get("action")
            if action == "message" and event.get("source", "user") == "user" and first:
                raw.prompts.append(
                    _text(event.get("args", {}).get("content"))
                    or _text(event.get("content"))
                    or _text(event.get("message"))
                )
                first = False
            elif action is not None and action not in _OPENHANDS_NOT_CALLS:
                args = (
                    event.get("args")
                    if isinstance(event.get("args"), dict)
                    else {k: v for k, v in event.items() if k not in _OPENHANDS_EVENT_KEYS}
                )
                raw.calls.append({k: v for k, v in args.items() if k != "thought"})
    return raw


# Inspect AI: inspect_ai/model/_chat_message.py (UKGovernmentBEIS/inspect_ai):
# ``ChatMessageAssistant.tool_calls``; a ``.eval`` file is a zip of ``samples/*.json``.
def inspect_ai(path: Path) -> Raw:
    """User messages and assistant tool calls of every sample."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            samples = [
                json.loads(archive.read(n))
                for n in archive.namelist()
                if n.startswith("samples/") and n.endswith(".json")
            ]
    else:
        samples = json.loads(path.read_text(encoding="utf-8")).get("samples") or []
    raw = Raw()
    for sample in samples:
        for message in sample.get("messages") or []:
            if message.get("role") == "user" and _text(message.get("content")).strip():
                raw.prompts.append(_text(message.get("content")))
            raw.calls.extend(call.get("arguments") for call in message.get("tool_calls") or [])
    return raw


# OpenAI Chat Completions: https://platform.openai.com/docs/api-reference/chat (messages with
# ``role`` and ``tool_calls[{id, function{name, arguments}}]``).
def openai_chat(path: Path) -> Raw:
    """User messages and ``tool_calls`` of a message list."""
    data = json.loads(path.read_text(encoding="utf-8"))
    messages = data if isinstance(data, list) else data.get("messages") or []
    raw = Raw()
    for message in messages:
        if message.get("role") == "user" and _text(message.get("content")).strip():
            raw.prompts.append(_text(message.get("content")))
        raw.calls.extend((call.get("function") or {}).get("arguments") for call in message.get("tool_calls") or [])
    return raw


READERS = {
    "claude-code": claude_code,
    "codex": codex,
    "gemini-cli": gemini_cli,
    "tau-bench": tau_bench,
    "tau2-bench": tau2_bench,
    "swe-agent": swe_agent,
    "mini-swe-agent": mini_swe_agent,
    "openhands": openhands,
    "inspect-ai": inspect_ai,
    "openai-chat": openai_chat,
}
"""Format name (as ``skillforge ingest`` names it) → upstream reader."""
