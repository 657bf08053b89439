"""Error → fix pairs: the retry of the same attempt that got past a failed call, and what it changed.

A recovery of the failed call ``records[i]`` is the first later call with the same intent
(:func:`skillforge.analyze.calls.same_intent`: the same tool and a program, file or record in common) that
succeeded, within :data:`RECOVERY_WINDOW` calls. A different command after a failure is not a
correction, so it is never taken for one.

What the fix was is reported as the difference, not the whole next call (:class:`Change`):

* the arguments that changed: for a shell command, the words added, removed or replaced
  (:func:`difflib.SequenceMatcher` over :func:`shlex.split` words of its first line); for structured
  arguments, each changed key with its old and new value (list items added or removed);
* when the retry is identical, the edits made in between (the fix was to a file, not to the call);
* where a new value came from: the latest earlier result of another tool that contains it
  (``payment_id`` ← a ``get_user_details`` result).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import orjson

from skillforge.analyze.actions import action_of
from skillforge.analyze.calls import CallRecord, command_targets, same_intent, shell_command

RECOVERY_WINDOW = 8
"""How many later calls are searched for a successful retry of the same attempt."""

LABEL_ARGUMENTS = frozenset(
    {
        "description",
        "timeout",
        "thought",
        "yield_time_ms",
        "max_output_tokens",
        "is_input",
        "blocking",
        "is_static",
        "hidden",
        "confirmation_state",
        "security_risk",
        "session_id",
    }
)
"""Arguments that label, pace or point a call without changing what it does (Claude Code's Bash
``description``, Codex's ``yield_time_ms`` and process ``session_id``, OpenHands' ``confirmation_state``):
not part of a change."""

WHITESPACE_ONLY = "(whitespace)"
"""Stands for both sides of a string change that only moved whitespace."""

MIN_SOURCED_VALUE = 4
"""A new value shorter than this many characters is not traced back to an earlier result (too common)."""


@dataclass
class Change:
    """What the retry changed.

    Attributes:
        arguments: names of the changed arguments (``command`` for a shell command), in call order.
        words: for a shell command, ``(removed, added)`` word runs, each a string ('' for none).
        values: for structured arguments, ``{argument: (old, new)}`` as compact JSON texts; for list
            arguments the items removed and added: ``{"flights": ("-[…]", "+[…]")}``.
        edits: ``(step id, file name)`` of the edits made between an identical retry and the failure.
        sources: ``{argument: tool}`` — the tool whose earlier result holds the new value.
    """

    arguments: list[str] = field(default_factory=list)
    words: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, tuple[str, str]] = field(default_factory=dict)
    edits: list[tuple[int, str]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        """The retry sent the same arguments (the fix, if any, is in :attr:`edits`)."""
        return not self.arguments

    def describe(self, limit: int = 120) -> str:
        """One phrase: ``added `--set-upstream origin main```, ```payment_id`: `a` → `b```,
        ``edited the files first (step 9)``…"""
        parts = []
        for removed, added in self.words[:3]:
            if removed and added:
                parts.append(f"`{_cut(removed)}` → `{_cut(added)}`")
            elif added:
                parts.append(f"added `{_cut(added)}`")
            else:
                parts.append(f"removed `{_cut(removed)}`")
        for name, (old, new) in list(self.values.items())[:3]:
            if old == WHITESPACE_ONLY:
                parts.append(
                    f"`{name}`: indentation or spacing changed"
                    if name != "text below the command line"
                    else "indentation or spacing of the text changed"
                )
            elif old.startswith("-") and new.startswith("+"):
                kept = [x for x in (old[1:] and f"removed {_cut(old[1:])}", new[1:] and f"added {_cut(new[1:])}") if x]
                parts.append(f"`{name}`: " + ", ".join(kept))
            else:
                parts.append(f"`{name}`: `{_cut(old)}` → `{_cut(new)}`")
        if self.identical and self.edits:
            files = list(dict.fromkeys(f"`{name}`" if name else f"a file (step {step})" for step, name in self.edits))
            parts.append(f"the same call again after editing {', '.join(files[:3])}")
        text = "; ".join(parts)
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def find_recovery(records: Sequence[CallRecord], index: int) -> CallRecord | None:
    """The first later successful call with the same intent as ``records[index]``, within the window,
    that was started after the failure was seen: a poll of another command started before it (Codex's
    ``write_stdin`` to a parallel ``exec_command``) is another attempt, not a retry; a poll of the
    failed call's own command is the same attempt."""
    failed = records[index]
    for later in records[index + 1 : index + 1 + RECOVERY_WINDOW]:
        if later.rejected or not same_intent(failed, later):
            continue
        if later.started_by is not failed.started_by and _started_at(records, later) < failed.index:
            continue
        if not later.is_error:
            return later
    return None


