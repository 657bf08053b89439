"""What ingest reports: problems with file and line, and what it made of each file.

Used by every format module (``report.problem(path, line, message)``) and by ``skillforge
ingest`` to print per-file counts; messages are redacted like trajectories.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from skillforge.secret_scan import redact_text

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
        skipped: why a file without a format was skipped (``binary``, ``unreadable``, ``not a known
            agent log format``); empty for a file that was read.
        origins: trajectories per outcome origin (``log``/``labels``/``judge``; ``none`` when unknown).
        truncated: trajectories whose capture stops mid-turn (``extra["truncated"]``).
    """

    path: str
    format: str | None
    trajectories: int = 0
    steps: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    outcomes: Counter = field(default_factory=Counter)
    redactions: Counter = field(default_factory=Counter)
    skipped: str = ""
    origins: Counter = field(default_factory=Counter)
    truncated: int = 0

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
            "outcome_origins": dict(self.origins),
            "truncated": self.truncated,
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

    def problem(
        self, path: Path | str, line: int | None, message: str, severity: Severity = "error", *, redacted: bool = False
    ) -> None:
        """Record a problem at ``path``/``line`` (see :class:`Problem`); secrets in the message are
        redacted, unless the caller says (``redacted=True``) that the message is fixed text around
        values that were redacted already (a trajectory's session id, say)."""
        message = _one_line(message)
        self.problems.append(Problem(str(path), line, message if redacted else redact_text(message)[0], severity))

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
