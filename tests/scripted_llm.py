"""A scripted model behind litellm: a custom provider (``scripted/<anything>``) for tests.

The LLM path under test is the real one (``litellm.acompletion`` called from skillforge.llm);
only the provider at the end is replaced. A test sets a *responder*, a function
``(messages, call_index) -> str | Exception``; strings become the reply, exceptions are raised
(use :func:`rate_limited`, :func:`timed_out`, :func:`server_error` for realistic faults).
Registered once per process through ``litellm.custom_provider_map``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from skillforge.llm import litellm

Responder = Callable[[list[dict[str, Any]], int], "str | Exception"]


@dataclass
class ScriptedCall:
    model: str
    messages: list[dict[str, Any]]
    optional_params: dict[str, Any]


@dataclass
class ScriptState:
    responder: Responder | None = None
    calls: list[ScriptedCall] = field(default_factory=list)
    latency_s: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0


STATE = ScriptState()
_registered = False


def install(responder: Responder, latency_s: float = 0.0) -> ScriptState:
    """Register the provider (once) and reset the script; returns the shared state."""
    global _registered
    lib = litellm()
    if not _registered:
        lib.custom_provider_map = [*lib.custom_provider_map, {"provider": "scripted", "custom_handler": _handler_class(lib)()}]
        _registered = True
    STATE.responder = responder
    STATE.calls = []
    STATE.latency_s = latency_s
    STATE.in_flight = STATE.max_in_flight = 0
    return STATE


def _handler_class(lib):
    class ScriptedLLM(lib.CustomLLM):
        async def acompletion(self, model, messages, *args, **kwargs):  # noqa: D401 - litellm signature
            index = len(STATE.calls)
            STATE.calls.append(ScriptedCall(model, messages, dict(kwargs.get("optional_params") or {})))
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
            try:
                if STATE.latency_s:
                    await asyncio.sleep(STATE.latency_s)
                assert STATE.responder is not None, "no responder installed"
                out = STATE.responder(messages, index)
            finally:
                STATE.in_flight -= 1
            if isinstance(out, Exception):
                raise out
            prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4
            return lib.ModelResponse(
                model=model,
                choices=[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": out}}],
                usage={"prompt_tokens": prompt_tokens, "completion_tokens": len(out) // 4, "total_tokens": prompt_tokens + len(out) // 4},
            )

        def completion(self, *args, **kwargs):
            raise NotImplementedError("the scripted provider is async only")

    return ScriptedLLM


def rate_limited(retry_after: float | None = 0.05) -> Exception:
    """A 429 as litellm raises it, with a Retry-After header (seconds) when given."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    response = httpx.Response(429, headers=headers, request=httpx.Request("POST", "http://scripted.invalid/v1/chat/completions"))
    return litellm().RateLimitError("rate limited (scripted)", llm_provider="scripted", model="scripted", response=response)


def timed_out() -> Exception:
    return litellm().Timeout("request timed out (scripted)", model="scripted", llm_provider="scripted")


def server_error() -> Exception:
    return litellm().InternalServerError("internal error (scripted)", llm_provider="scripted", model="scripted")
