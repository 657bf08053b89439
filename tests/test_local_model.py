"""The LLM path against a real model: llama-cpp-python's server running Qwen2.5-Coder-0.5B on the CPU.

Structure and plumbing only (the reply parses and fits the schema, tokens are counted, the
request the backend table chose is accepted), never the wording. Marked ``local_model``: CI runs
them; a developer can deselect them with ``-m "not local_model"``.
"""

from __future__ import annotations

import asyncio

import pytest

from skillforge.llm.backends import structured_output_format
from skillforge.llm.client import LLMClient
from skillforge.llm.types import LLMSettings
from skillforge.resources import load_schema

pytestmark = pytest.mark.local_model


def _lessons_schema() -> dict:
    lesson = {k: v for k, v in load_schema("lesson").items() if not k.startswith("$")}
    return {
        "type": "object",
        "required": ["lessons"],
        "additionalProperties": False,
        "properties": {"lessons": {"type": "array", "minItems": 1, "maxItems": 2, "items": lesson}},
    }


MESSAGES = [
    {"role": "system", "content": "You analyse logs of AI agents and write short lessons for future agents, as JSON."},
    {
        "role": "user",
        "content": (
            "Trajectory tau-bench:airline:task7 (failed).\n"
            'step 3 agent: update_reservation_flights {"reservation_id": "ABC123", "payment_id": "gift_card_1"}\n'
            "step 4 tool: Error: payment method not found\n"
            'step 5 agent: update_reservation_flights {"reservation_id": "ABC123", "payment_id": "gift_card_1"}\n'
            "step 6 tool: Error: payment method not found\n"
            "Write one lesson of kind failure citing session_id tau-bench:airline:task7 and step_ids 3 and 4."
        ),
    },
]


def _client(server, model: str = "openai/local") -> LLMClient:
    return LLMClient(
        LLMSettings(model=model, api_base=server.api_base, max_tokens=400, timeout_s=300, max_attempts=2), concurrency=1
    )


def test_llama_cpp_server_returns_schema_valid_json(local_model_server) -> None:
    schema = _lessons_schema()
    request = structured_output_format("openai/local", schema, "lessons", api_base=local_model_server.api_base)
    assert request == {"type": "json_object", "schema": schema}  # the row the table picks for this server
    client = _client(local_model_server)
    with local_model_server.watching():
        result = asyncio.run(client.complete_json(MESSAGES, schema, schema_name="lessons"))
    lessons = result.data["lessons"]
    assert 1 <= len(lessons) <= 2
    assert all(lesson["kind"] in ("failure", "success") and lesson["evidence"] for lesson in lessons)
    assert all(step >= 1 for lesson in lessons for item in lesson["evidence"] for step in item["step_ids"])
    assert result.prompt_tokens > 100 and result.completion_tokens > 10
    assert result.cost_usd == 0.0  # a local model has no price
    assert client.totals.calls == 1 and client.totals.failed_calls == 0


def test_json_schema_refused_by_llama_cpp_steps_down_to_json_object(local_model_server) -> None:
    """A hosted-style model name sent to llama.cpp: json_schema is refused, json_object + schema answers."""
    schema = {
        "type": "object",
        "required": ["tool", "failed"],
        "properties": {"tool": {"type": "string"}, "failed": {"type": "boolean"}},
    }
    assert (
        structured_output_format("openai/gpt-4o-mini", schema, "x", api_base=local_model_server.api_base)["type"]
        == "json_schema"
    )
    client = _client(local_model_server, model="openai/gpt-4o-mini")
    messages = [
        {
            "role": "user",
            "content": "Step 4 called update_reservation_flights and got 'Error: payment method not found'. Which tool, and did it fail?",
        }
    ]
    with local_model_server.watching():
        result = asyncio.run(client.complete_json(messages, schema, schema_name="x"))
    assert isinstance(result.data["tool"], str) and isinstance(result.data["failed"], bool)
    assert result.attempts == 2 and not result.repaired  # the refused request, then the grammar-constrained one
