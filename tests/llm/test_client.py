"""llm.py through litellm with the scripted provider: retries, Retry-After, repair, concurrency."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from skillforge.llm.cache import ResponseCache
from skillforge.llm.client import LLMClient
from skillforge.llm.errors import BudgetExceeded, LLMError
from skillforge.llm.lib import litellm
from skillforge.llm.replies import parse_json_reply
from skillforge.llm.tokens import context_window, count_tokens, estimate_cost_usd, has_price
from skillforge.llm.types import LLMSettings
from tests.scripted_llm import (
    INPUT_USD_PER_TOKEN,
    OUTPUT_USD_PER_TOKEN,
    PRICED_CONTEXT_TOKENS,
    install,
    rate_limited,
    register_price,
    server_error,
    timed_out,
)

SCHEMA = {
    "type": "object",
    "required": ["answer"],
    "properties": {"answer": {"type": "integer"}},
    "additionalProperties": False,
}
MESSAGES = [{"role": "user", "content": "What is six times seven? Reply as JSON."}]


def _client(**kwargs) -> LLMClient:
    concurrency = kwargs.pop("concurrency", 8)
    cache = kwargs.pop("cache", None)
    budget = kwargs.pop("budget_usd", None)
    model = kwargs.pop("model", "scripted/test")
    return LLMClient(LLMSettings(model=model, backoff_initial_s=0.01, **kwargs), concurrency=concurrency, cache=cache, budget_usd=budget)


def test_valid_reply_parsed_and_tokens_counted() -> None:
    state = install(lambda messages, i: '```json\n{"answer": 42}\n```')
    client = _client()
    result = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert result.data == {"answer": 42}
    assert result.attempts == 1 and not result.repaired
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert client.totals.calls == 1 and client.totals.prompt_tokens == result.prompt_tokens
    assert state.calls[0].messages == MESSAGES


def test_rate_limit_retry_after_is_honoured_then_success() -> None:
    script = [rate_limited(0.3), server_error(), '{"answer": 42}']
    state = install(lambda messages, i: script[i])
    client = _client()
    started = time.monotonic()
    result = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert result.data == {"answer": 42}
    assert result.attempts == 3 and len(state.calls) == 3
    assert time.monotonic() - started >= 0.3  # waited at least the Retry-After
    assert client.totals.retries == 2


def test_retries_exhausted_raise_llm_error() -> None:
    state = install(lambda messages, i: timed_out())
    client = _client(max_attempts=2)
    with pytest.raises(LLMError, match="retries exhausted after 2 attempt"):
        asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert len(state.calls) == 2
    assert client.totals.failed_calls == 1


def test_non_transient_error_is_not_retried() -> None:
    bad_request = litellm().BadRequestError("invalid parameter (scripted)", model="scripted", llm_provider="scripted")
    state = install(lambda messages, i: bad_request)
    with pytest.raises(LLMError, match="call failed after 1 attempt"):
        asyncio.run(_client().complete_json(MESSAGES, SCHEMA))
    assert len(state.calls) == 1


def test_invalid_output_gets_one_repair_round() -> None:
    script = ['Sure! {"answer": "forty-two"}', '{"answer": 42}']
    state = install(lambda messages, i: script[i])
    result = asyncio.run(_client().complete_json(MESSAGES, SCHEMA))
    assert result.data == {"answer": 42} and result.repaired
    repair_prompt = state.calls[1].messages[-1]["content"]
    assert "at answer" in repair_prompt and "not of type 'integer'" in repair_prompt


def test_still_invalid_after_repair_fails() -> None:
    install(lambda messages, i: "I cannot answer that.")
    with pytest.raises(LLMError, match="still invalid after a repair round"):
        asyncio.run(_client().complete_json(MESSAGES, SCHEMA))


def test_concurrency_is_bounded() -> None:
    state = install(lambda messages, i: '{"answer": 1}', latency_s=0.05)
    client = _client(concurrency=3)

    async def many():
        return await asyncio.gather(*(client.complete_json(MESSAGES, SCHEMA) for _ in range(10)))

    results = asyncio.run(many())
    assert len(results) == 10 and state.max_in_flight == 3


def test_parse_json_reply_strips_prose() -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(SCHEMA)
    assert parse_json_reply('Here you go:\n{"answer": 7}\nHope this helps.', validator) == {"answer": 7}


def test_cache_answers_the_same_call_without_the_model(tmp_path: Path) -> None:
    state = install(lambda messages, i: '{"answer": 42}')
    cache = ResponseCache(tmp_path / "cache")
    first = asyncio.run(_client(cache=cache).complete_json(MESSAGES, SCHEMA, template_hash="t1"))
    assert not first.cached and len(state.calls) == 1
    files = list((tmp_path / "cache").rglob("*.json"))
    assert len(files) == 1 and files[0].parent.name == files[0].stem[:2]
    client = _client(cache=cache)
    again = asyncio.run(client.complete_json(MESSAGES, SCHEMA, template_hash="t1"))
    assert again.cached and again.data == {"answer": 42} and len(state.calls) == 1
    assert client.totals.cached == 1 and client.totals.calls == 0 and client.is_cached(MESSAGES, SCHEMA, "t1")
    # another template version, another model or other input: a miss
    asyncio.run(client.complete_json(MESSAGES, SCHEMA, template_hash="t2"))
    asyncio.run(_client(cache=cache, model="scripted/other").complete_json(MESSAGES, SCHEMA, template_hash="t1"))
    asyncio.run(client.complete_json([{"role": "user", "content": "Seven times six?"}], SCHEMA, template_hash="t1"))
    assert len(state.calls) == 4
    # a torn or foreign file is a miss, not a crash
    files[0].write_text("{not json")
    assert not client.is_cached(MESSAGES, SCHEMA, "t1")


def test_failed_calls_are_not_cached(tmp_path: Path) -> None:
    install(lambda messages, i: "no json here")
    cache = ResponseCache(tmp_path / "cache")
    with pytest.raises(LLMError):
        asyncio.run(_client(cache=cache).complete_json(MESSAGES, SCHEMA))
    assert not list(tmp_path.rglob("*.json"))


def test_cost_per_call_from_the_local_price_map() -> None:
    model = register_price()
    install(lambda messages, i: '{"answer": 42}')
    client = _client(model=model)
    result = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    expected = result.prompt_tokens * INPUT_USD_PER_TOKEN + result.completion_tokens * OUTPUT_USD_PER_TOKEN
    assert result.cost_usd == pytest.approx(expected) and result.cost_usd > 0
    assert client.totals.cost_usd == pytest.approx(expected)
    assert has_price(model) and not has_price("scripted/test")
    assert estimate_cost_usd(model, 1000, 500) == pytest.approx(1000 * INPUT_USD_PER_TOKEN + 500 * OUTPUT_USD_PER_TOKEN)
    assert estimate_cost_usd("scripted/test", 1000, 500) is None
    assert context_window(model) == PRICED_CONTEXT_TOKENS and context_window("scripted/unknown") is None
    assert context_window("gpt-4o-mini") == 128000  # from litellm's bundled map, no network


def test_budget_refuses_the_call_that_would_pass_it() -> None:
    model = register_price()
    state = install(lambda messages, i: '{"answer": 42}')
    client = _client(model=model, max_tokens=100)
    estimate = client.estimate(MESSAGES, SCHEMA)
    assert estimate.prompt_tokens == count_tokens(model, messages=MESSAGES) and estimate.completion_tokens == 100
    assert estimate.cost_usd == pytest.approx(estimate.prompt_tokens * INPUT_USD_PER_TOKEN + 100 * OUTPUT_USD_PER_TOKEN)
    asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    spent = client.totals.cost_usd
    client.budget_usd = spent + 1.01 * estimate.cost_usd  # room for one more call, not two
    asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    spent = client.totals.cost_usd
    with pytest.raises(BudgetExceeded, match="budget"):
        asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert len(state.calls) == 2 and client.totals.cost_usd == spent <= client.budget_usd
    assert client.budget_stopped and client.totals.refused == 1 and client.totals.calls == 2
    with pytest.raises(BudgetExceeded):  # once stopped, stays stopped
        asyncio.run(client.complete_json([{"role": "user", "content": "hi"}], SCHEMA))
    assert len(state.calls) == 2


def test_budget_counts_calls_in_flight() -> None:
    model = register_price()
    state = install(lambda messages, i: '{"answer": 42}', latency_s=0.05)
    client = _client(model=model, max_tokens=100, concurrency=8)
    client.budget_usd = 3.5 * client.estimate(MESSAGES, SCHEMA).cost_usd
    client.answered = True  # past the first reply, calls go out in parallel (before it, one at a time)

    async def many():
        return await asyncio.gather(*(client.complete_json(MESSAGES, SCHEMA) for _ in range(8)), return_exceptions=True)

    results = asyncio.run(many())
    assert sum(isinstance(r, BudgetExceeded) for r in results) == 5 and len(state.calls) == 3
    assert client.totals.cost_usd <= client.budget_usd
