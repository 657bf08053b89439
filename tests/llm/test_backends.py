"""The structured-output capability table, with litellm's real facts and request mapping."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from jsonschema import Draft202012Validator

from skillforge.llm import backends
from skillforge.llm.backends import structured_output_format
from skillforge.llm.client import LLMClient
from skillforge.llm.errors import LLMError
from skillforge.llm.lib import litellm
from skillforge.llm.replies import InvalidOutput, parse_json_reply
from skillforge.llm.types import LLMSettings
from tests.scripted_llm import install

SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "integer"}}, "additionalProperties": False}
MESSAGES = [{"role": "user", "content": "What is six times seven?"}]


@pytest.mark.parametrize(
    ("model", "api_base", "expected_type", "schema_where"),
    [
        ("gpt-4o-mini", None, "json_schema", "json_schema"),  # hosted, litellm knows it takes a schema
        ("openai/gpt-4o-mini", "https://api.openai.com/v1", "json_schema", "json_schema"),
        ("openai/local", "http://127.0.0.1:8080/v1", "json_object", "top"),  # llama.cpp-style server
        ("llamafile/qwen", None, "json_object", "top"),
        ("ollama/qwen2.5-coder:0.5b", None, "json_schema", "json_schema"),
        ("ollama_chat/qwen2.5-coder:0.5b", None, "json_schema", "json_schema"),
        ("hosted_vllm/Qwen/Qwen2.5-0.5B-Instruct", "http://127.0.0.1:8000/v1", "json_schema", "json_schema"),
        ("lm_studio/qwen2.5-coder", None, "json_schema", "json_schema"),
        ("groq/llama3-8b-8192", None, "json_object", None),  # plain JSON mode, schema in the prompt
        ("nosuch/model", None, None, None),  # litellm knows nothing: prompt only
    ],
)
def test_capability_table(model: str, api_base: str | None, expected_type: str | None, schema_where: str | None) -> None:
    request = structured_output_format(model, SCHEMA, "lesson list", api_base=api_base)
    assert (request or {}).get("type") == expected_type
    if schema_where == "json_schema":
        assert request["json_schema"]["schema"] == SCHEMA and request["json_schema"]["name"] == "lesson_list"
    elif schema_where == "top":
        assert request["schema"] == SCHEMA


@pytest.mark.parametrize("provider", ["ollama", "ollama_chat"])
def test_ollama_request_puts_the_schema_in_format(provider: str) -> None:
    """litellm's own mapping turns our json_schema response_format into Ollama's ``format``."""
    from litellm.utils import get_optional_params

    litellm()
    request = structured_output_format(f"{provider}/qwen2.5-coder", SCHEMA, "answer")
    params = get_optional_params(model="qwen2.5-coder", custom_llm_provider=provider, response_format=request)
    assert params["format"] == SCHEMA


LLAMA_CPP_PYTHON_REFUSAL = "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\"}"


def _refusal(status: int) -> Exception:
    """How servers refuse a response_format: 422 (FastAPI/vLLM), 500 (llama-cpp-python's server)."""
    lib = litellm()
    response = httpx.Response(status, request=httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions"))
    if status == 500:
        return lib.InternalServerError(LLAMA_CPP_PYTHON_REFUSAL, model="scripted", llm_provider="scripted")
    return lib.UnprocessableEntityError(LLAMA_CPP_PYTHON_REFUSAL, model="scripted", llm_provider="scripted", response=response)


def _strict_server(monkeypatch: pytest.MonkeyPatch, status: int, accepts) -> tuple:
    """A server behind the scripted provider that refuses every response_format ``accepts`` rejects."""
    from tests.scripted_llm import STATE

    monkeypatch.setitem(backends._BY_PREFIX, "scripted", backends.Backend("strict-server", backends.JSON_SCHEMA))

    def respond(messages, index):
        sent = STATE.calls[-1].optional_params.get("response_format")
        return '{"answer": 42}' if accepts(sent) else _refusal(status)

    return install(respond), LLMClient(LLMSettings(model="scripted/test", backoff_initial_s=0.01))


def test_llama_cpp_python_refusing_json_schema_gets_json_object_with_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    state, client = _strict_server(monkeypatch, 500, lambda sent: sent is None or sent["type"] == "json_object")
    first = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert first.data == {"answer": 42} and first.attempts == 2  # the 500 refusal is not retried as is
    assert state.calls[0].optional_params["response_format"]["type"] == "json_schema"
    assert state.calls[1].optional_params["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert state.calls[1].messages == MESSAGES
    second = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert second.attempts == 1 and state.calls[2].optional_params["response_format"]["type"] == "json_object"


@pytest.mark.parametrize("status", [422, 500])
def test_server_refusing_every_format_ends_with_prompt_and_validation(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    state, client = _strict_server(monkeypatch, status, lambda sent: sent is None)
    first = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert first.data == {"answer": 42} and first.attempts == 4
    sent = [call.optional_params.get("response_format") for call in state.calls]
    assert [backends.mode_of(s) for s in sent] == [backends.JSON_SCHEMA, backends.JSON_OBJECT_WITH_SCHEMA, backends.JSON_OBJECT, backends.PROMPT_ONLY]
    assert all(call.messages == MESSAGES for call in state.calls)  # the prompt is the caller's, unchanged
    second = asyncio.run(client.complete_json(MESSAGES, SCHEMA))
    assert second.attempts == 1 and "response_format" not in state.calls[-1].optional_params  # remembered


def test_other_bad_requests_are_not_retried_without_the_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(backends._BY_PREFIX, "scripted", backends.Backend("strict-server", backends.JSON_SCHEMA))
    too_long = litellm().BadRequestError("This model's maximum context length is 4096 tokens", model="scripted", llm_provider="scripted")
    state = install(lambda messages, i: too_long)
    with pytest.raises(LLMError, match="maximum context length"):
        asyncio.run(LLMClient(LLMSettings(model="scripted/test")).complete_json(MESSAGES, SCHEMA))
    assert len(state.calls) == 1


VALIDATOR = Draft202012Validator(SCHEMA)


@pytest.mark.parametrize(
    "reply",
    [
        '{"answer": 42}',
        '```json\n{"answer": 42}\n```',
        '```json{"answer": 42}```',  # fence with no newline
        '```\n{"answer": 42}\n```\nThis JSON gives the answer.',
        "<think>The user wants {\"answer\": 1}? No: 6*7.</think>\n{\"answer\": 42}",  # reasoning block
        'Sure [1]! Here is the result: {"answer": 42} Hope this helps {really}.',  # brackets in prose
        'For example {"answer": "n"} would be wrong; the answer is:\n{"answer": 42}',  # example echoed first
    ],
)
def test_parse_json_reply_tolerates_small_model_wrapping(reply: str) -> None:
    assert parse_json_reply(reply, VALIDATOR) == {"answer": 42}


def test_parse_json_reply_does_not_pick_a_nested_value() -> None:
    validator = Draft202012Validator({"type": "object", "required": ["lessons"]})
    with pytest.raises(InvalidOutput, match="'lessons' is a required property"):
        parse_json_reply('{"result": {"lessons": []}}', validator)


@pytest.mark.parametrize("reply", ['{"answer": 4', "I cannot help with that.", '```json\n{"answer": \n```'])
def test_parse_json_reply_rejects_broken_json(reply: str) -> None:
    with pytest.raises(InvalidOutput, match="no parseable JSON"):
        parse_json_reply(reply, VALIDATOR)


def test_schema_errors_describe_the_longest_value() -> None:
    with pytest.raises(InvalidOutput, match=r"at answer: 'forty-two' is not of type 'integer'"):
        parse_json_reply('See [1]. {"answer": "forty-two"}', VALIDATOR)


def test_reply_cut_at_max_tokens_gets_a_repair_that_says_so() -> None:
    """A small local model looping inside a string hits max_tokens: the repair says why, echoing only the start."""
    from tests.scripted_llm import Truncated

    long_text = '{"answer": "' + "again and " * 400
    state = install(lambda messages, i: Truncated(long_text) if i == 0 else '{"answer": 42}')
    result = asyncio.run(LLMClient(LLMSettings(model="scripted/test", max_tokens=1000)).complete_json(MESSAGES, SCHEMA))
    assert result.data == {"answer": 42} and result.repaired and result.finish_reason == "stop"
    echoed, request = state.calls[1].messages[-2]["content"], state.calls[1].messages[-1]["content"]
    assert echoed.endswith("[… cut off]") and len(echoed) < len(long_text) // 4
    assert "cut off at the completion-token limit (1000 tokens)" in request


@pytest.mark.parametrize(
    ("model", "api_base", "local"),
    [
        ("openai/local", "http://127.0.0.1:8080/v1", True),
        ("ollama_chat/qwen2.5-coder:7b", None, True),  # litellm's default http://localhost:11434
        ("hosted_vllm/Qwen/Qwen2.5-7B-Instruct", "http://gpu-box:8000/v1", True),
        ("gpt-4o-mini", None, False),
        ("openai/gpt-4o-mini", "https://api.openai.com/v1", False),
        ("anthropic/claude-3-5-sonnet-20240620", None, False),
    ],
)
def test_local_servers_get_a_long_timeout_a_reply_cap_and_a_placeholder_key(model: str, api_base: str | None, local: bool) -> None:
    settings = backends.local_settings(model, api_base, 1000)
    assert settings == ({"timeout_s": backends.LOCAL_TIMEOUT_S, "max_tokens": 1000} if local else {})
    openai_style = backends.provider_prefix(model) in ("openai", "")
    expected_key = backends.PLACEHOLDER_API_KEY if local and openai_style else None
    assert backends.placeholder_api_key(model, api_base, environ={}) == expected_key
    assert backends.placeholder_api_key(model, api_base, environ={"OPENAI_API_KEY": "set-by-user"}) is None  # theirs is used


def test_distill_client_for_a_local_server(tmp_path) -> None:
    """The pipeline's client for ``--model openai/local --api-base …`` carries the local settings."""
    from skillforge.config import ModelConfig
    from skillforge.distill.options import DistillOptions, make_client

    options = DistillOptions(paths=[tmp_path], model=ModelConfig(model="openai/local", api_base="http://127.0.0.1:8080/v1"), workspace=tmp_path)
    settings = make_client(options, "llm").settings
    assert settings.timeout_s == backends.LOCAL_TIMEOUT_S and settings.max_tokens == 1000
    hosted = make_client(DistillOptions(paths=[tmp_path], model=ModelConfig(model="gpt-4o-mini"), workspace=tmp_path), "llm").settings
    assert hosted.max_tokens is None and hosted.timeout_s < backends.LOCAL_TIMEOUT_S
