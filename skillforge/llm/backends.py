"""Which structured-output request each kind of model server takes: a small capability table.

Every backend speaks OpenAI's chat API through litellm, but they disagree on how to ask for JSON
that follows a schema. One wrong field and the server answers 400/422, so the request is chosen
per backend here (pure code: litellm's facts are passed in by :mod:`skillforge.llm`, the only
module that imports litellm):

============================  =======================================================  ==========================================
backend (how it is told)      request                                                  source
============================  =======================================================  ==========================================
hosted, schema-capable        ``response_format={"type": "json_schema",                OpenAI "Structured Outputs" API reference;
(litellm's                    "json_schema": {"name", "schema", "strict": false}}``    litellm translates it for Anthropic, Gemini…
``supports_response_schema``)
Ollama (``ollama/``,          the same ``json_schema`` ``response_format``, which      litellm ``llms/ollama/*/transformation.py``;
``ollama_chat/``)             litellm sends as Ollama's ``format: <schema>``           Ollama API docs, "Structured outputs"
vLLM (``hosted_vllm/``)       ``json_schema`` ``response_format`` (guided decoding)    vLLM docs, "Structured Outputs"
LM Studio (``lm_studio/``)    ``json_schema`` ``response_format``                      LM Studio docs, "Structured Output"
llama.cpp server and other    ``response_format={"type": "json_object",                llama.cpp ``tools/server/README.md``;
OpenAI-compatible servers     "schema": <schema>}`` (a grammar built from the          llama-cpp-python ``server/types.py``
(``openai/<name>`` or         schema; llama-cpp-python's server refuses a
``llamafile/`` + api_base)    ``json_schema`` type, with HTTP 500)
anything else                 ``{"type": "json_object"}`` when litellm lists           plain JSON mode; the prompt states the
                              ``response_format`` for the provider, else nothing       schema (``templates/prompts/_reply_format``)
============================  =======================================================  ==========================================

Whatever is requested, the reply is still parsed leniently and validated against the schema,
with one repair round (:meth:`skillforge.llm.client.LLMClient.complete_json`); and a server that rejects
the request (:func:`is_rejected_request`) is asked again one step down the ladder of
:func:`fallback_mode`, ending with no structured-output field at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from skillforge.llm.lib import litellm

JSON_SCHEMA = "json_schema"
JSON_OBJECT_WITH_SCHEMA = "json_object+schema"
JSON_OBJECT = "json_object"
PROMPT_ONLY = "prompt"

OPENAI_HOSTS = {"api.openai.com"}


@dataclass(frozen=True)
class Backend:
    """One row of the capability table.

    Attributes:
        name: a label for messages and docs (``ollama``, ``llama.cpp/openai-compatible``, …).
        mode: one of :data:`JSON_SCHEMA`, :data:`JSON_OBJECT_WITH_SCHEMA`, :data:`JSON_OBJECT`,
            :data:`PROMPT_ONLY`.
    """

    name: str
    mode: str


# litellm provider prefix -> backend, for self-hosted servers (the model string names them)
_BY_PREFIX = {
    "ollama": Backend("ollama", JSON_SCHEMA),
    "ollama_chat": Backend("ollama", JSON_SCHEMA),
    "hosted_vllm": Backend("vllm", JSON_SCHEMA),
    "vllm": Backend("vllm", JSON_SCHEMA),
    "lm_studio": Backend("lm_studio", JSON_SCHEMA),
    "llamafile": Backend("llama.cpp/openai-compatible", JSON_OBJECT_WITH_SCHEMA),
}
OPENAI_COMPATIBLE = Backend("llama.cpp/openai-compatible", JSON_OBJECT_WITH_SCHEMA)
HOSTED = Backend("hosted", JSON_SCHEMA)


def provider_prefix(model: str) -> str:
    """The litellm provider prefix of ``model`` (``"ollama"`` for ``ollama/qwen2.5``), or ``""``."""
    head, sep, _ = model.partition("/")
    return head.lower() if sep else ""


def is_self_hosted(api_base: str | None) -> bool:
    """True when ``api_base`` points somewhere other than OpenAI's own API."""
    if not api_base:
        return False
    host = (urlparse(api_base).hostname or "").lower()
    return host not in OPENAI_HOSTS


