"""Benchmark 5 — dry run at scale: ``skillforge distill --dry-run`` on ~10,000 trajectories / ~1 GB.

Builds the input in a temporary folder from the real corpus (../shared/traces): whole copies of it
(every format) until ``--trajectories`` trajectories, then copies of its largest single-session
logs (Codex rollouts, ~1 MB per trajectory) until ``--size-mb``. Then times, as a child process,

    skillforge distill FOLDER --dry-run --model gpt-4o-mini --skill bench-dry-run -q

(ingest, redaction, the start version, every analyst prompt rendered and counted, the build's
estimate; nothing called, nothing written): wall seconds, CPU seconds and peak RSS, start-up
included. Goal: at most 60 s.

The prompts are counted by forked worker processes while ingest reads
(``skillforge/distill/estimate.py``), so CPU seconds (parent and workers) exceed wall seconds;
prompts cut to fit the context are counted as the sum of their parts (on this input 0.03 % below
the whole count, at most 68 tokens per ~120k-token prompt).

Usage: .venv/bin/python bench/dry_run_scale.py [--trajectories 10000] [--size-mb 1024] [--model gpt-4o-mini]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest_throughput import LOG_SUFFIXES, replicate, run_child  # noqa: E402

from skillforge.ingest import ingest  # noqa: E402
from skillforge.ingest.report import IngestReport  # noqa: E402

PADDING = "codex"
"""Folder of the corpus whose logs (one trajectory per large file) fill the input up to its size."""


def build_input(traces: Path, target: Path, trajectories: int, size_mb: int) -> tuple[int, int]:
    """Lay out the input; returns (bytes, trajectories) as ingest counts them."""
    per_copy = sum(1 for _ in ingest([traces], IngestReport()))
    copy_bytes = sum(p.stat().st_size for p in traces.rglob("*") if p.is_file() and p.suffix in LOG_SUFFIXES)
    copies = -(-trajectories // per_copy)
    written = replicate(traces, target, max(1, copies * copy_bytes // (1024 * 1024)))
    padding = sorted((traces / PADDING).glob("*.jsonl"))
    index = 0
    while written < size_mb * 1024 * 1024 and padding:
        source = padding[index % len(padding)]
        folder = target / "padding" / f"{index:05d}"
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / source.name)
        written += source.stat().st_size
        index += 1
    count = sum(1 for _ in ingest([target], IngestReport()))
    return written, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trajectories", type=int, default=10_000)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--traces", type=Path, default=Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces")))
    args = parser.parse_args()
    if not args.traces.is_dir():
        sys.exit(f"no trace corpus at {args.traces} (set SKILLFORGE_SHARED_TRACES)")
    skillforge = str(Path(sys.executable).with_name("skillforge"))
    with tempfile.TemporaryDirectory(prefix="skillforge-dry-") as scratch:
        logs = Path(scratch) / "logs"
        size, count = build_input(args.traces, logs, args.trajectories, args.size_mb)
        work = Path(scratch) / "work"
        work.mkdir()
        command = [skillforge, "distill", str(logs), "--dry-run", "--model", args.model, "--skill", "bench-dry-run", "-q"]
        wall, cpu, rss = run_child(command, cwd=work)
        wrote = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    print(f"{'input MB':>9}{'trajectories':>14}{'wall s':>8}{'CPU s':>8}{'peak RSS MiB':>14}{'ms/traj':>9}  files written")
    print(f"{size / 1e6:>9.0f}{count:>14,}{wall:>8.1f}{cpu:>8.1f}{rss:>14.0f}{wall / count * 1000:>9.2f}  {len(wrote)}")
    print(f"summary: distill --dry-run on {count:,} trajectories / {size / 1e6:.0f} MB took {wall:.1f} s wall ({cpu:.1f} s CPU, peak RSS {rss:.0f} MiB; goal <= 60 s)")


if __name__ == "__main__":
    main()
