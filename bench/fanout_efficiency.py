"""Benchmark 2 — fan-out efficiency: do N analyst calls take as long as latency and the rate limit allow?

``skillforge distill`` runs, in this process, on the 200 tau-bench runs of the real corpus with the
scripted model of ``tests/scripted_llm.py`` behind litellm (priced and with a 16k context in
litellm's model map, as a real model is): every call takes ``--latency`` seconds
and the provider admits ``R`` requests per second (a token bucket; a call past it gets a 429 with
``Retry-After`` at once, as real providers answer). For each ``C:R`` configuration, with an empty
cache and run folder:

* the analysis stage's wall time (the run manifest's ``timings_s.analyse``) against its lower
  bound ``max(calls * L / C, (calls - B) / R)`` (B = R: the provider's bucket starts with one
  second's worth of requests), where ``calls`` are the analyst calls the model
  answered (429s not counted); efficiency = bound / wall (goal >= 90%), for the calls alone (from
  the first call to the last answer) and for the whole stage (rendering, the run folder's
  writes); the build stage's calls
  (proposals, merges: levels that wait for each other) and seconds are shown beside it;
* skillforge's own CPU per trajectory: the whole distill's CPU seconds (this process, all
  threads) minus the CPU the scripted model spent answering, divided by the trajectories.

Usage: .venv/bin/python bench/fanout_efficiency.py [--latency 0.5] [--configs 8:100 32:20 16:32] [--traces ../shared/traces]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.progress import Progress  # noqa: E402

from skillforge.config import ModelConfig  # noqa: E402
from skillforge.distill.options import DistillOptions  # noqa: E402
from skillforge.distill.pipeline import distill  # noqa: E402
from tests.scripted_llm import install, is_analyst_prompt, pipeline_responder, register_price  # noqa: E402

TAU_BENCH = "tau-bench/gpt-4o-airline.json"


def run_once(logs: Path, latency: float, concurrency: int, rate: float) -> dict:
    """One distill in a fresh folder; returns the figures of one table row."""
    state = install(pipeline_responder(), latency_s=latency, rate_per_s=rate)
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="skillforge-fanout-") as scratch:
        os.chdir(scratch)
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            result = distill(
                DistillOptions(paths=[logs], model=ModelConfig(model=register_price(), concurrency=concurrency)),
                Progress(disable=True),
            )
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            os.chdir(previous)
    analysis = result.manifest["analysis"]
    analyst = [call for call in state.calls if is_analyst_prompt(call.messages)]
    calls = len(analyst)
    analyse_wall = result.manifest["timings_s"]["analyse"]
    fan_out_wall = max(call.ended or call.started for call in analyst) - min(call.started for call in analyst)
    bound = max(calls * latency / concurrency, (calls - state.bucket.capacity) / rate)  # the bucket starts full
    return {
        "C": concurrency,
        "R": rate,
        "trajectories": result.trajectories,
        "calls": calls,
        "rejected": state.rejected,
        "max_in_flight": state.max_in_flight,
        "failed": len(analysis["failed_passes"]),
        "bound": bound,
        "analyse_wall": analyse_wall,
        "efficiency": bound / analyse_wall,
        "fan_out_wall": fan_out_wall,
        "fan_out_efficiency": bound / fan_out_wall,
        "build_calls": len(state.calls) - calls,
        "build_wall": result.manifest["timings_s"].get("build", 0.0),
        "distill_wall": wall,
        "cpu_per_trajectory_ms": (cpu - state.responder_cpu_s) / result.trajectories * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per call (L)")
    parser.add_argument("--configs", nargs="+", default=["8:100", "32:20", "16:32"], help="concurrency:rate pairs (C:R, R in requests/s)")
    parser.add_argument("--traces", type=Path, default=Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces")))
    args = parser.parse_args()
    logs = args.traces / TAU_BENCH
    if not logs.is_file():
        sys.exit(f"no tau-bench runs at {logs} (set SKILLFORGE_SHARED_TRACES)")
    rows = []
    for config in args.configs:
        concurrency, rate = config.split(":")
        rows.append(run_once(logs, args.latency, int(concurrency), float(rate)))
    print(f"L = {args.latency} s per call; bound = max(calls*L/C, (calls-R)/R) (the bucket starts full); efficiency = bound / wall")
    print(
        f"{'C':>4}{'R/s':>6}{'traj':>6}{'calls':>7}{'429s':>6}{'in flight':>10}{'failed':>7}{'bound s':>9}"
        f"{'calls s':>8}{'eff.':>6}{'analyse s':>10}{'eff.':>6}{'build calls':>12}{'build s':>8}{'distill s':>10}{'CPU ms/traj':>12}"
    )
    for row in rows:
        print(
            f"{row['C']:>4}{row['R']:>6.0f}{row['trajectories']:>6}{row['calls']:>7}{row['rejected']:>6}{row['max_in_flight']:>10}"
            f"{row['failed']:>7}{row['bound']:>9.2f}{row['fan_out_wall']:>8.2f}{row['fan_out_efficiency']:>6.0%}"
            f"{row['analyse_wall']:>10.2f}{row['efficiency']:>6.0%}"
            f"{row['build_calls']:>12}{row['build_wall']:>8.2f}{row['distill_wall']:>10.2f}{row['cpu_per_trajectory_ms']:>12.1f}"
        )
    worst = min(rows, key=lambda row: row["efficiency"])
    print(
        f"summary: fan-out efficiency {min(r['fan_out_efficiency'] for r in rows):.0%}-{max(r['fan_out_efficiency'] for r in rows):.0%} "
        f"from the first call to the last answer, {min(r['efficiency'] for r in rows):.0%}-{max(r['efficiency'] for r in rows):.0%} "
        f"over the analysis stage (goal >= 90%; lowest at C={worst['C']}, R={worst['R']:.0f}/s); skillforge CPU "
        f"{min(r['cpu_per_trajectory_ms'] for r in rows):.0f}-{max(r['cpu_per_trajectory_ms'] for r in rows):.0f} ms per trajectory"
    )


if __name__ == "__main__":
    main()
