"""Claude Code session transcripts (``~/.claude/projects/<encoded-cwd>/<sessionId>.jsonl``).

Format (no official schema; see ``shared/docs/trace-formats.md`` §2 and the real files in
``shared/traces/claude-code``): one JSON record per line, ``type`` in ``user``, ``assistant``,
``system``, ``summary``, ``progress``, ``file-history-snapshot``, ``queue-operation``; records
form a tree through ``uuid``/``parentUuid``.

What this module does:

* **streams**: each line is reduced at once to a light record (:class:`~skillforge.ingest.claude_records.Record`: ids, links and the
  text the steps need; never the raw record with its ``toolUseResult`` copies of whole files,
  ``progress`` output or usage blocks); ``file-history-snapshot`` and ``queue-operation`` lines are
  dropped, ``progress`` lines keep only their links (messages may hang off them). A file holding
  several sessions one after another (a ``sessionId`` change, or a ``uuid`` seen again) is split
  and each session is built and yielded before the next is read, so memory is bounded by one
  session, not by the file;
* follows the **main line**: the chain of ``parentUuid`` links ending at the last message record
  (``compact_boundary`` records continue through ``logicalParentUuid``), plus the side branches
  parallel tool calls hang their results on;
* keeps every **other branch** (a rewind, an edit-and-resend, an inline ``isSidechain`` subagent)
  as its own trajectory, root to leaf, linked to the main one by ``extra.branch_of`` (session id
  ``<session>/branch-<n>``, or ``/sidechain-<n>``), with ``extra.fork_step`` = the number of steps
  it shares with the main line;
* groups the content blocks of one API response, written as several records sharing
  ``message.id``, into one agent step (text → ``message``, ``thinking`` → ``reasoning_content``,
  ``tool_use`` → ``tool_calls``); token usage is taken once per response, not summed per record;
* attaches each ``tool_result`` block to the step holding its ``tool_use`` (``is_error`` kept; a
  ``toolUseResult`` error string such as ``"Error: Exit code 1"`` also marks an error);
* marks injected user text (``isMeta``, slash-command wrappers, ``<system-reminder>``…) and
  compaction summaries (``isCompactSummary``) as not user intent (``extra.injected`` /
  ``extra.compaction_summary``), and user interruptions, tool-use rejections and interrupted Bash
  runs as failure signals (``extra.interrupted``, ``extra.rejected_call_ids``,
  ``extra.interrupted_call_ids``);
* old ``summary`` records (``{summary, leafUuid}``) become ``extra.summaries``;
* subagent transcripts (``<session>/subagents/agent-<id>.jsonl``, records with ``agentId``)
  become their own trajectories, linked through ``extra.parent_session_id``; the parent's step
  holding the ``Task`` call lists them in ``extra.subagents`` (call id → subagent session id);
  compaction helper transcripts (``agent-acompact-*``) are not agent work and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillforge.ingest.claude_records import RECORD_TYPES, Record, RecordTree, Segment
from skillforge.ingest.claude_resume import continued_in, defers, prefix_of
from skillforge.ingest.claude_steps import StepAssembler
from skillforge.ingest.jsonio import iter_jsonl
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import head_json_lines, mentions, sniff
from skillforge.trajectory import (
    Agent,
    Outcome,
    SourceRef,
    Trajectory,
)

NAME = "claude-code"


def detect(path: Path, head: bytes) -> bool:
    """True when the leading lines are Claude Code records (``type`` + ``sessionId``/``uuid``)."""
    records = head_json_lines(head)
    if records:
        return any(
            r.get("type") in RECORD_TYPES and ("sessionId" in r or "uuid" in r or r.get("type") == "summary")
            for r in records
        ) and all("type" in r for r in records)
    # a first line longer than the head: look at the keys of that one record
    shape = sniff(head)
    if shape.kind != "object" or not mentions(head, "sessionId", "parentUuid", "uuid"):
        return False
    return "type" in shape.keys and bool({"sessionId", "parentUuid", "uuid"} & set(shape.keys))


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the trajectories of one Claude Code transcript file: the main line, then its other
    branches; none for compaction helpers. Several sessions in one file are read one at a time."""
    segment = Segment()
    for number, raw in iter_jsonl(path, report):
        record = _light(path, report, number, raw)
        if record is None:
            continue
        if segment.starts_new_session(record):
            yield from _conversation(path, report, segment)
            segment = Segment()
        segment.add(record)
    yield from _conversation(path, report, segment)