def _started_at(records: Sequence[CallRecord], record: CallRecord) -> int:
    """Index of the call that started ``record``'s command (:attr:`CallRecord.started_by`), else its own."""
    if record.started_by is None:
        return record.index
    return next((r.index for r in records if r.call is record.started_by), record.index)


def change_between(records: Sequence[CallRecord], failed: CallRecord, retry: CallRecord) -> Change:
    """What ``retry`` changed relative to ``failed`` (module doc)."""
    change = Change()
    command_before, command_after = shell_command(failed.effective), shell_command(retry.effective)
    if command_before is not None and command_after is not None:
        old_words, new_words = _words(command_before), _words(command_after)
        if old_words != new_words:
            change.arguments.append("command")
            matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
            for op, a0, a1, b0, b1 in matcher.get_opcodes():
                if op != "equal":
                    change.words.append((" ".join(old_words[a0:a1]), " ".join(new_words[b0:b1])))
        if _body(command_before) != _body(command_after):
            if "command" not in change.arguments:
                change.arguments.append("command")
            change.values["text below the command line"] = _string_change(_body(command_before), _body(command_after))
    before, after = _substance(failed.call.arguments), _substance(retry.call.arguments)
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if _json(old) == _json(new) or (key in ("command", "cmd") and command_before is not None):
            continue
        change.arguments.append(key)
        if isinstance(old, list) and isinstance(new, list):
            old_items, new_items = [_json(x) for x in old], [_json(x) for x in new]
            removed = [x for x in old_items if x not in new_items]
            added = [x for x in new_items if x not in old_items]
            change.values[key] = ("-" + ", ".join(removed), "+" + ", ".join(added))
        elif isinstance(old, str) and isinstance(new, str):
            change.values[key] = _string_change(old, new)
        else:
            change.values[key] = (_plain(old), _plain(new))
        source = _value_source(records, failed, retry, new)
        if source:
            change.sources[key] = source
    if not change.arguments:
        change.edits = [
            (r.step_id, _edited_name(r))
            for r in records[failed.index + 1 : retry.index]
            if action_of(r).label == "edit" and not r.is_error
        ]
    return change


def _body(command: str) -> str:
    return command.strip().partition("\n")[2]


def _string_change(old: str, new: str) -> tuple[str, str]:
    """The part of two long strings that differs (with a little context), or a note on whitespace."""
    if len(old) <= 60 and len(new) <= 60:
        return old, new
    if old.split() == new.split():
        return WHITESPACE_ONLY, WHITESPACE_ONLY
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op != "equal":
            return old[max(0, a0 - 10) : a1 + 10], new[max(0, b0 - 10) : b1 + 10]
    return old, new


def _edited_name(record: CallRecord) -> str:
    arguments = record.call.arguments
    for key in ("file_path", "path", "filePath", "notebook_path"):
        if isinstance(arguments.get(key), str):
            return arguments[key].rsplit("/", 1)[-1]
    command = shell_command(record.effective) or ""
    targets = [t for t in command_targets(command) if "." in t.rsplit("/", 1)[-1]]
    return targets[-1].rsplit("/", 1)[-1] if targets else ""


def _value_source(records: Sequence[CallRecord], failed: CallRecord, retry: CallRecord, value: Any) -> str | None:
    if not isinstance(value, str | int) or len(str(value)) < MIN_SOURCED_VALUE:
        return None
    text = str(value)
    for earlier in reversed(records[: retry.index]):
        if earlier.index == failed.index or earlier.call.function_name == retry.call.function_name:
            continue
        if earlier.result and not earlier.is_error and text in earlier.result:
            return earlier.call.function_name
    return None


def _substance(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if k not in LABEL_ARGUMENTS}


def _words(command: str) -> list[str]:
    line = command.strip().splitlines()[0] if command.strip() else ""
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _cut(text: str, limit: int = 60) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n\t " else ch.encode("unicode_escape").decode() for ch in text)
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
