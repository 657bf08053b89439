"""Benchmark — the cost of ``skillforge eval --retro`` per held-out trajectory, on tau-bench.

The 200 tau-bench runs of the real corpus are split by task (``--holdout``, default 0.2, the split
``distill --holdout`` records); the held-out runs are judged against two versions of a skill
(``--skill`` folders, or two built-in airline skills of ~25 and ~35 lines: vN-1 and vN, judged side
by side as ``eval`` does), by the retrospective judge through litellm with the rule-made judge of
``tests/eval/judge_model.py`` behind the scripted provider (no network). The judge is configured
with the named model's context window (``--price-model``, default gpt-4o-mini: 128k tokens in
litellm's map), so prompts are cut only where that model would need it.

Every call the model receives is counted with the named model's tokenizer (``litellm.token_counter``):
prompt tokens of the messages sent, completion tokens of the reply given, priced with
``litellm.cost_per_token``. The dry run's estimate (``skillforge eval --dry-run``) is printed
beside the measured figures, and a second run shows what the response cache saves.

Printed: held-out trajectories, calls (repairs included), calls / prompt tokens / completion tokens
/ USD per held-out trajectory and version, the estimate, wall time, and one ``summary:`` line.

Usage: .venv/bin/python bench/eval_cost.py [--holdout 0.2] [--price-model gpt-4o-mini] [--skill OLD NEW]
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

from skillforge.config import ModelConfig  # noqa: E402
from skillforge.eval.citations import SkillUnderTest  # noqa: E402
from skillforge.eval.judge_client import context_window, count_tokens, estimate_cost_usd, judge_client  # noqa: E402
from skillforge.eval.retro import RetroJudge, estimate_versions, judge_versions  # noqa: E402
from skillforge.eval.split import split_holdout  # noqa: E402
from skillforge.ingest import ingest  # noqa: E402
from skillforge.ingest.base import IngestReport  # noqa: E402
from tests.eval.judge_model import judge_responder  # noqa: E402
from tests.scripted_llm import install  # noqa: E402

RULES_OLD = [
    "- Read the user's reservation with get_reservation_details before changing anything.",
    "- Ask for the user id first, then call get_user_details once.",
    "- State the total price and ask for an explicit yes before any booking or change.",
    "- Use the payment methods the user holds; never invent a payment id.",
    "- Quote the policy when refusing a request, in one sentence.",
]
RULES_NEW = [
    *RULES_OLD,
    "- Before update_reservation_flights, check that the fare class allows changes; basic economy does not.",
    "- Call transfer_to_human_agents only when the request is outside the policy, after saying why.",
    "- Count free bags from the membership tier before update_reservation_baggages.",
    "- Cancel with cancel_reservation only within 24 hours of booking, or for a covered reason.",
    "- Search with search_direct_flight first, then search_onestop_flight when nothing fits.",
]


def write_skill(folder: Path, rules: list[str]) -> Path:
    """A small airline skill whose Rules section holds ``rules``."""
    skill = folder / "airline"
    skill.mkdir(parents=True)
    header = "---\nname: airline\ndescription: Serve airline customers with the reservation tools.\n---\n\n"
    intro = "# Airline customer service\n\nFollow these rules in every conversation.\n\n## Rules\n\n"
    (skill / "SKILL.md").write_text(header + intro + "\n".join(rules) + "\n", encoding="utf-8")
    return skill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    traces = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces"))
    parser.add_argument("--logs", type=Path, default=traces / "tau-bench")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--price-model", default="gpt-4o-mini")
    parser.add_argument("--skill", type=Path, nargs=2, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    if not args.logs.exists():
        sys.exit(f"no logs at {args.logs} (set SKILLFORGE_SHARED_TRACES)")
    price = args.price_model
    if estimate_cost_usd(price, 1, 1) is None:
        sys.exit(f"litellm's cost map has no price for {price}")
    split = split_holdout(list(ingest([args.logs], IngestReport())), args.holdout)
    held = split.held_out
    replies: dict[int, str] = {}
    answer = judge_responder()

    def respond(messages, index):
        out = answer(messages, index)
        if isinstance(out, str):
            replies[index] = out
        return out

    with tempfile.TemporaryDirectory(prefix="skillforge-eval-cost-") as scratch:
        root = Path(scratch)
        folders = args.skill or [write_skill(root / "old", RULES_OLD), write_skill(root / "new", RULES_NEW)]
        skills = [SkillUnderTest.from_folder(folders[1], "vN"), SkillUnderTest.from_folder(folders[0], "vN-1")]
        model = ModelConfig(model="scripted/eval-cost", concurrency=8, context_tokens=context_window(price))
        judge = RetroJudge(judge_client(model, root / ".skillforge"), model.context_tokens or 128000)
        estimate = estimate_versions(skills, held, judge)
        state = install(respond)
        clock = time.perf_counter()
        results = judge_versions(skills, held, judge)
        wall = time.perf_counter() - clock
        calls = list(state.calls)
        again = judge_versions(skills, held, judge)
        cached_calls = len(state.calls) - len(calls)
    n = len(held)
    prompt = sum(count_tokens(price, messages=c.messages) for c in calls)
    completion = sum(count_tokens(price, text=replies.get(i, "")) for i in range(len(calls)))
    usd = estimate_cost_usd(price, prompt, completion) or 0.0
    tasks = len(split.held_out_keys)
    print(f"== {args.logs.name}: {n} held-out trajectories ({tasks} tasks of {split.by} split {args.holdout})")
    print(f"tokens by {price}'s tokenizer, USD at its price in litellm's map; 2 versions judged side by side")
    print(f"{'version':<8}{'calls':>7}{'repairs':>9}{'coverage':>10}{'harm':>8}{'prompt tok':>12}{'compl. tok':>12}")
    for result in results:
        usage = result.usage()
        repairs = sum(1 for j in result.judgements if j.repaired)
        coverage, harm = f"{result.addressed}/{result.failures}", f"{result.harmful}/{result.successes}"
        line = f"{result.label:<8}{usage['calls']:>7}{repairs:>9}{coverage:>10}{harm:>8}"
        print(f"{line}{usage['prompt_tokens']:>12,}{usage['completion_tokens']:>12,}  (provider's counts)")
    per = n * len(results)
    print(
        f"measured: {len(calls)} calls, {prompt:,} prompt + {completion:,} completion tokens, ${usd:.4f}; "
        f"per held-out trajectory and version: {len(calls) / per:.2f} calls, {prompt / per:,.0f} prompt tokens, "
        f"{completion / per:,.0f} completion tokens, ${usd / per:.5f}"
    )
    est_usd = estimate_cost_usd(price, estimate.prompt_tokens, estimate.completion_tokens) or 0.0
    print(
        f"dry-run estimate: {estimate.calls} calls, {estimate.prompt_tokens:,} prompt tokens "
        f"(scripted tokenizer), {estimate.completion_tokens:,} completion tokens assumed; ${est_usd:.4f} at {price}"
    )
    cached = again[0].usage()["cached"]
    print(f"wall {wall:.2f} s for {len(calls)} calls; a second run: {cached_calls} calls, {cached} cached")
    print(
        f"summary ({price}): {len(calls) / per:.2f} calls and {prompt / per:,.0f} prompt tokens "
        f"per held-out trajectory and version, ${usd / n:.5f} per held-out trajectory for vN and vN-1, "
        f"${usd:.3f} for {n}"
    )


if __name__ == "__main__":
    main()
