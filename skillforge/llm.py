"""The one seam to litellm: async chat completions that return schema-checked JSON.

This is the only module that imports litellm (DESIGN §1), and it does so lazily: importing
litellm costs seconds and ~165 MB, which ``skillforge --help`` and the offline path must not pay.
``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set before the import so that litellm reads its bundled
model/cost map instead of fetching it over the network.

What a call does (:meth:`LLMClient.complete_json`):

1. waits for a slot (bounded concurrency, an :class:`asyncio.Semaphore`);
2. calls ``litellm.acompletion`` with a timeout, asking for structured output through
   ``response_format`` JSON schema where litellm says the model supports it;
3. retries rate limits (429), timeouts, connection errors and 5xx with exponential backoff and
   jitter (tenacity), honouring a ``Retry-After`` header when the provider sends one;
4. parses the reply (code fences and leading prose stripped) and validates it with jsonschema;
   an invalid reply gets one repair round (the errors are sent back to the model);
5. accounts tokens and USD (litellm's local cost map; 0.0 when the model has no price).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from skillforge.errors import SkillforgeError

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_CONCURRENCY = 8
MAX_RETRY_AFTER_S = 120.0

_litellm_module = None


def litellm():
    """Import litellm on first use, offline (local cost map), quietly; return the module."""
    global _litellm_module
    if _litellm_module is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm as module

        module.suppress_debug_info = True
        module.drop_params = True
        _litellm_module = module
    return _litellm_module


class LLMError(SkillforgeError):
    """A call that failed for good: retries exhausted, or output still invalid after the repair round.

    Attributes:
        attempts: how many API calls were made.
    """

    def __init__(self, message: str, attempts: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts


class InvalidOutput(Exception):
    """The model's reply is not JSON, or not JSON that satisfies the schema."""


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
        attempts: API calls made (1 = first try succeeded).
        repaired: True when the first reply was invalid and the repair round fixed it.
    """

    data: Any
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 0
    repaired: bool = False


@dataclass
class UsageTotals:
    """Running totals across a client's calls (tokens; USD)."""

    calls: int = 0
    failed_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class LLMClient:
    """Makes schema-checked JSON calls through litellm with bounded concurrency.

    Args:
        settings: see :class:`LLMSettings`.
        concurrency: most calls in flight at once.
    """

    def __init__(self, settings: LLMSettings, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.settings = settings
        self.totals = UsageTotals()
        self._semaphore = asyncio.Semaphore(max(1, concurrency))

    async def complete_json(self, messages: list[dict[str, Any]], schema: dict[str, Any], *, schema_name: str = "output") -> Completion:
        """Send ``messages``; return the reply parsed as JSON and valid against ``schema``.

        Args:
            messages: OpenAI-style chat messages.
            schema: a JSON Schema (Draft 2020-12) the reply must satisfy.
            schema_name: a short name for the schema (sent with ``response_format``).

        Returns:
            A :class:`Completion`.

        Raises:
            LLMError: retries exhausted on a transient error, a non-retryable API error, or a
                reply still invalid after one repair round.
        """
        validator = Draft202012Validator(schema)
        result = Completion(data=None, text="")
        async with self._semaphore:
            try:
                text = await self._call(messages, schema, schema_name, result)
                try:
                    result.data = parse_json_reply(text, validator)
                except InvalidOutput as problem:
                    repair = [
                        *messages,
                        {"role": "assistant", "content": text},
                        {
                            "role": "user",
                            "content": f"Your reply was not valid: {problem}. Reply again with only the corrected JSON, nothing else.",
                        },
                    ]
                    text = await self._call(repair, schema, schema_name, result)
                    try:
                        result.data = parse_json_reply(text, validator)
                    except InvalidOutput as again:
                        raise LLMError(f"model output still invalid after a repair round: {again}", result.attempts) from again
                    result.repaired = True
            except LLMError:
                self.totals.failed_calls += 1
                raise
            finally:
                self.totals.calls += 1
                self.totals.prompt_tokens += result.prompt_tokens
                self.totals.completion_tokens += result.completion_tokens
                self.totals.cost_usd += result.cost_usd
        result.text = text
        return result

    async def _call(self, messages: list[dict[str, Any]], schema: dict[str, Any], schema_name: str, result: Completion) -> str:
        lib = litellm()
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "timeout": self.settings.timeout_s,
            "num_retries": 0,  # retries are ours (tenacity), so Retry-After and counts are visible
            **self.settings.extra,
        }
        if self.settings.api_base:
            kwargs["api_base"] = self.settings.api_base
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        if self.settings.max_tokens is not None:
            kwargs["max_tokens"] = self.settings.max_tokens
        response_format = structured_output_format(self.settings.model, schema, schema_name)
        if response_format is not None:
            kwargs["response_format"] = response_format
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=_waiter(self.settings),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    result.attempts += 1
                    if result.attempts > 1:
                        self.totals.retries += 1
                    response = await lib.acompletion(**kwargs)
        except Exception as exc:  # litellm maps provider errors onto openai exception classes
            kind = "retries exhausted" if is_transient(exc) else "call failed"
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise LLMError(f"{self.settings.model}: {kind} after {result.attempts} attempt(s): {type(exc).__name__}: {first_line}", result.attempts) from exc
        usage = getattr(response, "usage", None)
        result.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        result.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        result.cost_usd += _cost(lib, response)
        return response.choices[0].message.content or ""


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: rate limits, timeouts, connection errors, 5xx."""
    lib = litellm()
    transient = (
        lib.RateLimitError,
        lib.Timeout,
        lib.APIConnectionError,
        lib.InternalServerError,
        lib.ServiceUnavailableError,
        asyncio.TimeoutError,
    )
    if isinstance(exc, transient):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The ``Retry-After`` delay an error carries (seconds), or None.

    Looks at ``exc.response.headers`` (httpx) and ``exc.litellm_response_headers``; only the
    delta-seconds form is read (an HTTP date is ignored). Capped at :data:`MAX_RETRY_AFTER_S`.
    """
    if exc is None:
        return None
    for headers in (getattr(getattr(exc, "response", None), "headers", None), getattr(exc, "litellm_response_headers", None)):
        if not headers:
            continue
        value = headers.get("retry-after") or headers.get("Retry-After")
        try:
            return min(float(value), MAX_RETRY_AFTER_S) if value is not None else None
        except (TypeError, ValueError):
            continue
    return None


