"""ATIF files: Harbor's Agent Trajectory Interchange Format (read; writing is :func:`write_atif`).

Format (RFC ``docs/rfcs/0001-trajectory-format.md`` in laude-institute/harbor, v1.0–v1.4; later
versions add fields this reader ignores): one JSON object ``{schema_version: "ATIF-v1.x",
session_id, agent{name, version, model_name}, steps[{step_id, timestamp, source, message,
reasoning_content, tool_calls[{tool_call_id, function_name, arguments}], observation{results[
{source_call_id, content}]}, metrics{prompt_tokens, completion_tokens, cost_usd}, extra}],
final_metrics, extra}``. It is also the shape of :class:`~skillforge.trajectory.Trajectory`, so
reading is nearly one-to-one. ATIF has no outcome and no per-result error flag: files written by
skillforge keep them in ``extra.skillforge.outcome`` and the step's ``extra.error_call_ids``, and
this reader restores them; other producers' files get outcome unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import orjson

from skillforge.ingest.coerce import as_float, as_int, as_str, content_text
from skillforge.ingest.jsonio import load_object
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import mark
from skillforge.trajectory import ATIF_SCHEMA_VERSION, Agent, Outcome, SourceRef, StepMetrics, Trajectory

NAME = "atif"

_SOURCES = ("system", "user", "agent")


def detect(path: Path, head: bytes) -> bool:
    """True for an object whose ``schema_version`` starts with ``ATIF-``."""
    shape = sniff(head)
    if shape.kind != "object" or not mentions(head, "schema_version"):
        return False
    return str(shape.value("schema_version") or "").startswith("ATIF-")


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield the one trajectory of an ATIF file."""
    data = load_object(path, report, "steps")
    if data is None:
        return
    builder = StepBuilder()
    for index, raw in enumerate(data["steps"]):
        if not isinstance(raw, dict):
            report.problem(path, index, "step is not an object; skipped")
            continue
        source = raw.get("source") if raw.get("source") in _SOURCES else None
        if source is None:
            report.problem(path, index, f"step with unknown source {raw.get('source')!r}; read as agent", "warning")
        extra = dict(raw["extra"]) if isinstance(raw.get("extra"), dict) else {}
        errors = set(extra.pop("error_call_ids", None) or [])
        step = builder.step(
            source or "agent",
            content_text(raw.get("message")),
            timestamp=as_str(raw.get("timestamp")),
            reasoning_content=as_str(raw.get("reasoning_content")),
            extra=extra,
        )
        metrics = raw.get("metrics")
        if isinstance(metrics, dict):
            step.metrics = StepMetrics(
                as_int(metrics.get("prompt_tokens")),
                as_int(metrics.get("completion_tokens")),
                as_float(metrics.get("cost_usd")),
            )
        for call in raw.get("tool_calls") or []:
            if isinstance(call, dict):
                builder.call(step, call.get("tool_call_id"), call.get("function_name"), call.get("arguments"))
        observation = raw.get("observation")
        for result in (observation.get("results") if isinstance(observation, dict) else None) or []:
            if isinstance(result, dict):
                call_id = result.get("source_call_id")
                done = builder.result(call_id, result.get("content"), call_id in errors)
                holder = builder.step_of(done.source_call_id) or step
                if done.is_error and done.source_call_id not in (holder.extra.get("error_kinds") or {}):
                    mark(holder, done, "flag")  # the file's is_error; a kind it kept (extra) stays
    extra = dict(data["extra"]) if isinstance(data.get("extra"), dict) else {}
    ours = extra.pop("skillforge", None)
    outcome = Outcome()
    if isinstance(ours, dict) and isinstance(ours.get("outcome"), dict):
        try:
            outcome = Outcome(**ours["outcome"])
        except TypeError:
            report.problem(path, None, "extra.skillforge.outcome not understood; outcome unknown", "warning")
    if isinstance(ours, dict) and isinstance(ours.get("source"), dict):
        extra["original_source"] = ours["source"]
    agent_record = data.get("agent")
    agent = agent_record if isinstance(agent_record, dict) else {}
    yield Trajectory(
        session_id=as_str(data.get("session_id")) or path.stem,
        agent=Agent(
            name=as_str(agent.get("name")) or "unknown",
            version=as_str(agent.get("version")),
            model_name=as_str(agent.get("model_name")),
        ),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path)),
        outcome=outcome,
        final_metrics=data["final_metrics"] if isinstance(data.get("final_metrics"), dict) else None,
        extra=extra,
    )


