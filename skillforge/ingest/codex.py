"""OpenAI Codex CLI rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl``).

Format (``shared/docs/trace-formats.md`` §3; item types from the ``codex-protocol`` crate of
openai/codex): JSONL, each line an envelope ``{timestamp, type, payload}`` with ``type`` in
``session_meta``, ``turn_context``, ``response_item``, ``event_msg``, ``compacted``. The older
(mid-2025) files have no envelope: a header line ``{id, timestamp, instructions}``, then bare
Responses items and ``{"record_type": "state"}`` markers; both are read here.

What this module does:

* reads ``response_item`` (what the model saw); of the ``event_msg`` copies of the same text only
  ``user_message`` is read: Codex ≥ 0.12x writes some prompts only there. A prompt is taken from
  whichever record carries it, once (the same text again before the agent acted is not a new
  prompt), and always starts a new step;
* one agent step per model response: consecutive output items (``reasoning`` summary →
  ``reasoning_content``, assistant ``message``, ``function_call``, ``custom_tool_call``,
  ``local_shell_call``, ``web_search_call``) until the next input item;
* pairs ``function_call_output`` / ``custom_tool_call_output`` with their call by ``call_id``; an
  error is, in this order: a non-zero exit code (``exec_command_end`` events, a JSON output's
  ``metadata.exit_code``, a ``Process exited with code N`` line), ``patch_apply_end.success`` false,
  one of Codex's own messages (:data:`HARNESS_MESSAGES`), the generic match of :mod:`.tool_errors`;
* a capture that stops mid-turn (a turn opened by ``task_started`` or a prompt, and no
  ``task_complete``, ``turn_aborted`` or final answer after it) is marked ``extra.truncated``;
* injected context (``developer`` messages, ``# AGENTS.md instructions``, ``<environment_context>``,
  ``<permissions instructions>``, ``<user_instructions>``) is marked ``extra.injected``, not user
  intent; ``compacted`` summaries become system steps; ``turn_aborted`` marks the turn
  ``extra.interrupted``;
* a ``session_meta`` line that appears after items (a file of several sessions) starts a new
  trajectory, so memory stays bounded by one session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from skillforge.ingest.coerce import as_int, as_str, content_text
from skillforge.ingest.jsonio import iter_jsonl
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import HarnessMessage, add_result, classify, mark
from skillforge.trajectory import Agent, SourceRef, Step, StepMetrics, Trajectory

NAME = "codex"

_ENVELOPE_TYPES = ("session_meta", "turn_context", "response_item", "event_msg", "compacted")
_ITEM_TYPES = (
    "message",
    "reasoning",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "local_shell_call",
    "web_search_call",)
_INJECTED_PREFIXES = (
    "<permissions instructions>",
    "# AGENTS.md instructions",
    "<environment_context>",
    "<user_instructions>",
    "<INSTRUCTIONS>",
    "<user_shell_command>",
)
_EXIT_LINE = re.compile(r"(?m)^(?:Process exited with code|Exit code:?)\s*(-?\d+)")
HARNESS_MESSAGES = (
    HarnessMessage(
        r"^patch rejected: ",
        "harness",
        "openai/codex codex-rs apply-patch ('patch rejected: empty patch')",
    ),
    HarnessMessage(
        r"^apply_patch verification failed: ",
        "harness",
        "openai/codex codex-rs apply-patch (parse errors)",
    ),
    HarnessMessage(
        r"^[a-z_]+ failed: ",
        "harness",
        "codex-rs tool handlers: 'write_stdin failed: stdin is closed…' (codemie-code 0.125 rollout)",
    ),
    HarnessMessage(
        r"^(?:execution error|aborted by user)\b",
        "harness",
        "kept from skillforge's earlier Codex reader; no rollout in the corpus shows it",
    ),
    HarnessMessage(
        r"Browser Use rejected this action",
        "rejected",
        "Codex Desktop Browser Use tool (tests/data/wild codex 0.128.0-alpha.1 rollout)",
    ),
)
"""Codex's own error messages in tool outputs, each with where it comes from (see :mod:`.tool_errors`)."""


