"""llm.py through litellm with the scripted provider: retries, Retry-After, repair, concurrency."""

from __future__ import annotations

import asyncio
import time

import pytest

from skillforge.llm import LLMClient, LLMError, LLMSettings, litellm, parse_json_reply
from tests.scripted_llm import install, rate_limited, server_error, timed_out

SCHEMA = {
    "type": "object",
    "required": ["answer"],
    "properties": {"answer": {"type": "integer"}},
    "additionalProperties": False,
}
MESSAGES = [{"role": "user", "content": "What is six times seven? Reply as JSON."}]


def _client(**kwargs) -> LLMClient:
    concurrency = kwargs.pop("concurrency", 8)
    return LLMClient(LLMSettings(model="scripted/test", backoff_initial_s=0.01, **kwargs), concurrency=concurrency)


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
