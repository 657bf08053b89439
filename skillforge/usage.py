"""Usage: the tokens and USD that model calls took (an artifact every stage reports).

Replaces the ``{prompt_tokens, completion_tokens, cost_usd}`` dicts the stages used to pass around;
on disk (saved steps, the run manifest, consolidation.json) it keeps that dict shape
(:meth:`Usage.to_dict` / :meth:`Usage.from_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class Usage:
    """Tokens and USD of one model call or of several added up.

    Attributes:
        prompt_tokens: tokens sent, as the provider reported them (all attempts of a call).
        completion_tokens: tokens received.
        cost_usd: USD at the model's price in litellm's map (0.0 when it has none).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )

    def to_dict(self) -> dict[str, Any]:
        """``{prompt_tokens, completion_tokens, cost_usd}`` (the saved shape)."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Usage:
        """The usage of a saved dict; missing keys count as 0 (steps saved without a call)."""
        data = data or {}
        return cls(
            int(data.get("prompt_tokens", 0) or 0),
            int(data.get("completion_tokens", 0) or 0),
            float(data.get("cost_usd", 0.0) or 0.0),
        )


@dataclass
class UsageTotals:
    """Running totals across a client's calls (tokens; USD).

    Attributes:
        calls: :meth:`skillforge.llm.client.LLMClient.complete_json` calls that reached the model (failed ones included).
        cached: calls answered from the cache (no API request).
        failed_calls: calls that ended in :class:`~skillforge.llm.errors.LLMError`.
        retries: API attempts beyond the first of a call (transient errors).
        refused: calls not made because of the budget.
        prompt_tokens, completion_tokens: tokens the provider reported, all attempts.
        cost_usd: USD of all attempts.
    """

    calls: int = 0
    cached: int = 0
    failed_calls: int = 0
    retries: int = 0
    refused: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The totals as a JSON-ready dict (``cost_usd`` rounded to 6 decimals)."""
        return {**self.__dict__, "cost_usd": round(self.cost_usd, 6)}
