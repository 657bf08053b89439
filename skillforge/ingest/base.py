"""What every ingest format module shares: problem reporting and tolerant JSON readers.

A format module (one per log format, gathered in :mod:`skillforge.ingest.formats`) exposes:

* ``NAME: str`` — registry name, also written to ``Trajectory.source.format``;
* ``detect(path: Path, head: bytes) -> bool`` — decide from the first bytes of the file
  (``head``, at most :data:`HEAD_BYTES`), never from the file name alone;
* ``parse(path: Path, report: IngestReport) -> Iterator[Trajectory]`` — yield trajectories;
  bad records are reported to ``report`` with file and line (or record index) and skipped.

Format modules keep their known values in tuples, not sets: a field of the wrong type (a list
where a string belongs) must then compare unequal instead of raising ``unhashable type``.

This mirrors pre-commit's ``pre_commit/languages/*.py`` + ``languages/all.py`` pattern
(DESIGN §6): adding a format is one module plus one registry line.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import orjson

from skillforge.trajectory import (
    Observation,
    ObservationResult,
    Step,
    StepMetrics,
    StepSource,
    ToolCall,
)

HEAD_BYTES = 64 * 1024
"""How many leading bytes of a file ``detect()`` gets to look at."""

LARGE_JSON_BYTES = 64 * 1024 * 1024
"""A single-document JSON file larger than this is streamed item by item (ijson) instead of
loaded whole, so that memory does not grow with the file."""

MAX_LINE_BYTES = 256 * 1024 * 1024
"""A JSONL line longer than this is reported and skipped unparsed (a runaway line, not a record)."""

Severity = Literal["error", "warning"]


@dataclass
class Problem:
    """One thing that could not be read.

    Attributes:
        path: the file.
        line: 1-based line for JSONL, record index for JSON arrays, None for the whole file.
        message: what was wrong, in one line.
        severity: ``error`` (data was skipped) or ``warning`` (read, but something looked off).
    """

    path: str
    line: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass
class FileSummary:
    """What ingest made of one file.

    Attributes:
        path: the file.
        format: registry name of the detected format, None when no format recognised it.
        trajectories, steps, tool_calls, tool_errors: counts over the file's trajectories.
        outcomes: trajectories per outcome status (``success``/``failure``/``unknown``).
        redactions: secrets replaced per kind.
    """

    path: str
    format: str | None
    trajectories: int = 0
    steps: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    outcomes: Counter = field(default_factory=Counter)
    redactions: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (for ``skillforge ingest --json`` and the run manifest)."""
        return {
            "path": self.path,
            "format": self.format,
            "trajectories": self.trajectories,
            "steps": self.steps,
            "tool_calls": self.tool_calls,
            "tool_errors": self.tool_errors,
            "outcomes": dict(self.outcomes),
            "redactions": dict(self.redactions),
        }


