"""Calls and tokens of the LLM analysts on a log folder, with the scripted model (no network).

Usage:
    .venv/bin/python bench/analyst_tokens.py ../shared/traces/tau-bench [--context-tokens 8192]

Prints, for the analyse (one pass per trajectory) and compare (one pass per task seen both
succeeding and failing) stages: passes, calls, prompt tokens per call (litellm.token_counter of
the messages sent), trajectory tokens sent vs raw (the trajectories' ATIF JSON), and wall time.
The scripted model answers instantly, so the time is skillforge's own: rendering, token counting,
grounding, journal and cache writes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skillforge.analyze.passes import PassRunner, analyze_with_llm  # noqa: E402
from skillforge.ingest import ingest  # noqa: E402
from skillforge.ingest.base import IngestReport  # noqa: E402
from skillforge.llm import LLMClient, LLMSettings, ResponseCache, count_tokens  # noqa: E402
from skillforge.run import RunFolder  # noqa: E402
from tests.scripted_llm import install, lesson_responder, read_prompt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", type=Path)
    parser.add_argument("--context-tokens", type=int, default=8192)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    trajectories = list(ingest([args.logs], IngestReport()))
    state = install(lesson_responder())
    model = "scripted/bench"
    with tempfile.TemporaryDirectory() as scratch:
        client = LLMClient(LLMSettings(model=model), args.concurrency, cache=ResponseCache(Path(scratch) / "cache"))
        run = RunFolder.create(Path(scratch))
        started = time.perf_counter()
        report = analyze_with_llm(trajectories, PassRunner(client, args.context_tokens), run)
        elapsed = time.perf_counter() - started
        rerun_client = LLMClient(LLMSettings(model=model), args.concurrency, cache=ResponseCache(Path(scratch) / "cache"))
        calls_before = len(state.calls)
        started = time.perf_counter()
        analyze_with_llm(list(ingest([args.logs], IngestReport())), PassRunner(rerun_client, args.context_tokens), RunFolder.create(Path(scratch)))
        rerun_elapsed = time.perf_counter() - started
        rerun_calls = len(state.calls) - calls_before

    stages: dict[str, list[int]] = {"analyse": [], "compare": []}
    for call in state.calls[:calls_before]:
        stage = "compare" if read_prompt(call.messages).analyst == "comparative" else "analyse"
        stages[stage].append(count_tokens(model, messages=call.messages))
    summary = report.summary()
    sent, raw = summary["trajectory_tokens"]["sent"], summary["trajectory_tokens"]["raw"]
    print(f"logs: {args.logs}  trajectories: {len(trajectories)}  context: {args.context_tokens} tokens  concurrency: {args.concurrency}")
    for stage, tokens in stages.items():
        if tokens:
            print(f"{stage:8s} calls {len(tokens):4d}  prompt tokens/call mean {sum(tokens) / len(tokens):8.0f}  max {max(tokens):6d}  total {sum(tokens):9d}")
    print(f"calls per trajectory: {len(state.calls[:calls_before]) / len(trajectories):.2f}")
    print(f"trajectory tokens sent {sent}  raw {raw}  sent/raw {sent / raw:.2f}")
    print(f"lessons kept {summary['lessons']['kept']}  repaired {summary['lessons']['repaired']}  dropped {summary['lessons']['dropped']}")
    print(f"wall time {elapsed:.2f} s ({1000 * elapsed / len(trajectories):.1f} ms per trajectory); rerun from cache {rerun_elapsed:.2f} s, {rerun_calls} calls")


if __name__ == "__main__":
    main()
