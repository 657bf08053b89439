"""A whole ``distill`` with the scripted model (no network): LLM calls per stage against the formula,
and wall time per stage.

Usage:
    .venv/bin/python bench/distill_calls.py ../shared/traces/tau-bench [--propose-batch 4] [--fan-in 5]

Runs distill twice in a scratch folder: a first run (seed start) and a second on the same logs with
the response cache (it deepens the first version). Prints, per run, the calls the model received by
kind (analyst passes, proposals, merges, translations, fixes), the expected counts (analyst passes +
⌈lessons / propose_batch⌉ + merges of the k-way tree, depth ⌈log_k p⌉), the manifest's timings per
stage (seconds) and the total wall time. The scripted model answers instantly, so the time is
skillforge's own: rendering, token counting, grounding, applying, validating and storing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.progress import Progress  # noqa: E402

from skillforge.config import ModelConfig  # noqa: E402
from skillforge.distill.options import DistillOptions  # noqa: E402
from skillforge.distill.pipeline import distill  # noqa: E402
from skillforge.merge.consolidate import expected_tree  # noqa: E402
from tests.scripted_llm import install, pipeline_responder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", type=Path)
    parser.add_argument("--propose-batch", type=int, default=4)
    parser.add_argument("--fan-in", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    logs = args.logs.resolve()
    with tempfile.TemporaryDirectory(prefix="skillforge-bench-") as scratch:
        os.chdir(scratch)
        for attempt in ("first run", "same logs again (cache)"):
            log: list[str] = []
            state = install(pipeline_responder(log=log))
            options = DistillOptions(
                paths=[logs], skill_name="bench-skill", model=ModelConfig(model="scripted/bench", concurrency=args.concurrency),
                propose_batch=args.propose_batch, fan_in=args.fan_in,
            )
            clock = time.monotonic()
            result = distill(options, Progress(disable=True))
            seconds = time.monotonic() - clock
            report = result.build.report
            passes = sum(result.manifest["analysis"]["passes"].values())
            proposals = math.ceil(report.lessons / args.propose_batch)
            merges, depth = expected_tree(proposals, args.fan_in)
            kinds = Counter(log)
            print(f"== {attempt}: {result.trajectories} trajectories, {len(result.lessons)} lessons ({report.lessons} proposed), start {result.start.mode}")
            print(f"   calls received: {len(state.calls)} = " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) if state.calls else "   calls received: 0")
            print(f"   formula (cache aside): analyst passes {passes} + ceil({report.lessons}/{args.propose_batch}) = {proposals} proposals + {merges} merges (depth {depth}, expected ceil(log_{args.fan_in} {proposals}))")
            print(f"   build report: {report.calls.get('formula', '')}; measured depth {report.calls.get('merge_depth')}")
            print(f"   stored v{result.version.version if result.version else '-'}; timings (s): {result.manifest.get('timings_s')}; wall {seconds:.1f} s")


if __name__ == "__main__":
    main()
