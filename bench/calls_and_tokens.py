"""Benchmark 3 — LLM calls and tokens of a whole ``distill``, by stage, priced at a named model.

For each log folder (default: the 200 tau-bench runs and the Claude Code sessions of the real
corpus), ``skillforge distill`` runs in a scratch folder with the scripted model of
``tests/scripted_llm.py`` (rule-made analyst, proposal and merge replies; no network), configured
with the named model's context window (``--price-model``, default gpt-4o-mini: 128k tokens in
litellm's model map) so prompts are cut as they would be for it. Every call the model receives is
then counted with the named model's tokenizer (``litellm.token_counter``): prompt tokens of the
messages sent, completion tokens of the reply given, and priced with ``litellm.cost_per_token``
for that model.

Printed per folder: calls, prompt and completion tokens and USD by stage (analyse, compare,
propose, merge, translate, fix); calls per trajectory; prompt tokens sent per trajectory against
the raw trajectory tokens (the trajectories' ATIF JSON, same tokenizer).

Usage: .venv/bin/python bench/calls_and_tokens.py [LOGS ...] [--price-model gpt-4o-mini] [--propose-batch 4] [--fan-in 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.progress import Progress  # noqa: E402

from skillforge.config import ModelConfig  # noqa: E402
from skillforge.distill.options import DistillOptions  # noqa: E402
from skillforge.distill.pipeline import distill  # noqa: E402
from skillforge.ingest import ingest  # noqa: E402
from skillforge.ingest.report import IngestReport  # noqa: E402
from skillforge.llm.tokens import context_window, count_tokens, estimate_cost_usd  # noqa: E402
from tests.merge.skill_model import kind_of, prompt_of  # noqa: E402
from tests.scripted_llm import install, is_analyst_prompt, pipeline_responder, read_prompt  # noqa: E402

STAGES = ("analyse", "compare", "propose", "merge", "translate", "fix")


def stage_of(messages: list[dict]) -> str:
    """The pipeline stage a prompt belongs to."""
    if is_analyst_prompt(messages):
        return "compare" if read_prompt(messages).analyst == "comparative" else "analyse"
    return kind_of(prompt_of(messages))


def measure(logs: Path, price_model: str, propose_batch: int, fan_in: int) -> dict:
    """One distill of ``logs``; returns per-stage figures and per-trajectory totals."""
    replies: dict[int, str] = {}
    answer = pipeline_responder()

    def respond(messages, index):
        out = answer(messages, index)
        if isinstance(out, str):
            replies[index] = out
        return out

    state = install(respond)
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="skillforge-calls-") as scratch:
        os.chdir(scratch)
        try:
            model = ModelConfig(model="scripted/calls", concurrency=8, context_tokens=context_window(price_model))
            options = DistillOptions(paths=[logs], skill_name="bench-skill", model=model, propose_batch=propose_batch, fan_in=fan_in)
            result = distill(options, Progress(disable=True))
        finally:
            os.chdir(previous)
    stages: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # calls, prompt tokens, completion tokens
    for index, call in enumerate(state.calls):
        row = stages[stage_of(call.messages)]
        row[0] += 1
        row[1] += count_tokens(price_model, messages=call.messages)
        row[2] += count_tokens(price_model, text=replies.get(index, ""))
    raw = sum(count_tokens(price_model, text=orjson.dumps(t.to_atif()).decode()) for t in ingest([logs], IngestReport()))
    return {"trajectories": result.trajectories, "stages": dict(stages), "raw_tokens": raw, "version": result.version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    traces = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces"))
    parser.add_argument("logs", type=Path, nargs="*", default=[traces / "tau-bench", traces / "claude-code"])
    parser.add_argument("--price-model", default="gpt-4o-mini")
    parser.add_argument("--propose-batch", type=int, default=4)
    parser.add_argument("--fan-in", type=int, default=5)
    args = parser.parse_args()
    if estimate_cost_usd(args.price_model, 1, 1) is None:
        sys.exit(f"litellm's cost map has no price for {args.price_model}")
    summaries = []
    for logs in args.logs:
        if not logs.exists():
            sys.exit(f"no logs at {logs} (set SKILLFORGE_SHARED_TRACES)")
        figures = measure(logs, args.price_model, args.propose_batch, args.fan_in)
        n = figures["trajectories"]
        print(f"== {logs.name}: {n} trajectories; tokens by {args.price_model}'s tokenizer, USD at its price in litellm's map")
        print(f"{'stage':<10}{'calls':>7}{'calls/traj':>11}{'prompt tok':>12}{'compl. tok':>12}{'USD':>10}")
        total = [0, 0, 0]
        for stage in STAGES:
            if stage not in figures["stages"]:
                continue
            calls, prompt, completion = figures["stages"][stage]
            total = [total[0] + calls, total[1] + prompt, total[2] + completion]
            print(f"{stage:<10}{calls:>7}{calls / n:>11.2f}{prompt:>12,}{completion:>12,}{estimate_cost_usd(args.price_model, prompt, completion):>10.4f}")
        usd = estimate_cost_usd(args.price_model, total[1], total[2])
        print(f"{'total':<10}{total[0]:>7}{total[0] / n:>11.2f}{total[1]:>12,}{total[2]:>12,}{usd:>10.4f}")
        sent = total[1] / n
        raw = figures["raw_tokens"] / n
        print(f"per trajectory: {total[0] / n:.2f} calls, {sent:,.0f} prompt tokens sent vs {raw:,.0f} raw trajectory tokens ({sent / raw:.2f}x), ${usd / n:.5f}")
        summaries.append(f"{logs.name} {total[0] / n:.2f} calls/traj, {sent / raw:.2f}x raw tokens sent, ${usd:.3f} for {n}")
    print(f"summary ({args.price_model}): " + "; ".join(summaries))


if __name__ == "__main__":
    main()
