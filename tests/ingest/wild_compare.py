"""Compare ``skillforge ingest`` with the upstream view of each log file (:mod:`tests.ingest.upstream`).

Run ``python -m tests.ingest.wild_compare FOLDER…`` to print, per file: the tool calls the
format defines against those ingest made, the user prompts found in user steps, calls whose
arguments came out empty although the raw record has them, and the trajectories and errors
ingest reported. ``tests/data/wild/FINDINGS.md`` was written from this output.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillforge.ingest import detect, ingest
from skillforge.ingest.report import IngestReport
from skillforge.trajectory import Outcome, Trajectory
from tests.ingest.upstream import READERS, Raw


@dataclass
class Comparison:
    """One file: the upstream view against what ingest made of it."""

    path: Path
    format: str | None
    raw: Raw | None
    trajectories: list[Trajectory]
    outcomes: list[Outcome]

    @property
    def calls(self) -> int:
        """Tool calls over all trajectories; a branch counts only past the steps it shares."""
        return sum(len(s.tool_calls) for t in self.trajectories for s in t.steps[int(t.extra.get("fork_step") or 0) :])

    @property
    def errors(self) -> int:
        """Tool results ingest marked as errors (each call id once)."""
        seen = set()
        for trajectory in self.trajectories:
            for step in trajectory.steps:
                for result in step.observation.results if step.observation else []:
                    if result.is_error:
                        seen.add((_conversation(trajectory), result.source_call_id, result.content[:80]))
        return len(seen)

    def prompts_missing(self) -> list[str]:
        """Upstream user prompts that no user step holds (compared on their first 200 characters)."""
        users = "\x00".join(_normal(s.message) for t in self.trajectories for s in t.steps if s.source == "user")
        return [p for p in (self.raw.prompts if self.raw else []) if not _found(p, users)]

    def unmatched_calls(self) -> int:
        """Upstream calls whose arguments no ingested call holds (compared as canonical JSON or as
        one argument's text): a command taken from the wrong place counts here."""
        ingested: set[str] = set()
        for trajectory in self.trajectories:
            for step in trajectory.steps:
                for call in step.tool_calls:
                    ingested.add(_canonical(call.arguments))
                    ingested.update(_canonical(v) for v in call.arguments.values())
        return sum(1 for arguments in (self.raw.calls if self.raw else []) if _canonical(arguments) not in ingested)

    def origins(self) -> str:
        """Outcome status/origin per trajectory, counted."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            key = f"{outcome.status}/{outcome.origin or '-'}"
            counts[key] = counts.get(key, 0) + 1
        return " ".join(f"{n} {k}" for k, n in sorted(counts.items()))

    def empty_arguments(self) -> int:
        """Calls ingest left with no arguments, against raw calls that have some."""
        ingested = sum(1 for t in self.trajectories for s in t.steps for c in s.tool_calls if not _filled(c.arguments))
        raw_empty = sum(1 for a in (self.raw.calls if self.raw else []) if not _filled(a))
        return max(0, ingested - raw_empty)


def _conversation(trajectory: Trajectory) -> str:
    """The session a branch or sidechain trajectory belongs to (they repeat its shared steps)."""
    return str(trajectory.extra.get("branch_of") or trajectory.session_id)


_OWNER_REDACTION = re.compile(r"\[REDACTED_(?:TEXT|MESSAGE) (len=\d+ sha=[0-9a-f]+)\]")
"""The marker the owner of one shared Codex fixture (madshn/localpush) put in place of every text;
the ``event_msg`` copy of a prompt says ``REDACTED_MESSAGE`` where its ``response_item`` copy says
``REDACTED_TEXT``, with the same length and hash: the same prompt."""


def _normal(text: str) -> str:
    return _OWNER_REDACTION.sub(r"[REDACTED \1]", " ".join(text.split()))


def _found(prompt: str, users: str) -> bool:
    """The prompt's first 200 characters (whitespace folded) inside one of the user texts."""
    head = _normal(" ".join(prompt.split())[:200])
    return bool(head) and head in users


def _canonical(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value.strip()
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, sort_keys=True)


def _filled(arguments: Any) -> bool:
    if isinstance(arguments, dict):
        return any(_filled(v) for v in arguments.values())
    if isinstance(arguments, str):
        return bool(arguments.strip()) and arguments.strip() not in ("{}", "null")
    return arguments is not None and arguments != [] and arguments != {}


def compare(path: Path) -> Comparison:
    """Read ``path`` with its format module (before redaction, which rewrites secrets in the text
    compared here) and the upstream way; outcomes are those ``ingest`` settles."""
    module = detect(path)
    if module is None:
        return Comparison(path, None, None, [], [])
    trajectories = list(module.parse(path, IngestReport()))
    reader = READERS.get(module.NAME)
    settled = [t.outcome for t in ingest([path], IngestReport(), jobs=1, whole=False)]
    return Comparison(path, module.NAME, reader(path) if reader else None, trajectories, settled)


def main(folders: list[str]) -> None:
    """Print one line per log file under ``folders``."""
    print(
        "file | format | trajectories | calls (upstream / ingest) | upstream calls not found | prompts missing | "
        "empty args | errors (ingest) | format errors (upstream) | outcomes"
    )
    for folder in folders:
        for path in sorted(
            p for p in Path(folder).rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".traj", ".eval")
        ):
            item = compare(path)
            if item.format is None:
                print(f"{path} | not recognised | 0 | - | - | - | - | - | - | -")
                continue
            raw = item.raw
            upstream = len(raw.calls) if raw else "-"
            missing = f"{len(item.prompts_missing())}/{len(raw.prompts)}" if raw else "-"
            print(
                f"{path} | {item.format} | {len(item.trajectories)} | {upstream} / {item.calls} | "
                f"{item.unmatched_calls() if raw else '-'} | {missing} | {item.empty_arguments()} | {item.errors} | "
                f"{raw.format_errors if raw else '-'} | {item.origins()}"
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["tests/data/wild"])
