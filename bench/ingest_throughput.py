"""Benchmark 1 — ingest throughput: ``skillforge ingest`` against a plain orjson parse of the same bytes.

Replicates the real corpus (../shared/traces, every format) into a temporary folder up to
``--size-mb`` (default about 1 GB), then runs, alternating for ``--rounds`` rounds, two child
processes on the same folder:

* ``orjson``: this script with ``--parse-only``: read every log file and parse it with orjson
  (JSONL line by line, JSON whole, the JSON members of ``.eval`` zips) and nothing else; the floor
  any reader pays;
* ``ingest``: ``skillforge ingest FOLDER --json --jobs N`` (detect, parse, outcomes, redaction, the
  JSON report; ``N`` worker processes read the files, by default as many as the CPUs this process
  may use, at most 8), output thrown away.

Each child's wall seconds (monotonic clock around it), CPU seconds (user + system, from the
kernel's accounting of the finished child and the worker processes it waited for) and peak RSS
(``ru_maxrss``: the largest single process, parent or worker, not their sum) are read; start-up is
included. The ratio ``orjson time / ingest time`` is taken round by round (pairs keep it
meaningful when the machine's speed drifts) and its median printed, for wall time and for CPU
time (the CPU ratio is what one process would reach). To show that memory does not grow with the
input, ``skillforge ingest`` also runs on one eighth of the copies, and both peaks are printed.

Note: by default the copies repeat the same texts, so the redaction cache
(``skillforge/secret_scan/__init__.py``, texts of 1024+ characters) hits more often than on logs that never
repeat. ``--distinct`` makes the copies differ: every long text of a copy ends with that copy's
own token (:func:`distinct_copy`), so the cache cannot flatter the figures.

Usage: .venv/bin/python bench/ingest_throughput.py [--size-mb 1024] [--rounds 3] [--jobs N] [--distinct]
[--traces ../shared/traces]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
LOG_SUFFIXES = (".jsonl", ".json", ".traj", ".eval")
DISTINCT_MIN_CHARS = 256
"""``--distinct``: strings this long or longer get the copy's token (the redaction cache keeps
texts of 1024+ characters, so every cached text becomes unique to its copy)."""


def replicate(traces: Path, target: Path, size_mb: int, distinct: bool = False) -> int:
    """Copy the log files of ``traces`` into ``target/copyNNNN/`` again and again until ``size_mb``
    MiB; returns the bytes written. ``report.json`` files come along (they hold outcomes). With
    ``distinct``, each copy's texts carry its own token (:func:`distinct_copy`)."""
    files = [p for p in sorted(traces.rglob("*")) if p.is_file() and p.suffix in LOG_SUFFIXES]
    written, copy = 0, 0
    while written < size_mb * 1024 * 1024:
        for path in files:
            folder = target / f"copy{copy:04d}" / path.parent.relative_to(traces)
            folder.mkdir(parents=True, exist_ok=True)
            if distinct and path.name != "report.json":
                distinct_copy(path, folder / path.name, f"copy {copy}")
            else:
                shutil.copyfile(path, folder / path.name)
            written += (folder / path.name).stat().st_size
        copy += 1
    return written


def distinct_copy(source: Path, target: Path, token: str) -> None:
    """Copy the JSON/JSONL log ``source`` (or each JSON member of a ``.eval`` zip) to ``target`` with
    `` [token]`` appended to every string of :data:`DISTINCT_MIN_CHARS`+ characters (not to one
    holding JSON itself, which must stay parseable): every long text is then unique to its copy,
    while keys, ids, short values and the start of each text (what formats and harness messages are
    recognised by) stay as they were. Re-serialised with orjson (compact), so byte counts shift a
    little; both contestants read the same copies."""

    def mark(value: object) -> object:
        if isinstance(value, str):
            long_text = len(value) >= DISTINCT_MIN_CHARS and not value.lstrip().startswith(("{", "["))
            return f"{value} [{token}]" if long_text else value
        if isinstance(value, list):
            return [mark(v) for v in value]
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        return value

    def marked(data: bytes) -> bytes:
        return orjson.dumps(mark(orjson.loads(data)))

    if source.suffix == ".eval":
        with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in original.infolist():
                data = original.read(info)
                copy.writestr(info, marked(data) if info.filename.endswith(".json") else data)
    elif source.suffix == ".jsonl":
        lines = source.read_bytes().splitlines()
        target.write_bytes(b"".join((marked(line) if line.strip() else line) + b"\n" for line in lines))
    else:
        target.write_bytes(marked(source.read_bytes()))