def choose_backend(
    model: str, api_base: str | None, *, supports_schema: bool, supports_response_format: bool
) -> Backend:
    """Pick the capability-table row for a model.

    Args:
        model: a litellm model string (``openai/local``, ``ollama/qwen2.5-coder``, ``gpt-4o-mini``).
        api_base: the server's base URL, or None for the provider's default.
        supports_schema: litellm's ``supports_response_schema(model)``.
        supports_response_format: whether litellm lists ``response_format`` among the provider's
            supported parameters.

    Returns:
        A :class:`Backend`. Order: the self-hosted prefixes of the table; then models litellm knows
        take a schema (also through a proxy's ``api_base``); then ``openai/<name>`` sent to a
        non-OpenAI ``api_base`` (an OpenAI-compatible server, llama.cpp style); then plain JSON
        mode; then prompt only.
    """
    prefix = provider_prefix(model)
    if prefix in _BY_PREFIX:
        return _BY_PREFIX[prefix]
    if supports_schema:
        return HOSTED
    if prefix in ("openai", "") and is_self_hosted(api_base):
        return OPENAI_COMPATIBLE
    if supports_response_format:
        return Backend("json-mode", JSON_OBJECT)
    return Backend("prompt-only", PROMPT_ONLY)


LOCAL_TIMEOUT_S = 600.0
"""Per-call timeout (seconds) for self-hosted servers: a CPU model takes minutes on a long prompt,
and a timed-out request keeps the server busy (llama.cpp finishes it anyway), so the retry queues
behind it. Nothing is billed while waiting."""


def is_local(model: str, api_base: str | None) -> bool:
    """True for a self-hosted server: a self-hosted prefix of the table, or a non-OpenAI ``api_base``."""
    return provider_prefix(model) in _BY_PREFIX or is_self_hosted(api_base)


def local_settings(model: str, api_base: str | None, completion_tokens: int) -> dict[str, Any]:
    """Overrides of :class:`skillforge.llm.types.LLMSettings` for a self-hosted server, or ``{}``.

    Args:
        completion_tokens: the reply's share of the context the prompts were fitted to (tokens).

    Returns:
        ``{"timeout_s": LOCAL_TIMEOUT_S, "max_tokens": completion_tokens}``: a local server has one
        context window (llama.cpp ``--n_ctx``, Ollama ``num_ctx``) for prompt and reply together, so
        the reply is capped at the share kept free for it; otherwise a small model that loops
        inside a JSON string runs until the window is full. Hosted APIs get no cap (a reasoning
        model spends output tokens before it answers).
    """
    if not is_local(model, api_base):
        return {}
    return {"timeout_s": LOCAL_TIMEOUT_S, "max_tokens": completion_tokens}


PLACEHOLDER_API_KEY = "no-key-needed"


def placeholder_api_key(model: str, api_base: str | None, environ: Mapping[str, str]) -> str | None:
    """A dummy API key for an ``openai/<name>`` model at a self-hosted ``api_base``, or None.

    litellm's OpenAI client refuses to send a request without a key, while local servers
    (llama.cpp, vLLM without ``--api-key``, LM Studio) ignore it. Returns None when the user set
    ``OPENAI_API_KEY`` (in ``environ``; litellm then sends theirs) or the model is not of that kind.
    """
    if provider_prefix(model) not in ("openai", "") or not is_self_hosted(api_base) or environ.get("OPENAI_API_KEY"):
        return None
    return PLACEHOLDER_API_KEY


