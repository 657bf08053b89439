"""Gemini CLI JSONL session files, folded into the conversation they record.

Newer Gemini CLI versions append to ``~/.gemini/tmp/<projectHash>/chats/session-*.jsonl`` instead
of rewriting a JSON file. The rules are those of ``loadConversationRecord`` in
``packages/core/src/services/chatRecordingService.ts`` (google-gemini/gemini-cli), applied line
by line:

* a record with string ``sessionId`` and ``projectHash`` is metadata (the header line; a legacy
  whole-session record on one line also brings its ``messages``);
* a record with a string ``id`` is a message; a later record with the same id replaces the
  earlier one in its place (a tool call's result is written by rewriting its message);
* ``{"$set": {…}}`` updates the metadata; a ``messages`` list in it replaces all messages
  (a checkpoint);
* ``{"$rewindTo": id}`` drops that message and every later one (a rewind in the CLI); an unknown
  id drops them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillforge.ingest.jsonio import iter_jsonl
from skillforge.ingest.report import IngestReport


def load_jsonl_session(path: Path, report: IngestReport) -> dict[str, Any] | None:
    """The session of a JSONL file as one ``ConversationRecord`` (``{sessionId, projectHash, …,
    messages[]}``), or None (reported) when no metadata line names the session.

    Bad lines are reported with their line number and skipped, as ``iter_jsonl`` does.

    Raises:
        OSError: when the file cannot be read.
    """
    metadata: dict[str, Any] = {}
    messages: dict[str, dict[str, Any]] = {}
    for number, record in iter_jsonl(path, report):
        if isinstance(record.get("$rewindTo"), str):
            ids = list(messages)
            cut = ids.index(record["$rewindTo"]) if record["$rewindTo"] in ids else 0
            for key in ids[cut:]:
                del messages[key]
        elif isinstance(record.get("id"), str):
            messages[record["id"]] = record
        elif isinstance(record.get("$set"), dict):
            update = record["$set"]
            if isinstance(update.get("messages"), list):
                messages = _by_id(update["messages"])
            metadata.update({k: v for k, v in update.items() if k != "messages"})
        elif isinstance(record.get("sessionId"), str) and isinstance(record.get("projectHash"), str):
            metadata.update({k: v for k, v in record.items() if k != "messages"})
            if isinstance(record.get("messages"), list):
                messages.update(_by_id(record["messages"]))
        else:
            report.problem(
                path, number, "record that is neither metadata, a message, $set nor $rewindTo skipped", "warning"
            )
    if not metadata.get("sessionId"):
        report.problem(path, None, "no session metadata line (sessionId, projectHash); file skipped")
        return None
    return {**metadata, "messages": list(messages.values())}


def _by_id(messages: list[Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in messages if isinstance(m, dict) and isinstance(m.get("id"), str)}
