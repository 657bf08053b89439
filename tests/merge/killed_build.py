"""A build that SIGKILLs itself during consolidation (run as a subprocess by test_build.py).

Usage: python -m tests.merge.killed_build RUN_DIR KILL_AT_MERGE_CALL
Builds from sample_traces/ with the scripted model, propose_batch=1, fan_in=2 (a tree of several merges from
few lessons), and kills the process
(SIGKILL: no cleanup, no finally) when the model is asked for merge number KILL_AT_MERGE_CALL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from skillforge.distill.build import BuildOptions, build_skill
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.start import seed_start
from skillforge.llm.client import LLMClient
from skillforge.llm.types import LLMSettings
from tests.conftest import SAMPLE_TRACES
from tests.merge.skill_model import heuristic_lessons, kind_of, prompt_of, responder
from tests.scripted_llm import install


def main() -> None:
    run_dir, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    lessons, trajectories = heuristic_lessons(SAMPLE_TRACES)
    answer = responder()
    merges = 0

    def killing(messages, index):
        nonlocal merges
        if kind_of(prompt_of(messages)) == "merge":
            merges += 1
            if merges == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return answer(messages, index)

    install(killing, latency_s=0.01)
    # the same model string as test_build.py: saved steps are keyed by model
    client = LLMClient(LLMSettings(model="scripted/build"), concurrency=4)
    run = RunFolder(run_dir)
    start = seed_start(run, "sample-traces", trajectory_count=len(trajectories))
    asyncio.run(
        build_skill(
            lessons,
            start,
            client=client,
            options=BuildOptions(propose_batch=1, fan_in=2, trajectory_count=len(trajectories)),
            run=run,
        )
    )


if __name__ == "__main__":
    main()
