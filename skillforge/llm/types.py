"""What one model call is given and what it returns: :class:`LLMSettings` (how to reach a model)
and :class:`Completion` (a schema-checked reply with its tokens and USD), used by
:class:`skillforge.llm.client.LLMClient` and every stage that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skillforge.llm.retry import (
    DEFAULT_MAX_ATTEMPTS,
)

DEFAULT_TIMEOUT_S = 120.0
"""Seconds one API attempt may take (hosted models; a local server gets more: :mod:`.backends`)."""


DEFAULT_CONCURRENCY = 8
"""Calls in flight at once."""


@dataclass
class LLMSettings:
    """How to reach a model.

    Attributes:
        model: any litellm model string (``gpt-4o-mini``, ``anthropic/claude-…``, ``openai/<name>``
            with ``api_base`` for OpenAI-compatible servers, ``ollama/…``).
        api_base: base URL for self-hosted servers, or None.
        timeout_s: per-call timeout in seconds.
        max_attempts: API attempts per call, retries included.
        temperature: sampling temperature (None: provider default).
        max_tokens: cap on completion tokens (None: provider default).
        backoff_initial_s, backoff_max_s: exponential backoff between retries (seconds), before
            jitter; a ``Retry-After`` header overrides it.
        extra: further keyword arguments passed to ``litellm.acompletion``.
    """

    model: str
    api_base: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    temperature: float | None = 0.0
    max_tokens: int | None = None
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """A successful structured call.

    Attributes:
        data: the parsed JSON, valid against the schema.
        text: the raw reply text it was parsed from.
        prompt_tokens, completion_tokens: tokens of all attempts of this call (repair included).
        cost_usd: USD of all attempts (0.0 when the model has no price in litellm's map).
        attempts: API calls made (1 = first try succeeded; 0 when answered from the cache).
        repaired: True when the first reply was invalid and the repair round fixed it.
        cached: True when the answer came from the :class:`ResponseCache` (no tokens, no cost).
        finish_reason: the provider's reason the last reply ended (``stop``; ``length`` when it
            hit ``max_tokens``), ``""`` when not reported.
    """

    data: Any
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 0
    repaired: bool = False
    cached: bool = False
    finish_reason: str = ""
