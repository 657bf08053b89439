"""Dump what ``skillforge ingest`` makes of some logs, to compare two versions of ingest.

``python -m tests.ingest.dump_trajectories OUT.json LOGS…`` writes the ``ingest --json`` report
and, per trajectory, its id, outcome, extra and every step (source, message, tool calls with
arguments, results with their error flag), as JSON. Run it before and after a change to ingest and
compare the two files with ``python -m tests.ingest.dump_trajectories --diff BEFORE.json AFTER.json``,
which prints every trajectory that appeared, disappeared or changed, and how.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from skillforge.ingest import ingest
from skillforge.ingest.command import run_ingest
from skillforge.ingest.report import IngestReport


def dump(paths: list[Path]) -> dict[str, Any]:
    """The ``--json`` report and every trajectory of ``paths`` as plain JSON types."""
    report = IngestReport()
    trajectories = {}
    for trajectory in ingest(paths, report, jobs=1):
        trajectories[f"{trajectory.source.path}::{trajectory.session_id}"] = {
            "outcome": [trajectory.outcome.status, trajectory.outcome.reward, trajectory.outcome.origin],
            "extra": {k: v for k, v in trajectory.extra.items() if k != "task_id"},
            "steps": [
                {
                    "source": step.source,
                    "message": step.message,
                    "reasoning": step.reasoning_content,
                    "calls": [[c.function_name, c.arguments] for c in step.tool_calls],
                    "results": [
                        [r.content, r.is_error] for r in (step.observation.results if step.observation else [])
                    ],
                    "extra": step.extra,
                }
                for step in trajectory.steps
            ],
        }
    return {"report": run_ingest(paths, jobs=1).to_dict(), "trajectories": trajectories}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per trajectory that appeared, disappeared or changed (with what changed)."""
    lines = []
    old, new = before["trajectories"], after["trajectories"]
    for key in sorted(set(old) | set(new)):
        if key not in new:
            lines.append(f"gone: {key} ({len(old[key]['steps'])} steps)")
        elif key not in old:
            lines.append(f"new: {key} ({len(new[key]['steps'])} steps)")
        elif old[key] != new[key]:
            lines.append(f"changed: {key}: {_what(old[key], new[key])}")
    return lines


def _what(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    if old["outcome"] != new["outcome"]:
        parts.append(f"outcome {old['outcome']} -> {new['outcome']}")
    if old["extra"] != new["extra"]:
        keys = sorted(k for k in set(old["extra"]) | set(new["extra"]) if old["extra"].get(k) != new["extra"].get(k))
        parts.append(f"extra {keys}")
    if len(old["steps"]) != len(new["steps"]):
        parts.append(f"steps {len(old['steps'])} -> {len(new['steps'])}")

    def count(doc: dict[str, Any], what: str) -> int:
        if what == "errors":
            return sum(1 for s in doc["steps"] for r in s["results"] if r[1])
        if what == "user":
            return sum(1 for s in doc["steps"] if s["source"] == "user")
        return sum(len(s["calls"]) for s in doc["steps"])

    for what in ("calls", "errors", "user"):
        if count(old, what) != count(new, what):
            parts.append(f"{what} {count(old, what)} -> {count(new, what)}")
    if not parts:
        fields = sorted({f for a, b in zip(old["steps"], new["steps"], strict=False) for f in a if a[f] != b[f]})
        parts.append(f"step fields {fields}")
    return "; ".join(parts)


def main(argv: list[str]) -> None:
    """``OUT LOGS…`` dumps; ``--diff BEFORE AFTER`` compares two dumps."""
    if argv[:1] == ["--diff"]:
        before, after = (json.loads(Path(p).read_text(encoding="utf-8")) for p in argv[1:3])
        for line in diff(before, after):
            print(line)
        return
    Path(argv[0]).write_text(json.dumps(dump([Path(p) for p in argv[1:]]), indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