@dataclass
class IngestReport:
    """Collects problems and per-file results while files are ingested.

    Attributes:
        problems: everything that could not be read (messages are redacted like trajectories).
        files: one :class:`FileSummary` per file looked at.
        redactions: secrets replaced per kind over all files (for the run manifest).
    """

    problems: list[Problem] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)
    redactions: Counter = field(default_factory=Counter)

    def problem(self, path: Path | str, line: int | None, message: str, severity: Severity = "error") -> None:
        """Record a problem at ``path``/``line`` (see :class:`Problem`); secrets in the message are redacted."""
        from skillforge.secrets import redact_text

        self.problems.append(Problem(str(path), line, redact_text(_one_line(message))[0], severity))

    @property
    def trajectories(self) -> int:
        """Trajectories read over all files."""
        return sum(f.trajectories for f in self.files)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def iter_jsonl(path: Path, report: IngestReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each JSON object line of a JSONL file, streaming.

    Blank lines are ignored. A line that is not valid JSON, or not a JSON object, is reported
    to ``report`` with its 1-based line number and skipped; the file is read on. A truncated
    last line (a log still being written) is reported the same way.

    Raises:
        OSError: when the file cannot be opened (callers report it per file).
    """
    loads, error = orjson.loads, orjson.JSONDecodeError
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > MAX_LINE_BYTES:
                report.problem(path, number, f"line of {len(raw) // (1024 * 1024)} MiB is longer than the {MAX_LINE_BYTES // (1024 * 1024)} MiB limit; skipped")
                continue
            try:
                record = loads(raw)  # JSON allows the newline around it: no stripped copy of the line
            except error:
                raw = raw.strip()  # a blank line, or one orjson reads only stripped (form feeds): as before
                if not raw:
                    continue
                try:
                    record = loads(raw)
                except error as exc:
                    report.problem(path, number, f"malformed JSON line skipped ({exc})")
                    continue
            if not isinstance(record, dict):
                report.problem(path, number, f"expected a JSON object, got {type(record).__name__}; line skipped")
                continue
            yield number, record


def load_json(path: Path, report: IngestReport) -> Any | None:
    """Parse a whole JSON file; on failure report it (file-level) and return None.

    Raises:
        OSError: when the file cannot be read (callers report it per file).
    """
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        report.problem(path, None, f"not valid JSON ({exc}); file skipped")
        return None


def load_object(path: Path, report: IngestReport, list_key: str) -> dict[str, Any] | None:
    """Parse a JSON file that must be an object with a list under ``list_key``; else report it
    (file-level) and return None.

    Raises:
        OSError: when the file cannot be read.
    """
    data = load_json(path, report)
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
        report.problem(path, None, f"expected a JSON object with a '{list_key}' list; file skipped")
        return None
    return data


def iter_json_items(path: Path, report: IngestReport, prefix: str = "item") -> Iterator[tuple[int, Any]]:
    """Yield ``(index, item)`` for the items of an array inside a JSON document.

    ``prefix`` is an ijson path: ``"item"`` for a top-level array, ``"simulations.item"`` for the
    ``simulations`` array of a top-level object. Files up to :data:`LARGE_JSON_BYTES` are parsed
    whole with orjson (fast); larger ones are streamed with ijson, one item in memory at a time.
    A document that breaks off (truncated, invalid) is reported with the index reached; the
    items before it are kept.

    Raises:
        OSError: when the file cannot be read.
    """
    if path.stat().st_size <= LARGE_JSON_BYTES:
        data = load_json(path, report)
        if data is None:
            return
        items: Any = data
        for key in prefix.split(".")[:-1]:
            items = items.get(key) if isinstance(items, dict) else None
        if not isinstance(items, list):
            report.problem(path, None, f"expected an array at {prefix.rsplit('.', 1)[0] if '.' in prefix else 'the top level'}; file skipped")
            return
        yield from enumerate(items)
        return
    import ijson

    index = -1
    try:
        with open(path, "rb") as handle:
            for index, item in enumerate(ijson.items(handle, prefix, use_float=True)):
                yield index, item
    except ijson.JSONError as exc:
        report.problem(path, index + 1, f"JSON breaks off after item {index} ({exc}); rest of the file skipped")


class Sniff:
    """What the first bytes of a file look like, for ``detect()`` functions.

    Attributes:
        kind: ``"object"`` (one JSON object), ``"array"`` (a JSON array), ``"jsonl"`` (several
            JSON objects, one per line) or None (not JSON). A JSONL file whose first line is longer
            than the head looks like ``"object"``: JSONL formats accept both.
        keys: top-level keys of the object (for ``jsonl``: of the first line), in file order, as far
            as the head reaches.
        values: scalar values at depth ≤ 3 by dotted path (``"info.exit_status"``,
            ``"item.role"`` for an array's items), first occurrence only.
        records: for ``jsonl``, the complete leading lines (at most 5), parsed.

    ``keys`` and ``values`` of an ``object`` or ``array`` come from walking the head's JSON events,
    which costs more than everything else detection does: they are worked out on first use, so a
    detector that looks only at ``kind`` (or at ``records``) never pays for them.
    """

    def __init__(self, kind: str | None, records: list[dict[str, Any]] | None = None, head: bytes = b"") -> None:
        self.kind = kind
        self.records = records or []
        self._head = head
        self._shape: tuple[list[str], dict[str, Any]] | None = None

    @property
    def keys(self) -> list[str]:
        """Top-level keys (see the class docstring)."""
        return self._walk()[0]

    @property
    def values(self) -> dict[str, Any]:
        """Scalar values by dotted path (see the class docstring)."""
        return self._walk()[1]

    def has(self, *keys: str) -> bool:
        """True when every key is a top-level key."""
        return all(key in self.keys for key in keys)

    def item_keys(self) -> set[str]:
        """Keys seen on the items of a top-level array."""
        return {path.split(".")[1] for path in self.values if path.startswith("item.") and path.count(".") >= 1}

    def _walk(self) -> tuple[list[str], dict[str, Any]]:
        if self._shape is None:
            if self.kind == "jsonl":
                self._shape = (list(self.records[0]), {})
            elif self.kind is None:
                self._shape = ([], {})
            else:
                self._shape = _head_shape(self._head, self.kind, self.records)
        return self._shape


def mentions(head: bytes, *names: str) -> bool:
    """True when one of ``names`` appears in ``head`` as a quoted JSON string (``"name"``).

    A necessary condition, cheap to test, for a name to be among a head's keys: detectors ask it
    before they read :attr:`Sniff.keys` or :attr:`Sniff.values`, whose walk of the head's JSON
    events costs far more. (A key spelled with ``\\u`` escapes would not be mentioned; no log
    writer does that.)
    """
    return any(b'"%s"' % name.encode() in head for name in names)


@lru_cache(maxsize=4)
def sniff(head: bytes) -> Sniff:
    """Look at ``head`` (the first bytes of a file) without parsing the whole file.

    Parses with ijson's event parser until the head runs out, so keys and values that sit within
    :data:`HEAD_BYTES` are found even when the document is much larger.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped[:1] in (b"{", b"["):
        return Sniff(None)
    records = head_json_lines(stripped)
    if records and (len(records) >= 2 or stripped.split(b"\n", 1)[-1].strip()):
        return Sniff("jsonl", records)
    return Sniff("array" if stripped[:1] == b"[" else "object", records, stripped)


def _head_shape(stripped: bytes, kind: str, records: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """Top-level keys and shallow scalar values of a (possibly cut) JSON document, by its events."""
    keys: list[str] = []
    values: dict[str, Any] = {}
    import io

    import ijson

    try:
        for prefix, event, value in ijson.parse(io.BytesIO(stripped), use_float=True):
            if event == "map_key":
                if not prefix:
                    keys.append(value)
                elif prefix.count(".") <= 1:
                    values.setdefault(f"{prefix}.{value}", None)
            elif event in ("string", "number", "boolean") and values.get(prefix) is None and prefix.count(".") <= 2:
                values[prefix] = value
    except Exception:  # the head ends mid-document (or is not JSON after all): keep what was seen
        pass
    if kind == "object" and len(records) == 1 and not keys:
        keys = list(records[0])
    return keys, values


@lru_cache(maxsize=4)
def head_json_lines(head: bytes, limit: int = 5) -> list[dict[str, Any]]:
    """Parse up to ``limit`` complete leading JSON-object lines of ``head``; stop at the first that fails.

    The result is shared between callers (the detectors of one file): do not change it.
    """
    records: list[dict[str, Any]] = []
    start = 0
    while (end := head.find(b"\n", start)) != -1:  # a last line without its newline may be cut: never read
        raw = head[start:end].strip()
        start = end + 1
        if not raw:
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            break
        if not isinstance(record, dict):
            break
        records.append(record)
        if len(records) >= limit:
            break
    return records


def literal(raw: Any) -> Any:
    """Decode a value that a log stored as text: JSON first, then a Python literal (SWE-agent
    writes ``tool_calls`` as ``repr()`` of a list); anything else is returned unchanged."""
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return raw


def as_str(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None (logs put odd types in every field)."""
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    """``value`` when it is an integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    """``value`` as a float when it is a number (not a bool), else None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse_arguments(raw: Any) -> dict[str, Any]:
    """Turn tool-call arguments into a dict, leniently.

    Formats store arguments as a dict or as a JSON string written by a model (which may be
    invalid). Dicts pass through; a string that parses to a dict is used; anything else is
    kept as ``{"_raw": <text>}`` so no information is lost.
    """
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {"_raw": raw}
        return value if isinstance(value, dict) else {"_raw": raw}
    return {"_raw": raw}


def content_text(content: Any) -> str:
    """Flatten message content (a string, or a list of text/image blocks) into text.

    Handles the Anthropic and OpenAI block shapes (``{"type": "text", "text": ...}``); images
    become ``[image]`` so no base64 reaches analysts.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict):
                kind = block.get("type")
                if kind in ("text", "input_text", "output_text"):
                    parts.append(str(block.get("text", "")))
                elif kind in ("image", "image_url", "input_image"):
                    parts.append("[image]")
                elif "text" in block:
                    parts.append(str(block["text"]))
                elif "content" in block:
                    parts.append(content_text(block["content"]))
        return "\n".join(p for p in parts if p)
    return str(content)


class StepBuilder:
    """Builds the ATIF steps of one trajectory from messages, tool calls and tool results.

    Results are attached to the step that holds their call (matched by call id); a result whose
    call is unknown becomes its own agent step marked ``extra.orphan_result``. Used by every format
    module so that this folding is written once.
    """

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._call_step: dict[str, Step] = {}
        self._pending: list[str] = []

    def step(self, source: StepSource, message: str = "", **fields: Any) -> Step:
        """Append a new step (``step_id`` is its 1-based position) and return it."""
        step = Step(len(self.steps) + 1, source, message or "", **fields)
        self.steps.append(step)
        return step

    def call(self, step: Step, call_id: Any, name: Any, arguments: Any) -> ToolCall:
        """Add a tool call to ``step``; ``arguments`` are parsed leniently (:func:`parse_arguments`)."""
        call_id = str(call_id) if call_id not in (None, "") else f"step{step.step_id}-call{len(step.tool_calls) + 1}"
        call = ToolCall(call_id, str(name) if name not in (None, "") else "?", parse_arguments(arguments))
        step.tool_calls.append(call)
        self._call_step[call_id] = step
        self._pending.append(call_id)
        return call

    def result(self, call_id: Any, content: Any, is_error: bool = False, **orphan_fields: Any) -> ObservationResult:
        """Attach a tool result to the step of call ``call_id``.

        With ``call_id`` None the result answers the oldest call still without one (formats that
        pair results by order). Returns the result added.
        """
        if call_id in (None, "") and self._pending:
            call_id = self._pending[0]
        call_id = None if call_id in (None, "") else str(call_id)
        step = self._call_step.get(call_id) if call_id is not None else None
        if step is None:
            step = self.step("agent", extra={"orphan_result": True}, **orphan_fields)
        if step.observation is None:
            step.observation = Observation()
        result = ObservationResult(call_id, content_text(content), bool(is_error))
        step.observation.results.append(result)
        if call_id in self._pending:
            self._pending.remove(call_id)
        return result

    def step_of(self, call_id: str | None) -> Step | None:
        """The step holding call ``call_id``, or None."""
        return self._call_step.get(call_id) if call_id is not None else None

    def last(self, source: StepSource | None = None) -> Step | None:
        """The last step (of ``source``, if given), or None."""
        for step in reversed(self.steps):
            if source is None or step.source == source:
                return step
        return None


def add_chat_messages(builder: StepBuilder, messages: list[Any], error_of: Any = None, skip: Any = None) -> None:
    """Fold an OpenAI Chat Completions message list into ``builder``'s steps.

    Handles ``system``/``developer`` (system steps), ``user``, ``assistant`` (``tool_calls`` in the
    OpenAI shape ``{id, function{name, arguments}}`` or the flat ``{id, name|function, arguments}``
    of tau2 and Inspect, legacy ``function_call``), ``tool``/``function`` results
    (``tool_call_id``; ``error`` fields mark failures), and content given as a string or a list
    of parts. Reasoning parts go to ``reasoning_content``.

    Args:
        builder: where steps go.
        messages: the message list.
        error_of: optional ``(message, text) -> bool`` deciding whether a tool result is an error
            beyond the explicit ``error``/``is_error`` fields (tau-bench: text starts with ``Error``).
        skip: optional ``message -> bool``; messages it accepts are left out (demonstrations).

    Raises:
        TypeError / ValueError: on a message that is not an object or has an unknown role; the
        caller reports the trajectory as skipped.
    """
    for message in messages:
        if not isinstance(message, dict):
            raise TypeError(f"a message is {type(message).__name__}, not an object")
        if skip is not None and skip(message):
            continue
        get = message.get
        role = get("role")
        if not isinstance(role, str):
            role = repr(role)
        content = get("content")
        if role == "tool" or role == "function":
            if not isinstance(get("tool_call_id", get("id", "")), (str, int, type(None))):
                raise TypeError("a tool message's call id is not a string")
            text = content_text(content)
            error = get("error")
            is_error = bool(error) or bool(get("is_error"))
            if isinstance(error, dict) and error.get("message") and error["message"] not in text:
                text = f"{text}\n{error['message']}".strip()
            if not is_error and error_of is not None:
                is_error = bool(error_of(message, text))
            call_id = get("tool_call_id") or get("id") if role == "tool" else None
            timestamp = get("timestamp")
            builder.result(call_id, text, is_error, timestamp=timestamp if isinstance(timestamp, str) else None)
            continue
        source = _CHAT_SOURCE.get(role)
        if source is None:
            raise ValueError(f"unknown message role {role!r}")
        text, reasoning = (content, None) if isinstance(content, str) else _text_and_reasoning(content)
        reasoning = reasoning or get("reasoning_content") or get("reasoning") or None
        timestamp = get("timestamp")
        step = builder.step(
            source,
            text,
            timestamp=timestamp if isinstance(timestamp, str) else None,
            reasoning_content=reasoning if isinstance(reasoning, str) else None,
        )
        if role == "assistant":
            usage = get("usage")
            if isinstance(usage, dict):
                step.metrics = StepMetrics(
                    as_int(usage.get("prompt_tokens", usage.get("input_tokens"))),
                    as_int(usage.get("completion_tokens", usage.get("output_tokens"))),
                    as_float(get("cost")),
                )
        calls = get("tool_calls")
        if calls:
            if isinstance(calls, str):
                calls = literal(calls) or ()
            for call in calls:
                if not isinstance(call, dict):
                    continue
                function = call.get("function")
                if isinstance(function, dict):
                    name, arguments = function.get("name"), function.get("arguments")
                else:
                    name, arguments = call.get("name") or function, call.get("arguments")
                builder.call(step, call.get("id"), name, arguments)
                if call.get("requestor") == "user" or role == "user":
                    step.extra.setdefault("user_call_ids", []).append(step.tool_calls[-1].tool_call_id)
        legacy = get("function_call")
        if legacy is not None and isinstance(legacy, dict):
            builder.call(step, None, legacy.get("name"), legacy.get("arguments"))


_CHAT_SOURCE: dict[str, StepSource] = {"system": "system", "developer": "system", "user": "user", "assistant": "agent"}


def _text_and_reasoning(content: Any) -> tuple[str, str | None]:
    """Split content parts into visible text and reasoning (``reasoning``/``thinking`` parts)."""
    if not isinstance(content, list):
        return content_text(content), None
    texts, reasoning = [], []
    for part in content:
        if isinstance(part, dict) and part.get("type") in ("reasoning", "thinking"):
            value = part.get("reasoning") or part.get("thinking") or part.get("text") or part.get("summary")
            if isinstance(value, str) and value.strip():
                reasoning.append(value)
        else:
            texts.append(part)
    return content_text(texts), "\n\n".join(reasoning) or None