def parse_only(root: Path) -> int:
    """Parse every log file under ``root`` with orjson; returns the number of documents."""
    count = 0
    for path in sorted(root.rglob("*")):
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


def run_child(command: list[str], cwd: Path = REPO) -> tuple[float, float, float]:
    """Run ``command`` in ``cwd`` with its output thrown away; returns (wall s, CPU s, peak RSS MiB).

    Raises:
        SystemExit: when the command fails.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}): {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, help="skillforge ingest --jobs (default: its own, the usable CPUs up to 8)")
    parser.add_argument("--traces", type=Path, default=Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces")))
    parser.add_argument("--distinct", action="store_true", help="copies differ: a token per copy in their texts")
    parser.add_argument("--parse-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_only:
        print(parse_only(args.parse_only))
        return
    if not args.traces.is_dir():
        sys.exit(f"no trace corpus at {args.traces} (set SKILLFORGE_SHARED_TRACES)")
    skillforge = str(Path(sys.executable).with_name("skillforge"))
    from skillforge.ingest.workers import default_jobs

    jobs = args.jobs or default_jobs()
    with tempfile.TemporaryDirectory(prefix="skillforge-bench-") as scratch:
        root = Path(scratch)
        mb = replicate(args.traces, root, args.size_mb, args.distinct) / 1e6
        copies = sorted(root.iterdir())
        eighth = copies[: max(1, len(copies) // 8)]
        eighth_mb = sum(p.stat().st_size for folder in eighth for p in folder.rglob("*") if p.is_file()) / 1e6
        rows = []
        for round_ in range(1, args.rounds + 1):
            base = run_child([sys.executable, __file__, "--parse-only", str(root)])
            ours = run_child([skillforge, "ingest", str(root), "--json", "--jobs", str(jobs)])
            rows.append((round_, base, ours))
        small = run_child([skillforge, "ingest", *map(str, eighth), "--json", "--jobs", str(jobs)])

    kind = "distinct copies (a unique token per copy)" if args.distinct else "identical copies"
    print(f"{mb:.0f} MB in {len(copies)} {kind} of the corpus; ingest --jobs {jobs} ({len(os.sched_getaffinity(0))} usable CPUs); MB/s = MB / seconds")
    print(f"{'round':<7}{'orjson wall s':>14}{'ingest wall s':>14}{'orjson MB/s':>12}{'ingest MB/s':>12}{'ratio wall':>11}{'ratio cpu':>10}{'ingest RSS MiB':>16}")
    for round_, base, ours in rows:
        print(
            f"{round_:<7}{base[0]:>14.2f}{ours[0]:>14.2f}{mb / base[0]:>12.1f}{mb / ours[0]:>12.1f}"
            f"{base[0] / ours[0]:>11.2f}{base[1] / ours[1]:>10.2f}{ours[2]:>16.0f}"
        )
    print(f"{'1/8':<7}{'':>14}{small[0]:>14.2f}{'':>12}{eighth_mb / small[0]:>12.1f}{'':>11}{'':>10}{small[2]:>16.0f}")
    ratio_wall = statistics.median(base[0] / ours[0] for _, base, ours in rows)
    ratio_cpu = statistics.median(base[1] / ours[1] for _, base, ours in rows)
    base_mbs = statistics.median(mb / base[0] for _, base, _ in rows)
    ours_mbs = statistics.median(mb / ours[0] for _, _, ours in rows)
    rss = max(ours[2] for _, _, ours in rows)
    print(
        f"summary ({kind}): {mb:.0f} MB; ingest --jobs {jobs} {ours_mbs:.1f} MB/s, orjson parse {base_mbs:.1f} MB/s; ratio {ratio_wall:.2f}x wall, "
        f"{ratio_cpu:.2f}x CPU (goal >= 0.5); ingest peak RSS {rss:.0f} MiB at {mb:.0f} MB vs {small[2]:.0f} MiB at {eighth_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
