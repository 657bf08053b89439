"""Peak memory of ``skillforge ingest`` on big JSONL files made by repeating real lines.

For each format (Claude Code, Codex, OpenHands evaluation rows) a JSONL file is written by
repeating a real file's lines until ``--sizes`` MB (a small and a large size), then
``skillforge ingest FILE --json`` runs in a child process and its peak RSS
(``ru_maxrss`` of the child) is read. Memory is flat when the large file's peak is close to the
small one's, however many times larger the file is.

Usage: .venv/bin/python bench/ingest_memory.py [--sizes 50 500] [--formats claude-code codex openhands]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = {
    "claude-code": "claude-code/spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl",
    "codex": "codex/rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
    "openhands": "openhands/eval/multi_swe_bench_output.jsonl",
}


def build(source: Path, target: Path, size_mb: int) -> int:
    """Write ``source``'s lines again and again into ``target`` until ``size_mb``; bytes written."""
    data = source.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    written = 0
    with open(target, "wb") as handle:
        while written < size_mb * 1024 * 1024:
            handle.write(data)
            written += len(data)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--formats", nargs="+", default=list(SOURCES), choices=list(SOURCES))
    parser.add_argument(
        "--traces",
        type=Path,
        default=Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces")),
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="skillforge-mem-") as scratch:
        for name in args.formats:
            for size in sorted(args.sizes):
                path = Path(scratch) / f"{name}-{size}.jsonl"
                written = build(args.traces / SOURCES[name], path, size)
                # ru_maxrss of children is a maximum over all children so far: measure each file in
                # its own grandchild so every figure is that run's own peak
                code = (
                    "import resource, subprocess, sys;"
                    f"subprocess.run([sys.executable, '-m', 'skillforge.cli', 'ingest', {str(path)!r}, '--json'], capture_output=True, check=True);"
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
                )
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
                seconds = time.perf_counter() - started
                if done.returncode != 0:
                    sys.exit(f"ingest failed on {path}: {done.stderr[-2000:]}")
                rows.append((name, written / 1e6, seconds, int(done.stdout.strip()) / 1024))
                path.unlink()
    print(f"{'format':<14}{'MB':>8}{'seconds':>10}{'MB/s':>8}{'peak RSS MiB':>14}")
    for name, mb, seconds, rss in rows:
        print(f"{name:<14}{mb:>8.0f}{seconds:>10.1f}{mb / seconds:>8.1f}{rss:>14.0f}")
    worst = max(rows, key=lambda row: row[3])
    print(
        f"summary: peak RSS {min(r[3] for r in rows):.0f}-{worst[3]:.0f} MiB for files of {min(r[1] for r in rows):.0f}-{max(r[1] for r in rows):.0f} MB (largest peak: {worst[0]} {worst[1]:.0f} MB)"
    )


if __name__ == "__main__":
    main()
