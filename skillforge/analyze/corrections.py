"""User corrections in interactive sessions: the user's own words about what the agent did wrong.

Found in the sessions of interactive agents (:data:`INTERACTIVE_FORMATS`: Claude Code, Codex, Gemini
CLI, OpenHands), where the user is a person (in benchmark logs the "user" is a simulator or a task statement):

* ``rejection`` — a tool call the user refused, with the reason they typed (Claude Code writes it after
  :data:`REASON_MARKER` in the refused call's result; a refusal without a reason is not a correction);
* ``interruption`` — the user stopped the agent (``extra.interrupted``) and their next own message
  redirects it (:data:`REDIRECT`);
* ``redirect`` — a user message, after the agent has acted, that redirects it (:data:`REDIRECT`:
  "no, use X", "don't …", "instead …", "stop …").

Context the harness injects (``extra.injected``: command caveats, task notifications, skill
expansions) is never read as the user's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skillforge.analyze.calls import CallRecord, shell_command
from skillforge.trajectory import Trajectory

INTERACTIVE_FORMATS = frozenset({"claude-code", "codex", "gemini-cli", "openhands"})
"""Formats whose "user" is a person typing (OpenHands: its GUI sessions; in its benchmark runs the only
user turns are the task and the harness's fixed "Please continue…", which redirect nothing)."""

REASON_MARKER = re.compile(r"the user said:\s*", re.IGNORECASE)
"""Claude Code's rejection text puts the user's reason after this (``…To tell you how to proceed, the user said:``)."""

REDIRECT = re.compile(
    r"^\s*(no\b[,.!]?|nope\b|stop\b|wait\b|don'?t\b|do not\b|never\b|instead\b|actually\b|rather\b"
    r"|please don'?t\b|undo\b|revert\b|that'?s (not|wrong)\b|not like that\b|wrong\b)"
    r"|\b(instead of|rather than|don'?t (use|do|run|touch|change|add|create|delete|edit)"
    r"|do not (use|do|run|touch|change|add|create|delete|edit)|use \S+ instead)\b",
    re.IGNORECASE,
)
"""The start or a phrase of a user message that corrects the agent."""

QUOTE_LIMIT = 300
"""The user's words are quoted up to this many characters."""


@dataclass
class Correction:
    """One user correction.

    Attributes:
        kind: ``rejection``, ``interruption`` or ``redirect``.
        step_id: the step that holds the user's words (the refused call's step for a rejection).
        words: the user's words, verbatim (whitespace collapsed, cut to :data:`QUOTE_LIMIT`).
        agent_step_id: the agent step the correction answers (None when there is none).
        agent_action: what the agent was doing: ``Bash `git push``` or ``a message``.
    """

    kind: str
    step_id: int
    words: str
    agent_step_id: int | None
    agent_action: str


def find_corrections(trajectory: Trajectory, records: list[CallRecord]) -> list[Correction]:
    """Every correction in ``trajectory`` (empty unless its format is interactive), in step order."""
    if trajectory.source.format not in INTERACTIVE_FORMATS:
        return []
    found: list[Correction] = []
    for record in records:
        if record.rejected and record.result:
            match = REASON_MARKER.search(record.result)
            reason = _clip(record.result[match.end() :]) if match else ""
            if reason:
                found.append(Correction("rejection", record.step_id, reason, record.step_id, describe_call(record)))
    by_step = {r.step_id: r for r in records}
    seen_agent = False
    interrupted = False
    last_agent: tuple[int | None, str] = (None, "")
    for step in trajectory.steps:
        if step.source == "agent":
            seen_agent = True
            call = next((r for r in records if r.step_id == step.step_id), None)
            last_agent = (step.step_id, describe_call(call) if call is not None else "a message")
            continue
        if step.source != "user" or step.extra.get("injected"):
            continue
        if step.extra.get("interrupted"):
            interrupted = True
            continue
        text = (step.message or "").strip()
        if not text or text.startswith("<") or not seen_agent:
            continue
        if REDIRECT.search(text):
            found.append(
                Correction("interruption" if interrupted else "redirect", step.step_id, _clip(text), *last_agent)
            )
        interrupted = False
    del by_step
    return sorted(found, key=lambda c: c.step_id)


def describe_call(record: CallRecord) -> str:
    """``Tool `first words of the command``` for shell calls, else ``Tool``."""
    command = shell_command(record.call)
    if command:
        head = " ".join(command.split()[:3]).replace("`", "'")
        return f"{record.call.function_name} `{head}`"
    return record.call.function_name


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1].rstrip() + "…"