def write_atif(
    trajectory: Trajectory, folder: Path, taken: set[str] | None = None, document: bytes | None = None
) -> Path:
    """Write ``trajectory`` as a standard ATIF v1.4 file in ``folder`` and return its path.

    The file is named after the session id (characters other than letters, digits, ``.``, ``_``
    and ``-`` become ``_``); ``taken`` (names already written in this run) gets a numeric suffix
    added on a clash. Written to a temporary name and renamed, so a crash never leaves half a file.

    Args:
        trajectory: what to write (only its session id is read when ``document`` is given).
        folder: created if missing.
        taken: names written so far in this run (updated).
        document: the file's bytes when already made (:func:`atif_document`, in a worker process).

    Raises:
        OSError: when the folder cannot be created or written.
    """
    import re

    folder.mkdir(parents=True, exist_ok=True)
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", trajectory.session_id).strip("._") or "trajectory"
    name, counter = base, 1
    while taken is not None and name in taken:
        counter += 1
        name = f"{base}-{counter}"
    if taken is not None:
        taken.add(name)
    target = folder / f"{name}.json"
    temporary = target.with_suffix(".json.tmp")
    temporary.write_bytes(atif_document(trajectory) if document is None else document)
    temporary.replace(target)
    return target


def atif_document(trajectory: Trajectory) -> bytes:
    """The bytes :func:`write_atif` writes for ``trajectory`` (:meth:`Trajectory.to_atif`, JSON
    indented by two spaces)."""
    return orjson.dumps(trajectory.to_atif(), option=orjson.OPT_INDENT_2)


def restamp(document: bytes, before: tuple[str, Outcome], after: tuple[str, Outcome]) -> bytes:
    """``document`` (from :func:`atif_document`) with the session id and outcome ``before`` replaced
    by ``after``: the bytes :func:`atif_document` gives for the trajectory as it is now.

    The session id sits at a fixed place at the top and the outcome is the document's last value,
    so both are spliced in; should the document be laid out otherwise (an ``extra`` of the log's own
    with a ``skillforge`` key), it is parsed, changed and written again.
    """
    (old_id, old_outcome), (new_id, new_outcome) = before, after
    head = _ATIF_HEAD + orjson.dumps(old_id)
    old_tail, new_tail = _outcome_tail(old_outcome), _outcome_tail(new_outcome)
    if document.startswith(head) and document.endswith(old_tail) and len(document) >= len(head) + len(old_tail):
        return _ATIF_HEAD + orjson.dumps(new_id) + document[len(head) : len(document) - len(old_tail)] + new_tail
    data = orjson.loads(document)
    data["session_id"] = new_id
    data["extra"]["skillforge"]["outcome"] = asdict(new_outcome)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2)


_ATIF_HEAD = b'{\n  "schema_version": ' + orjson.dumps(ATIF_SCHEMA_VERSION) + b',\n  "session_id": '


def _outcome_tail(outcome: Outcome) -> bytes:
    """How :func:`atif_document` ends: ``"outcome": {…}`` three levels deep, then the closing braces."""
    nested = orjson.dumps({"extra": {"skillforge": {"outcome": asdict(outcome)}}}, option=orjson.OPT_INDENT_2)
    return nested[nested.index(b'"outcome": ') :]
