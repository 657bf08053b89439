"""Ingest throughput against a plain orjson parse of the same bytes, with and without redaction.

Replicates the real corpus (../shared/traces, every format) into a temporary folder up to
``--size-mb``, then times, alternating, for ``--rounds`` rounds:

* ``orjson``: read every file and parse it with orjson (JSONL line by line, JSON whole, the
  members of ``.eval`` zips): the floor any reader pays;
* ``ingest``: ``skillforge.ingest.ingest`` (detect, parse, outcomes, redaction);
* ``ingest, no redaction``: the same with the redaction step switched off;
* ``redaction only``: ``redact_trajectory`` over the parsed trajectories (MB/s of file bytes).

Prints MB/s (best round) for each, the ratios, and this process's peak RSS.

Usage: .venv/bin/python bench/ingest_throughput.py [--size-mb 256] [--rounds 3] [--traces ../shared/traces]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import skillforge.ingest as ingest_package  # noqa: E402
from skillforge.ingest import ingest  # noqa: E402
from skillforge.ingest.base import IngestReport  # noqa: E402
from skillforge.ingest.redact import redact_trajectory  # noqa: E402

LOG_SUFFIXES = (".jsonl", ".json", ".traj", ".eval")


def replicate(traces: Path, target: Path, size_mb: int) -> int:
    """Copy the log files of ``traces`` into ``target`` again and again until ``size_mb``; bytes written."""
    files = [p for p in sorted(traces.rglob("*")) if p.is_file() and p.suffix in LOG_SUFFIXES]
    written, copy = 0, 0
    while written < size_mb * 1024 * 1024:
        for path in files:
            folder = target / f"copy{copy:04d}" / path.parent.relative_to(traces)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / path.name)
            written += path.stat().st_size
        copy += 1
    return written


def parse_only(root: Path) -> int:
    """Parse every log file under ``root`` with orjson; returns the number of documents."""
    count = 0
    for path in root.rglob("*"):
        if not path.is_file() or path.name == "report.json":
            continue
        if path.suffix == ".jsonl":
            with open(path, "rb") as handle:
                for line in handle:
                    if line.strip():
                        orjson.loads(line)
                        count += 1
        elif path.suffix == ".eval":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.endswith(".json"):
                        orjson.loads(archive.read(name))
                        count += 1
        elif path.suffix in LOG_SUFFIXES:
            orjson.loads(path.read_bytes())
            count += 1
    return count


def run_ingest(root: Path, redact: bool) -> int:
    if not redact:
        ingest_package.redact_trajectory = lambda trajectory: Counter()
    try:
        return sum(1 for _ in ingest([root], IngestReport()))
    finally:
        ingest_package.redact_trajectory = redact_trajectory


def redaction_only(root: Path) -> float:
    """Seconds spent in redaction alone over every trajectory of ``root``."""
    ingest_package.redact_trajectory = lambda trajectory: Counter()
    try:
        trajectories = list(ingest([root], IngestReport()))
    finally:
        ingest_package.redact_trajectory = redact_trajectory
    started = time.perf_counter()
    for trajectory in trajectories:
        redact_trajectory(trajectory)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--traces", type=Path, default=Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces")))
    args = parser.parse_args()
    if not args.traces.is_dir():
        sys.exit(f"no trace corpus at {args.traces} (set SKILLFORGE_SHARED_TRACES)")
    with tempfile.TemporaryDirectory(prefix="skillforge-bench-") as scratch:
        root = Path(scratch)
        size = replicate(args.traces, root, args.size_mb)
        mb = size / 1e6
        best: dict[str, float] = {}
        counts: dict[str, int] = {}
        for _ in range(args.rounds):
            for name, job in (
                ("orjson parse", lambda: parse_only(root)),
                ("ingest", lambda: run_ingest(root, redact=True)),
                ("ingest, no redaction", lambda: run_ingest(root, redact=False)),
            ):
                started = time.perf_counter()
                counts[name] = job()
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
        best["redaction only"] = min(redaction_only(root) for _ in range(args.rounds))
    print(f"{'job':<24}{'seconds':>10}{'MB/s':>10}  items")
    for name, seconds in best.items():
        print(f"{name:<24}{seconds:>10.2f}{mb / seconds:>10.1f}  {counts.get(name, '')}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = best["orjson parse"] / best["ingest"]
    ratio_plain = best["orjson parse"] / best["ingest, no redaction"]
    print(
        f"summary: {mb:.0f} MB; ingest {mb / best['ingest']:.1f} MB/s = {ratio:.2f}x orjson "
        f"({mb / best['orjson parse']:.1f} MB/s); without redaction {mb / best['ingest, no redaction']:.1f} MB/s = {ratio_plain:.2f}x; "
        f"redaction alone {mb / best['redaction only']:.1f} MB/s; peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
