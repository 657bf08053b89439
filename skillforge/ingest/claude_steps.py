"""The agent, user and tool-result steps of one Claude Code conversation, built from its records in
order (used by :mod:`skillforge.ingest.claude_code`).

Content blocks of one API response (records sharing ``message.id``) make one agent step; each
``tool_result`` joins the step holding its ``tool_use``; interruptions, tool-use rejections and
error results are marked as failure signals. Format: ``shared/docs/trace-formats.md`` §2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from skillforge.ingest.claude_records import INJECTED_PREFIXES, Record
from skillforge.ingest.report import IngestReport
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import ErrorKind, mark
from skillforge.trajectory import (
    Step,
    StepMetrics,
)

INTERRUPT_PREFIX = "[Request interrupted by user"


REJECTION_MARKERS = ("The user doesn't want to proceed with this tool use", "User rejected tool use")


ERROR_RESULT = re.compile(r"^(?:Error|<tool_use_error>)")


class StepAssembler:
    """Turns the records of one line into ATIF steps."""

    def __init__(self, path: Path, report: IngestReport) -> None:
        self.path = path
        self.report = report
        self.builder = StepBuilder()
        self.steps = self.builder.steps
        self.version: str | None = None
        self.model: str | None = None
        self._message_step: dict[str, Step] = {}
        self._usage: dict[str, tuple[int, int]] = {}

    def add(self, record: Record) -> None:
        self.version = self.version or record.version
        if record.type == "assistant":
            self._assistant(record)
        elif record.type == "user":
            self._user(record)
        elif record.type == "system" and "compact_boundary" in record.flags:
            self.builder.step(
                "system",
                f"[context compacted: {record.flags['compact_boundary']}]",
                timestamp=record.timestamp,
                extra={"compact_boundary": True, "line": record.line},
            )

    def _assistant(self, record: Record) -> None:
        if record.flags.get("no_message"):
            self.report.problem(self.path, record.line, "assistant record without a message object skipped")
            return
        self.model = self.model or record.model
        message_id = record.message_id or record.uuid or f"line-{record.line}"
        step = self._message_step.get(message_id)
        if step is None:
            step = self.builder.step("agent", timestamp=record.timestamp, extra={"line": record.line})
            self._message_step[message_id] = step
        for kind, payload in record.blocks:
            if kind == "text":
                step.message = join_text(step.message, payload)
            elif kind == "thinking":
                step.reasoning_content = join_text(step.reasoning_content, payload)
            elif kind == "tool_use":
                self.builder.call(step, *payload)
        if record.usage is not None:
            self._usage[message_id] = record.usage  # repeated per record: keep the last, never sum
            step.metrics = StepMetrics(prompt_tokens=record.usage[0], completion_tokens=record.usage[1])

    def _user(self, record: Record) -> None:
        if record.flags.get("no_message") or record.flags.get("no_content"):
            self.report.problem(self.path, record.line, "user record without message content skipped", "warning")
            return
        if record.flags.get("isCompactSummary"):
            text = "\n".join(payload for kind, payload in record.blocks if kind == "text")
            self.builder.step(
                "system", text, timestamp=record.timestamp, extra={"compaction_summary": True, "line": record.line}
            )
            return
        for kind, payload in record.blocks:
            if kind == "tool_result":
                self._tool_result(record, *payload)
            elif kind == "text":
                self._user_text(record, payload)

    def _user_text(self, record: Record, text: str) -> None:
        if not text.strip():
            return
        extra: dict[str, Any] = {"line": record.line}
        stripped = text.lstrip()
        if record.flags.get("isMeta") or stripped.startswith(INJECTED_PREFIXES):
            extra["injected"] = True
        if stripped.startswith(INTERRUPT_PREFIX):
            extra["interrupted"] = True
        self.builder.step("user", text, timestamp=record.timestamp, extra=extra)

    def _tool_result(self, record: Record, call_id: str, text: str, is_error: bool) -> None:
        summary = record.flags.get("tool_use_result")
        kind: ErrorKind | None = "flag" if is_error else None
        if kind is None and isinstance(summary, str) and ERROR_RESULT.match(summary):
            kind = "harness"
        known = self.builder.step_of(call_id) is not None
        if not known:
            self.report.problem(self.path, record.line, f"tool_result for unknown tool_use id {call_id!r}", "warning")
        result = self.builder.result(call_id or None, text, False, timestamp=record.timestamp)
        step = self.builder.step_of(result.source_call_id) or self.steps[-1]
        if kind is not None:
            mark(step, result, kind)
        if not known:
            step.extra.setdefault("line", record.line)
        if any(marker in text for marker in REJECTION_MARKERS) or summary == "User rejected tool use":
            step.extra.setdefault("rejected_call_ids", []).append(call_id)
        if record.flags.get("interrupted_tool"):
            step.extra.setdefault("interrupted_call_ids", []).append(call_id)
        if record.flags.get("agent_id"):
            step.extra.setdefault("subagents", {})[call_id] = f"agent-{record.flags['agent_id']}"

    def final_metrics(self) -> dict[str, Any]:
        prompt = sum(p for p, _ in self._usage.values())
        completion = sum(c for _, c in self._usage.values())
        return {"total_prompt_tokens": prompt, "total_completion_tokens": completion, "total_steps": len(self.steps)}


def join_text(existing: str | None, text: str) -> str:
    return f"{existing}\n\n{text}" if existing else text
