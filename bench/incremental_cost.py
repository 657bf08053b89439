"""Benchmark 4 — incremental cost: what does distilling again after adding one trajectory cost?

In a scratch folder with the scripted model of ``tests/scripted_llm.py`` (no network):

1. ``skillforge distill`` on the first ``--first`` (default 100) runs of the real tau-bench file
   (written as one tau-bench results file) → version 1 of the skill;
2. the same file with one more run appended (the next run of the real file), distilled again with
   the same skill name and workspace: the store's latest version is the start (deepening) and
   the response cache holds every earlier reply → version 2.

Prints the calls the model received in each run, by stage (goal: at most 5 the second time).

Usage: .venv/bin/python bench/incremental_cost.py [--first 100] [--traces ../shared/traces]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.progress import Progress  # noqa: E402

from skillforge.config import ModelConfig  # noqa: E402
from skillforge.distill.options import DistillOptions  # noqa: E402
from skillforge.distill.pipeline import distill  # noqa: E402
from tests.scripted_llm import install, pipeline_responder  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from calls_and_tokens import STAGES, stage_of  # noqa: E402

TAU_BENCH = "tau-bench/gpt-4o-airline.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first", type=int, default=100)
    parser.add_argument("--traces", type=Path, default=Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces")))
    args = parser.parse_args()
    source = args.traces / TAU_BENCH
    if not source.is_file():
        sys.exit(f"no tau-bench runs at {source} (set SKILLFORGE_SHARED_TRACES)")
    runs = orjson.loads(source.read_bytes())
    rows = []
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="skillforge-incremental-") as scratch:
        os.chdir(scratch)
        try:
            logs = Path(scratch) / "logs"
            logs.mkdir()
            for count in (args.first, args.first + 1):
                (logs / "gpt-4o-airline.json").write_bytes(orjson.dumps(runs[:count]))
                state = install(pipeline_responder())
                options = DistillOptions(paths=[logs], skill_name="airline", model=ModelConfig(model="scripted/incremental", concurrency=8))
                result = distill(options, Progress(disable=True))
                stages = Counter(stage_of(call.messages) for call in state.calls)
                usage = result.manifest.get("usage") or {}
                rows.append((count, result, stages, usage.get("cached", 0)))
        finally:
            os.chdir(previous)
    print(f"{'run':<22}{'traj':>5}{'start':>7}{'version':>8}" + "".join(f"{stage:>10}" for stage in STAGES) + f"{'calls':>7}{'cached':>8}")
    for (count, result, stages, cached), label in zip(rows, ("first", "+1 trajectory")):
        version = result.version.version if result.version else "-"
        print(
            f"{label:<22}{count:>5}{result.start.mode:>7}{version:>8}"
            + "".join(f"{stages.get(stage, 0):>10}" for stage in STAGES)
            + f"{sum(stages.values()):>7}{cached:>8}"
        )
    second = rows[1][2]
    print(
        f"summary: adding 1 trajectory to {args.first} and distilling again made {sum(second.values())} calls "
        f"({', '.join(f'{stage} {n}' for stage, n in second.items()) or 'none'}; goal <= 5), against {sum(rows[0][2].values())} for the first run"
    )


if __name__ == "__main__":
    main()
