"""The eval package's one seam to the LLM module: every name it uses from it is imported here.

(The LLM module is the package ``skillforge/llm/``; if its modules move again, the imports below are
the only ones to change.)
"""

from __future__ import annotations

from pathlib import Path

from skillforge.config import ModelConfig
from skillforge.errors import SkillforgeError
from skillforge.llm import backends
from skillforge.llm.cache import ResponseCache
from skillforge.llm.client import Completion, LLMClient, LLMSettings
from skillforge.llm.errors import BudgetExceeded, LLMError
from skillforge.llm.tokens import (
    DEFAULT_EXPECTED_COMPLETION_TOKENS,
    StageEstimate,
    context_window,
    count_tokens,
    estimate_cost_usd,
    has_price,
)

__all__ = [
    "BudgetExceeded",
    "Completion",
    "LLMClient",
    "LLMError",
    "StageEstimate",
    "context_window",
    "count_tokens",
    "estimate_cost_usd",
    "has_price",
    "judge_client",
    "judge_context_tokens",
    "require_model",
]

CACHE_DIR = "cache"
DEFAULT_CONTEXT_TOKENS = 8192
"""Context assumed for a model litellm's model map does not know (tokens), as ``distill`` does."""


def judge_client(
    model: ModelConfig, workspace: Path, budget_usd: float | None = None, *, cached: bool = True
) -> LLMClient:
    """An :class:`LLMClient` for the judge, configured as ``distill`` configures its analysts: the
    response cache in ``<workspace>/cache`` (a rerun of the same evaluation costs nothing; ``cached``
    False: no cache, for estimating prompts that cannot have been answered yet), the settings a
    self-hosted server needs, and the budget (USD).

    Raises:
        SkillforgeError: no model configured (the retrospective judge needs one).
    """
    name = require_model(model)
    local = backends.local_settings(name, model.api_base, DEFAULT_EXPECTED_COMPLETION_TOKENS)
    settings = LLMSettings(model=name, api_base=model.api_base, **local)
    cache = ResponseCache(Path(workspace) / CACHE_DIR) if cached else None
    return LLMClient(settings, model.concurrency, cache=cache, budget_usd=budget_usd)


def require_model(model: ModelConfig) -> str:
    """Check that a model is configured, before anything is read or run; return its name.

    Raises:
        SkillforgeError: no model (the retrospective judge needs one).
    """
    if not model.model:
        raise SkillforgeError(
            "the retrospective judge needs a model: pass --model <litellm model name>, or set SKILLFORGE_MODEL, "
            "or model under [llm] in skillforge.toml"
        )
    return model.model


def judge_context_tokens(model: ModelConfig) -> int:
    """``context_tokens`` of ``model``, else its ``max_input_tokens`` in litellm's map, else 8192."""
    if model.context_tokens:
        return model.context_tokens
    return context_window(model.model or "") or DEFAULT_CONTEXT_TOKENS