def detect(path: Path, head: bytes) -> bool:
    """True for envelope lines ``{timestamp, type, payload}`` or a legacy header + bare items."""
    shape = sniff(head)
    if shape.kind not in ("jsonl", "object") or (not shape.records and not mentions(head, "payload")):
        return False
    first = shape.records[0] if shape.records else dict.fromkeys(shape.keys)
    if {"timestamp", "type", "payload"} <= set(first) and (not shape.records or first.get("type") in _ENVELOPE_TYPES):
        return True
    if shape.records and {"id", "timestamp"} <= set(first) and "instructions" in first:
        return True  # legacy header line
    return bool(shape.records) and any(r.get("record_type") == "state" for r in shape.records) and any(r.get("type") in _ITEM_TYPES for r in shape.records)


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the trajectories of a rollout file (one per ``session_meta``)."""
    session = _Session(path, report, 1)
    for number, record in iter_jsonl(path, report):
        kind = record.get("type")
        payload = record.get("payload")
        if "payload" in record and kind in _ENVELOPE_TYPES:
            if not isinstance(payload, dict):
                report.problem(path, number, f"{kind} record without a payload object skipped", "warning")
                continue
            if kind == "session_meta" and session.started:
                yield from session.finish()
                session = _Session(path, report, number)
            session.envelope(number, kind, payload, record.get("timestamp"))
        elif record.get("record_type") is not None:
            continue
        elif kind in _ITEM_TYPES:
            session.item(number, record, record.get("timestamp"))
        elif number == 1 and "instructions" in record and "id" in record:
            session.meta(record)
        else:
            report.problem(path, number, f"unknown record type {kind!r} skipped", "warning")
    yield from session.finish()


class _Session:
    """One session being read: its metadata and the steps built so far."""

    def __init__(self, path: Path, report: IngestReport, line: int) -> None:
        self.path = path
        self.report = report
        self.line = line
        self.builder = StepBuilder()
        self.session_id: str | None = None
        self.model: str | None = None
        self.version: str | None = None
        self.extra: dict[str, Any] = {}
        self.started = False
        self._turn: Step | None = None  # the agent step of the current model response
        self._reasoning: list[str] = []
        self._exit_codes: dict[str, int] = {}
        self._failed_patches: set[str] = set()
        self._usage: dict[str, Any] | None = None
        self._prompt: tuple[str, str] | None = None  # (text, record kind) of the last prompt, until the agent acts
        self._turn_open: tuple[int, str] | None = None  # (line, what opened it) of a turn not yet ended
        self._markers = False  # task events or answer phases seen: turns have explicit ends
        self._last_item: str | None = None

    # ---------------------------------------------------------------- records

    def meta(self, payload: dict[str, Any]) -> None:
        self.session_id = self.session_id or as_str(payload.get("id"))
        self.version = self.version or as_str(payload.get("cli_version"))
        for key in ("cwd", "originator", "model_provider"):
            if isinstance(payload.get(key), str):
                self.extra.setdefault(key, payload[key])
        git = payload.get("git")
        if isinstance(git, dict) and isinstance(git.get("branch"), str):
            self.extra.setdefault("git_branch", git["branch"])

    def envelope(self, number: int, kind: str, payload: dict[str, Any], timestamp: Any) -> None:
        if kind == "session_meta":
            self.meta(payload)
        elif kind == "turn_context":
            self.model = self.model or as_str(payload.get("model"))
        elif kind == "response_item":
            self.item(number, payload, timestamp)
        elif kind == "compacted":
            self.started = True
            self._end_turn()
            self.builder.step("system", content_text(payload.get("message")), timestamp=as_str(timestamp), extra={"compaction_summary": True, "line": number})
        elif kind == "event_msg":
            self.event(number, payload, timestamp)

    def event(self, number: int, payload: dict[str, Any], timestamp: Any) -> None:
        kind = payload.get("type")
        call_id = as_str(payload.get("call_id"))
        if kind == "exec_command_end" and call_id and isinstance(payload.get("exit_code"), int):
            self._exit_codes[call_id] = payload["exit_code"]
        elif kind == "patch_apply_end" and call_id and payload.get("success") is False:
            self._failed_patches.add(call_id)
        elif kind == "turn_aborted":
            self._turn_open = None
            step = self.builder.last()
            if step is not None:
                step.extra["interrupted"] = True
                step.extra["abort_reason"] = as_str(payload.get("reason")) or "aborted"
        elif kind in ("error", "stream_error"):
            self.started = True
            self.builder.step("system", content_text(payload.get("message")), timestamp=as_str(timestamp), extra={"error": True, "line": number})
        elif kind == "token_count":
            info = payload.get("info")
            if isinstance(info, dict) and isinstance(info.get("total_token_usage"), dict):
                self._usage = info["total_token_usage"]  # cumulative: the last one is the total
            last = info.get("last_token_usage") if isinstance(info, dict) else None
            if isinstance(last, dict) and self._turn is not None and self._turn.metrics is None:
                self._turn.metrics = StepMetrics(as_int(last.get("input_tokens")), as_int(last.get("output_tokens")))
        elif kind == "task_complete":
            self._markers, self._turn_open = True, None
            step = self.builder.last()
            if step is not None:
                step.extra["turn_complete"] = True
        elif kind == "task_started":
            self._markers, self._turn_open = True, (number, "task_started")
        elif kind == "user_message":
            self._user(number, content_text(payload.get("message")), as_str(timestamp), "event")

    def item(self, number: int, item: dict[str, Any], timestamp: Any) -> None:
        kind = item.get("type")
        self.started = True
        stamp = as_str(timestamp)
        if kind != "message":
            self._prompt = None  # the agent acted: the same text again is a new prompt
            self._last_item = str(kind)
        if kind == "message":
            role = item.get("role")
            text = content_text(item.get("content"))
            if role == "assistant":
                self._agent_step(number, stamp).message = _join(self._turn.message if self._turn else "", text)
                self._last_item = "answer"
                if item.get("phase") is not None:
                    self._markers = True
                    if item.get("phase") == "final_answer":
                        self._turn_open = None
                return
            if role in ("developer", "system"):
                self._end_turn()
                self.builder.step("system", text, timestamp=stamp, extra={"injected": True, "line": number})
            elif role == "user":
                self._user(number, text, stamp, "item")
            else:
                self.report.problem(self.path, number, f"message with unknown role {role!r} skipped", "warning")
        elif kind == "reasoning":
            summary = item.get("summary")
            texts = [content_text(part.get("text")) for part in summary or [] if isinstance(part, dict)]
            if isinstance(item.get("content"), list):
                texts += [content_text(part.get("text")) for part in item["content"] if isinstance(part, dict)]
            texts = [t for t in texts if t.strip()]
            if texts:
                step = self._agent_step(number, stamp)
                step.reasoning_content = _join(step.reasoning_content or "", "\n\n".join(texts))
        elif kind in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call"):
            step = self._agent_step(number, stamp)
            if kind == "function_call":
                self.builder.call(step, item.get("call_id"), item.get("name"), item.get("arguments"))
            elif kind == "custom_tool_call":
                self.builder.call(step, item.get("call_id"), item.get("name"), {"input": item.get("input")})
            elif kind == "local_shell_call":
                action = item.get("action") if isinstance(item.get("action"), dict) else {}
                self.builder.call(step, item.get("call_id") or item.get("id"), "local_shell", action)
            else:
                action = item.get("action") if isinstance(item.get("action"), dict) else {}
                self.builder.call(step, item.get("call_id") or item.get("id"), "web_search", action)
        elif kind in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
            self._end_turn()
            text, exit_code = _output(item.get("output"))
            call_id = as_str(item.get("call_id"))
            kind_of_error = "exit_code" if exit_code not in (None, 0) else classify(_tool_text(text), HARNESS_MESSAGES)
            add_result(self.builder, call_id, text, kind_of_error, timestamp=stamp)
            if exit_code is not None and call_id:
                self._exit_codes.setdefault(call_id, exit_code)
        else:
            self.report.problem(self.path, number, f"unknown response item {kind!r} skipped", "warning")

    # ---------------------------------------------------------------- steps

    def _user(self, number: int, text: str, stamp: str | None, via: str) -> None:
        """A prompt from a ``response_item`` (``via="item"``) or an ``event_msg`` (``"event"``):
        once, and as a new step. Codex writes a prompt to both records, one right after the other,
        not always with the same text (attachments, redacted copies): a prompt of the other kind
        before the agent acted, or the same text again, is that copy."""
        self._end_turn()
        injected = text.lstrip().startswith(_INJECTED_PREFIXES)
        if not injected:
            if self._prompt is not None and (self._prompt[1] != via or self._prompt[0] == text.strip()):
                return  # the other record of the same prompt
            self._prompt = (text.strip(), via)
            self._turn_open = (number, "prompt")
            self._last_item = "prompt"
        self.started = True
        extra: dict[str, Any] = {"line": number}
        if injected:
            extra["injected"] = True
        self.builder.step("user", text, timestamp=stamp, extra=extra)

    def _agent_step(self, number: int, stamp: str | None) -> Step:
        if self._turn is None:
            self._turn = self.builder.step("agent", timestamp=stamp, extra={"line": number})
        return self._turn

    def _end_turn(self) -> None:
        self._turn = None

    def finish(self) -> Iterator[Trajectory]:
        if not self.started:
            return
        if not self.builder.steps:
            self.report.problem(self.path, self.line, "no messages or tool calls in the session", "warning")
            return
        self._apply_exit_codes()
        self._mark_truncated()
        final: dict[str, Any] = {"total_steps": len(self.builder.steps)}
        if self._usage:
            final["total_prompt_tokens"] = as_int(self._usage.get("input_tokens"))
            final["total_completion_tokens"] = as_int(self._usage.get("output_tokens"))
            final["total_cached_tokens"] = as_int(self._usage.get("cached_input_tokens"))
        yield Trajectory(
            session_id=self.session_id or f"{self.path.stem}:{self.line}",
            agent=Agent(name="codex", version=self.version, model_name=self.model),
            steps=self.builder.steps,
            source=SourceRef(format=NAME, path=str(self.path), line=self.line),
            final_metrics=final,
            extra=self.extra,
        )

    def _mark_truncated(self) -> None:
        """A turn still open at the end: with turn markers in the file, no end came; without them,
        the capture stops on the agent's work (a call, an output, reasoning), not on an answer."""
        if self._turn_open is None:
            return
        if not self._markers and self._last_item in (None, "answer"):
            return
        line, opened = self._turn_open
        reason = f"no task_complete, turn_aborted or final answer after the {opened} on line {line}"
        self.extra["truncated"] = {"turn_line": line, "reason": reason}
        self.report.problem(self.path, line, f"capture stops mid-turn ({reason}); marked truncated", "warning")
        self.builder.steps[-1].extra["truncated"] = True

    def _apply_exit_codes(self) -> None:
        for step in self.builder.steps:
            if step.observation is None:
                continue
            for result in step.observation.results:
                code = self._exit_codes.get(result.source_call_id or "")
                if code is not None:
                    step.extra.setdefault("exit_codes", {})[result.source_call_id] = code
                    if code != 0:
                        mark(step, result, "exit_code")
                if result.source_call_id in self._failed_patches:
                    mark(step, result, "status")


def _output(raw: Any) -> tuple[str, int | None]:
    """The text of a tool output and its exit code, from a JSON ``{output, metadata{exit_code}}``
    string or an ``exec_command`` text with a ``Process exited with code N`` line."""
    if isinstance(raw, dict):
        data: Any = raw
    elif isinstance(raw, str) and raw.startswith("{"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
    else:
        data = None
    if isinstance(data, dict) and "output" in data:
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        code = metadata.get("exit_code")
        return content_text(data.get("output")), code if isinstance(code, int) else None
    text = content_text(raw)
    match = _EXIT_LINE.search(text[:2000])
    return text, int(match.group(1)) if match else None


def _tool_text(text: str) -> str:
    """The output part of an ``exec_command``/tool text (after Codex's ``Output:`` header)."""
    head, sep, rest = text.partition("\nOutput:\n")
    return rest if sep and len(head) < 400 else text


def _join(existing: str, text: str) -> str:
    return f"{existing}\n\n{text}" if existing and text else existing or text
