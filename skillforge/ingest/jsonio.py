"""Tolerant JSON readers for log files: JSONL line by line, whole documents, and the items of a
large array streamed with ijson (https://github.com/ICRAR/ijson). Bad records are reported to the
:class:`~skillforge.ingest.report.IngestReport` with file and line (or record index) and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from skillforge.ingest.report import IngestReport

LARGE_JSON_BYTES = 64 * 1024 * 1024
"""A single-document JSON file larger than this is streamed item by item (ijson) instead of
loaded whole, so that memory does not grow with the file."""


MAX_LINE_BYTES = 256 * 1024 * 1024
"""A JSONL line longer than this is reported and skipped unparsed (a runaway line, not a record)."""

READ_BUFFER_BYTES = 1024 * 1024
"""Read buffer of a JSONL file read line by line. Python's default is the file system's block size
(4 KiB here): a ``read`` call per 4 KiB, 40,000 per 270 MB of logs; with 1 MiB, lines are split
off in user space (reading the corpus's JSONL lines: 88 -> 35 ms per 142 MB)."""


def iter_jsonl(path: Path, report: IngestReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each JSON object line of a JSONL file, streaming.

    Blank lines are ignored. A line that is not valid JSON, or not a JSON object, is reported
    to ``report`` with its 1-based line number and skipped; the file is read on. A truncated
    last line (a log still being written) is reported the same way.

    Raises:
        OSError: when the file cannot be opened (callers report it per file).
    """
    loads, error = orjson.loads, orjson.JSONDecodeError
    with open(path, "rb", buffering=READ_BUFFER_BYTES) as handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > MAX_LINE_BYTES:
                report.problem(
                    path,
                    number,
                    f"line of {len(raw) // (1024 * 1024)} MiB is longer than the "
                    f"{MAX_LINE_BYTES // (1024 * 1024)} MiB limit; skipped",
                )
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
            report.problem(
                path,
                None,
                f"expected an array at {prefix.rsplit('.', 1)[0] if '.' in prefix else 'the top level'}; file skipped",
            )
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