def response_format_for(mode: str, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The ``response_format`` argument for ``litellm.acompletion``, or None to send none.

    Args:
        mode: a :attr:`Backend.mode` (from :func:`choose_backend`, or :func:`fallback_mode`).
        schema: the JSON Schema the reply must satisfy.
        name: a short schema name; sanitised to ``[a-zA-Z0-9_-]{1,64}`` as OpenAI requires.
    """
    if mode == JSON_SCHEMA:
        clean = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "output"
        return {"type": "json_schema", "json_schema": {"name": clean, "schema": schema, "strict": False}}
    if mode == JSON_OBJECT_WITH_SCHEMA:
        return {"type": "json_object", "schema": schema}
    if mode == JSON_OBJECT:
        return {"type": "json_object"}
    return None


_LADDER = [JSON_SCHEMA, JSON_OBJECT_WITH_SCHEMA, JSON_OBJECT, PROMPT_ONLY]


def mode_of(response_format: dict[str, Any] | None) -> str:
    """The mode a ``response_format`` made by :func:`response_format_for` stands for."""
    if not response_format:
        return PROMPT_ONLY
    if response_format.get("type") == "json_schema":
        return JSON_SCHEMA
    return JSON_OBJECT_WITH_SCHEMA if "schema" in response_format else JSON_OBJECT


def fallback_mode(refused: dict[str, Any] | None) -> str:
    """The next mode to try after a server refused ``refused``.

    The ladder is ``json_schema`` → ``json_object`` + schema (llama.cpp's grammar still enforces
    the schema) → plain ``json_object`` → prompt only; :data:`PROMPT_ONLY` is the last step.
    """
    index = _LADDER.index(mode_of(refused))
    return _LADDER[min(index + 1, len(_LADDER) - 1)]


def is_rejected_request(exc: BaseException) -> bool:
    """True when a server refused the structured-output field itself.

    That is HTTP 400/422 naming ``response_format``, a schema or a grammar, or HTTP 500 naming
    ``response_format`` (llama-cpp-python's server answers its own request-validation errors with
    500: ``'loc': ('body', 'response_format', 'type')``). Such a server is then asked one step
    down :func:`fallback_mode`; the error is not retried as is.
    """
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    if status == 500:
        return "response_format" in text
    if status not in (400, 422):
        return False
    return any(word in text for word in ("response_format", "json_schema", "json_object", "schema", "grammar"))


def structured_output_format(
    model: str, schema: dict[str, Any], name: str, *, api_base: str | None = None
) -> dict[str, Any] | None:
    """The ``response_format`` to request for ``model``, or None to rely on the prompt and validation.

    The choice is the capability table in this module (``json_schema`` for hosted
    models and Ollama/vLLM/LM Studio, ``json_object`` + ``schema`` for llama.cpp-style
    OpenAI-compatible servers at ``api_base``, plain JSON mode or nothing otherwise); this
    function only adds litellm's facts about the model.
    """
    lib = litellm()
    try:
        supports_schema = bool(lib.supports_response_schema(model=model))
    except Exception:  # unknown model/provider
        supports_schema = False
    try:
        supports_format = "response_format" in (lib.get_supported_openai_params(model=model) or [])
    except Exception:  # unknown model/provider
        supports_format = False
    backend = choose_backend(model, api_base, supports_schema=supports_schema, supports_response_format=supports_format)
    return response_format_for(backend.mode, schema, name)


def missing_keys(model: str, api_base: str | None) -> list[str]:
    """The environment variables ``model``'s provider needs that are unset (``OPENAI_API_KEY``…),
    from ``litellm.validate_environment``; empty when none is missing or the call goes to a
    self-hosted server that gets a placeholder key (:func:`placeholder_api_key`)."""
    if placeholder_api_key(model, api_base, os.environ):
        return []
    try:
        found = litellm().validate_environment(model=model, api_base=api_base)
    except Exception:  # a provider litellm cannot check
        return []
    return [str(key) for key in found.get("missing_keys") or [] if key not in os.environ]