def _light(path: Path, report: IngestReport, number: int, raw: dict[str, Any], quiet: bool = False) -> Record | None:
    """The light record of one line, or None (reported unless ``quiet``) for lines steps never use."""
    kind = raw.get("type")
    if kind in ("file-history-snapshot", "queue-operation"):
        return None
    if kind is None or kind not in RECORD_TYPES:
        if not quiet:
            what = "record without 'type'" if kind is None else f"unknown record type {kind!r}"
            report.problem(path, number, f"{what} skipped", "warning")
        return None
    try:
        return Record.of(number, raw)
    except (TypeError, ValueError, AttributeError) as exc:
        if not quiet:
            report.problem(path, number, f"record skipped: {type(exc).__name__}: {exc}")
        return None


def _conversation(path: Path, report: IngestReport, segment: Segment) -> Iterator[Trajectory]:
    """The trajectories of one conversation, joined to the sibling session files it continues
    (:func:`~skillforge.ingest.claude_resume.prefix_of`); none when it goes on in a sibling, which
    reads it whole (:func:`~skillforge.ingest.claude_resume.continued_in`)."""
    if segment.records and not any(r.agent_id or r.sidechain for r in segment.records[:3]):
        later = continued_in(path, segment.uuids)
        if later is not None and defers(path, later, segment.external_parent()):
            line = segment.records[0].line
            report.problem(path, line, f"conversation continues in {later.name}; read there, whole", "warning")
            return
        parent = segment.external_parent()
        if parent is not None:
            try:
                lines, files = prefix_of(path, parent)
            except OSError as exc:
                lines, files = [], []
                line = segment.records[0].line
                report.problem(path, line, f"cannot read the session this one continues: {exc}", "warning")
            if lines:
                earlier = Segment()
                for number, raw in lines:
                    record = _light(path, report, number, raw, quiet=True)
                    if record is not None:
                        earlier.add(record)
                segment = earlier.joined(segment, [str(f) for f in files])
    yield from _trajectories(path, report, segment)


def _trajectories(path: Path, report: IngestReport, segment: Segment) -> Iterator[Trajectory]:
    records = segment.records
    if not records:
        return
    agent_id = next((r.agent_id for r in records if r.agent_id), None)
    if agent_id and agent_id.startswith("acompact"):
        return  # the compaction helper's own transcript: a summary request, not agent work
    session_id = segment.session or path.stem
    extra: dict[str, Any] = {}
    if len(segment.sessions) > 1:
        extra["session_ids"] = list(segment.sessions)  # one conversation over several sessions
    if segment.continues:
        extra["continues_files"] = segment.continues
    summaries = [r.flags["summary"] for r in records if r.type == "summary" and r.flags.get("summary")]
    if summaries:
        extra["summaries"] = summaries
    first = next((r for r in records if r.cwd), None)
    if first is not None:
        extra["cwd"] = first.cwd
        if first.branch:
            extra["gitBranch"] = first.branch
    if agent_id:
        extra["parent_session_id"] = session_id
        extra["agent_id"] = agent_id
        session_id = f"{session_id}/agent-{agent_id}"
    tree = RecordTree(records)
    main = tree.main_line()
    trajectory = _build(path, report, session_id, main, extra, segment.session or path.stem)
    if trajectory is None:
        report.problem(path, records[0].line, "no user or assistant messages in the transcript", "warning")
        return
    yield trajectory
    if not tree.linked:
        return
    main_ids = {id(r) for r in main}
    for number, (branch, sidechain) in enumerate(tree.other_branches(main), start=1):
        label = "sidechain" if sidechain else "branch"
        shared = sum(1 for r in branch if id(r) in main_ids)
        fork = _build(
            path,
            report,
            f"{session_id}/{label}-{number}",
            branch,
            {**extra, "branch_of": session_id, "sidechain": sidechain},
            segment.session or path.stem,
        )
        if fork is not None:
            fork.extra["fork_step"] = _steps_of(branch[:shared]) if shared else 0
            yield fork


def _build(
    path: Path, report: IngestReport, session_id: str, records: list[Record], extra: dict[str, Any], parent: str
) -> Trajectory | None:
    builder = StepAssembler(path, report)
    for record in records:
        builder.add(record)
    if not builder.steps:
        return None
    for step in builder.steps:
        if "subagents" in step.extra:  # Task calls: the subagent transcripts' session ids
            step.extra["subagents"] = {call: f"{parent}/{agent}" for call, agent in step.extra["subagents"].items()}
    return Trajectory(
        session_id=session_id,
        agent=Agent(name="claude-code", version=builder.version, model_name=builder.model),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path), line=records[0].line),
        outcome=Outcome(),
        final_metrics=builder.final_metrics(),
        extra=dict(extra),
    )


def _steps_of(records: list[Record]) -> int:
    """How many steps ``records`` build (user/system/compaction records and distinct responses)."""
    responses = {r.message_id or r.uuid for r in records if r.type == "assistant"}
    others = sum(1 for r in records if r.type in ("user", "system") and any(k == "text" for k, _ in r.blocks))
    return len(responses) + others
