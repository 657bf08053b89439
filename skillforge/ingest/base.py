"""What every ingest format module shares: problem reporting and tolerant JSON readers.

A format module (one per log format, gathered in :mod:`skillforge.ingest.formats`) exposes:

* ``NAME: str`` — registry name, also written to ``Trajectory.source.format``;
* ``detect(path: Path, head: bytes) -> bool`` — decide from the first bytes of the file
  (``head``, at most :data:`HEAD_BYTES`), never from the file name alone;
* ``parse(path: Path, report: IngestReport) -> Iterator[Trajectory]`` — yield trajectories;
  bad records are reported to ``report`` with file and line (or record index) and skipped.

This mirrors pre-commit's ``pre_commit/languages/*.py`` + ``languages/all.py`` pattern
(DESIGN §6): adding a format is one module plus one registry line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

HEAD_BYTES = 64 * 1024
"""How many leading bytes of a file ``detect()`` gets to look at."""

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
    """What ingest made of one file: its detected format and how many trajectories it gave."""

    path: str
    format: str | None
    trajectories: int = 0


@dataclass
class IngestReport:
    """Collects problems and per-file results while files are ingested."""

    problems: list[Problem] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)

    def problem(self, path: Path | str, line: int | None, message: str, severity: Severity = "error") -> None:
        """Record a problem at ``path``/``line`` (see :class:`Problem`)."""
        self.problems.append(Problem(str(path), line, _one_line(message), severity))

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
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                report.problem(path, number, f"malformed JSON line skipped ({exc})")
                continue
            if not isinstance(record, dict):
                report.problem(path, number, f"expected a JSON object, got {type(record).__name__}; line skipped")
                continue
            yield number, record


def load_json(path: Path, report: IngestReport) -> Any | None:
    """Parse a whole JSON file; on failure report it (file-level) and return None."""
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        report.problem(path, None, f"not valid JSON ({exc}); file skipped")
        return None


def head_json_lines(head: bytes, limit: int = 5) -> list[dict[str, Any]]:
    """Parse up to ``limit`` complete leading JSON-object lines of ``head``; stop at the first that fails."""
    records: list[dict[str, Any]] = []
    lines = head.split(b"\n")
    if not head.endswith(b"\n"):
        lines = lines[:-1]  # the last line may be cut by the head limit
    for raw in lines:
        raw = raw.strip()
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