def _waiter(settings: LLMSettings):
    """Tenacity wait: the error's Retry-After if any, else exponential backoff with jitter."""
    backoff = wait_exponential_jitter(multiplier=settings.backoff_initial_s, max=settings.backoff_max_s, jitter=settings.backoff_initial_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = retry_after_seconds(exc)
        return retry_after if retry_after is not None else backoff(state)

    return wait


def structured_output_format(model: str, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The ``response_format`` to request for ``model``, or None to rely on the prompt and validation.

    Uses ``{"type": "json_schema", ...}`` when ``litellm.supports_response_schema`` says the
    model takes it; models litellm does not know get None.
    """
    lib = litellm()
    try:
        supported = lib.supports_response_schema(model=model)
    except Exception:  # unknown model/provider
        supported = False
    if not supported:
        return None
    return {"type": "json_schema", "json_schema": {"name": re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64], "schema": schema, "strict": False}}


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)\n?```", re.DOTALL)


def parse_json_reply(text: str, validator: Draft202012Validator) -> Any:
    """Parse a model reply as JSON and validate it.

    Code fences and prose before the first ``{`` or ``[`` are stripped; trailing prose after the
    JSON value is ignored.

    Raises:
        InvalidOutput: when no JSON value can be parsed or it fails the schema (message lists
            up to three schema errors with their paths).
    """
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    data: Any = None
    parsed = False
    for candidate in candidates:
        start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
        if start < 0:
            continue
        try:
            data = orjson.loads(candidate[start:])
            parsed = True
            break
        except orjson.JSONDecodeError:
            pass
        try:
            data, _ = json.JSONDecoder().raw_decode(candidate[start:])
            parsed = True
            break
        except ValueError:
            continue
    if not parsed:
        raise InvalidOutput("the reply contains no parseable JSON")
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        described = "; ".join(f"at {'/'.join(map(str, e.path)) or '(root)'}: {e.message[:200]}" for e in errors[:3])
        raise InvalidOutput(f"JSON does not match the schema: {described}")
    return data


def _cost(lib, response) -> float:
    try:
        return float(lib.completion_cost(completion_response=response) or 0.0)
    except Exception:  # no price known for this model
        return 0.0
