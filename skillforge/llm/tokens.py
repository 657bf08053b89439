"""Tokens and cost, counted locally: litellm's tokenizers and its bundled price map, never a call.

Used by the budget check before every attempt and by the dry run (:mod:`skillforge.distill.estimate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from skillforge.llm.lib import litellm

DEFAULT_EXPECTED_COMPLETION_TOKENS = 1000
"""Completion tokens assumed for a call whose ``max_tokens`` is not set (budget checks, dry runs)."""


@dataclass
class CallEstimate:
    """What one call would cost, estimated without making it.

    Attributes:
        cached: the answer is already in the cache (no call, no cost).
        prompt_tokens: tokens of the messages (``litellm.token_counter``), 0 when cached.
        completion_tokens: expected completion tokens, 0 when cached.
        cost_usd: USD at the model's price, None when litellm's map has no price for it.
    """

    cached: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0


@dataclass
class StageEstimate:
    """The estimate of one pipeline stage: calls, tokens and USD (None when unpriced)."""

    stage: str
    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    note: str = ""

    def add(self, call: CallEstimate) -> None:
        """Count one call into the stage."""
        if call.cached:
            self.cached += 1
            return
        self.calls += 1
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd = None if self.cost_usd is None or call.cost_usd is None else self.cost_usd + call.cost_usd


def response_cost(lib, response, model: str, usage) -> float:
    """USD of one response: litellm's ``completion_cost``, else the per-token price of ``model``
    (the configured name, which custom and self-hosted providers are priced under)."""
    try:
        cost = float(lib.completion_cost(completion_response=response) or 0.0)
    except Exception:  # no price known under the response's model name
        cost = 0.0
    if cost:
        return cost
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    return estimate_cost_usd(model, prompt, completion) or 0.0


def count_tokens(model: str, text: str | None = None, messages: list[dict[str, Any]] | None = None) -> int:
    """Tokens of ``text`` or chat ``messages`` for ``model`` (``litellm.token_counter``, offline).

    Models litellm has no tokenizer for are counted with its default (tiktoken cl100k). Where
    litellm counts a message list as the sum of its messages plus a fixed reply priming (checked
    once per model on a probe), short messages (the analysts' instructions, sent with every prompt)
    are counted once and remembered; the result is the same number.
    """
    lib = litellm()
    if messages is not None:
        priming = _additive_priming(model) if len(messages) > 1 else None
        if priming is None:
            return int(lib.token_counter(model=model, messages=messages))
        total = priming
        for message in messages:
            content = message.get("content")
            if (
                isinstance(content, str)
                and len(content) <= _REMEMBERED_MESSAGE_CHARS
                and set(message) <= {"role", "content"}
            ):
                total += _message_tokens(model, message.get("role"), content) - priming
            else:
                total += int(lib.token_counter(model=model, messages=[message])) - priming
        return total
    return int(lib.token_counter(model=model, text=text or ""))


_REMEMBERED_MESSAGE_CHARS = 64 * 1024


MESSAGE_FRAMING_TOKENS = 16
"""Tokens allowed per message, beyond its text, by :func:`messages_size_bound` (OpenAI's chat
format takes 3–4 plus 3 for the reply's priming; other tokenizers a beginning-of-text token)."""


def messages_size_bound(messages: list[dict[str, Any]]) -> int:
    """An upper bound of :func:`count_tokens` of ``messages``, without counting: one token per
    UTF-8 byte of each message's role and text (a byte-level BPE token holds at least one byte) plus
    :data:`MESSAGE_FRAMING_TOKENS` per message and once for the list."""
    size = MESSAGE_FRAMING_TOKENS
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else orjson.dumps(content).decode()
        size += (
            len(text.encode("utf-8", "surrogatepass"))
            + len(str(message.get("role", "")).encode())
            + MESSAGE_FRAMING_TOKENS
        )
    return size


@lru_cache(maxsize=256)
def _message_tokens(model: str, role: Any, content: str) -> int:
    return int(litellm().token_counter(model=model, messages=[{"role": role, "content": content}]))


@lru_cache(maxsize=64)
def _additive_priming(model: str) -> int | None:
    """The reply priming litellm adds once per message list for ``model``, when its count of a list
    is the sum of its messages' counts less the priming each of them carried; else None."""
    lib = litellm()
    probe = [
        {"role": "system", "content": "You are a careful analyst.\nReply in JSON."},
        {"role": "user", "content": "## Trajectory t\n### step 1 · agent\nran `ls -la`"},
    ]
    try:
        priming = int(lib.token_counter(model=model, messages=[]))
        whole = int(lib.token_counter(model=model, messages=probe))
        parts = [int(lib.token_counter(model=model, messages=[message])) for message in probe]
    except Exception:  # a tokenizer that cannot be loaded offline: count lists as they are
        return None
    return priming if whole == sum(parts) - priming * (len(parts) - 1) else None


def estimate_cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for that many tokens at ``model``'s price in litellm's local cost map; None when unpriced."""
    lib = litellm()
    try:
        prompt_cost, completion_cost = lib.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # model not in the cost map
        return None
    return float(prompt_cost) + float(completion_cost)


def has_price(model: str) -> bool:
    """True when litellm's local cost map prices ``model`` above zero (so budgets can bite)."""
    return bool(estimate_cost_usd(model, 1_000_000, 1_000_000))


def context_window(model: str) -> int | None:
    """``max_input_tokens`` of ``model`` from litellm's model map, or None when unknown."""
    lib = litellm()
    try:
        info = lib.get_model_info(model=model)
    except Exception:  # model not mapped
        return None
    value = info.get("max_input_tokens") or info.get("max_tokens")
    return int(value) if value else None
