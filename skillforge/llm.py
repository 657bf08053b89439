"""The one seam to litellm: async chat completions that return schema-checked JSON.

This is the only module that imports litellm (DESIGN §1), and it does so lazily: importing
litellm costs seconds and ~165 MB, which ``skillforge --help`` and the offline path must not pay.
``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set before the import so that litellm reads its bundled
model/cost map instead of fetching it over the network.

What a call does (:meth:`LLMClient.complete_json`):

1. waits for a slot (bounded concurrency, an :class:`asyncio.Semaphore`);
2. calls ``litellm.acompletion`` with a timeout, asking for structured output in the way the
   backend takes it (:mod:`skillforge.backends`: a capability table); a server that rejects that
   request is asked again one step down (``json_schema`` → ``json_object`` + schema →
   ``json_object`` → none: the prompt, which states the schema, and validation);
3. retries rate limits (429), timeouts, connection errors and 5xx with exponential backoff and
   jitter (tenacity), honouring a ``Retry-After`` header when the provider sends one; a call
   gives up after ``max_attempts`` failed attempts, where rate limits do not count (they only
   pace the caller) up to :data:`RATE_LIMIT_PATIENCE_S` of retrying;
4. parses the reply (reasoning blocks, code fences and surrounding prose skipped) and validates it with jsonschema;
   an invalid reply gets one repair round (the errors are sent back to the model);
5. accounts tokens and USD (litellm's local cost map; 0.0 when the model has no price).

Around that, this module keeps the cost under control:

* a content-addressed :class:`ResponseCache` (``.skillforge/cache/``) keyed by model, prompt
  template hash and input hash, so a rerun on the same logs makes zero calls;
* a budget (USD): before every API attempt the client estimates the attempt's cost (prompt tokens
  counted with ``litellm.token_counter`` plus the expected completion) and raises
  :class:`BudgetExceeded` instead of calling when finished + in-flight + this estimate would pass it;
* estimation helpers for dry runs (:func:`count_tokens`, :func:`estimate_cost_usd`,
  :func:`context_window`, :meth:`LLMClient.is_cached`) that never call a model.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from skillforge import backends
from skillforge.errors import SkillforgeError

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_CONCURRENCY = 8
MAX_RETRY_AFTER_S = 120.0
TRUNCATED_ECHO_CHARS = 600
"""Characters of a reply cut off at ``max_tokens`` that the repair round shows the model again."""
RATE_LIMIT_PATIENCE_S = 600.0
"""How long one call keeps retrying rate limits (429), in seconds; they do not count as attempts."""
DEFAULT_EXPECTED_COMPLETION_TOKENS = 1000
"""Completion tokens assumed for a call whose ``max_tokens`` is not set (budget checks, dry runs)."""

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


class BudgetExceeded(SkillforgeError):
    """The next API call would take spending past the budget, so it was not made.

    Once raised, the client refuses every later call too (finished work is kept by the caller).
    """


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


@dataclass
class UsageTotals:
    """Running totals across a client's calls (tokens; USD).

    Attributes:
        calls: :meth:`LLMClient.complete_json` calls that reached the model (failed ones included).
        cached: calls answered from the cache (no API request).
        failed_calls: calls that ended in :class:`LLMError`.
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


class ResponseCache:
    """Content-addressed store of validated model replies, one JSON file per key.

    Layout: ``<folder>/<key[:2]>/<key>.json`` holding ``{"model", "template", "data", "text",
    "prompt_tokens", "completion_tokens", "cost_usd"}`` (tokens and USD of the call that produced
    it). Files are written to a temporary name and renamed, so a killed run never leaves a torn
    entry, and two processes writing the same key write the same content. A file that cannot be
    read or parsed counts as a miss.

    Args:
        folder: the cache folder (created on first write), usually ``.skillforge/cache``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @staticmethod
    def key(model: str, template_hash: str, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
        """sha256 hex of (model, template hash, sha256 of the canonical JSON of messages + schema)."""
        inputs = hashlib.sha256(orjson.dumps({"messages": messages, "schema": schema}, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return hashlib.sha256("\x1f".join((model, template_hash, inputs)).encode()).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record for ``key``, or None (missing or unreadable)."""
        try:
            record = orjson.loads(self.path(key).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return record if isinstance(record, dict) and "data" in record else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key`` atomically.

        Raises:
            OSError: when the cache folder cannot be written.
        """
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=target.parent, prefix=".tmp-", delete=False) as handle:
            handle.write(orjson.dumps(record))
        os.replace(handle.name, target)


class LLMClient:
    """Makes schema-checked JSON calls through litellm with bounded concurrency, a cache and a budget.

    Args:
        settings: see :class:`LLMSettings`.
        concurrency: most calls in flight at once.
        cache: where replies are stored and looked up; None for no caching.
        budget_usd: the most this client may spend (USD); None for no limit. Only calls whose
            model has a price in litellm's map cost anything, so only they can reach it.
    """

    def __init__(
        self,
        settings: LLMSettings,
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        cache: ResponseCache | None = None,
        budget_usd: float | None = None,
    ) -> None:
        self.settings = settings
        self.totals = UsageTotals()
        self.cache = cache
        self.budget_usd = budget_usd
        self.budget_stopped = False
        self._reserved_usd = 0.0
        self._fallback_mode: str | None = None  # set when the server refused the table's request
        self.concurrency = max(1, concurrency)
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    @property
    def _semaphore(self) -> asyncio.Semaphore:
        """The concurrency bound for the running event loop: one client serves several stages,
        each run in its own ``asyncio.run`` loop, and an asyncio lock must not cross loops."""
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores = {loop: asyncio.Semaphore(self.concurrency)}
        return self._semaphores[loop]

    @property
    def expected_completion_tokens(self) -> int:
        """Completion tokens assumed per call: ``max_tokens`` or :data:`DEFAULT_EXPECTED_COMPLETION_TOKENS`."""
        return self.settings.max_tokens or DEFAULT_EXPECTED_COMPLETION_TOKENS

    def cache_key(self, messages: list[dict[str, Any]], schema: dict[str, Any], template_hash: str) -> str:
        """The cache key of a call (see :meth:`ResponseCache.key`)."""
        return ResponseCache.key(self.settings.model, template_hash, messages, schema)

    def is_cached(self, messages: list[dict[str, Any]], schema: dict[str, Any], template_hash: str = "") -> bool:
        """True when :meth:`complete_json` would answer these inputs from the cache (no call made)."""
        return self.cache is not None and self.cache.get(self.cache_key(messages, schema, template_hash)) is not None

    def estimate(self, messages: list[dict[str, Any]], schema: dict[str, Any], template_hash: str = "", prompt_tokens: int | None = None) -> CallEstimate:
        """Estimate a :meth:`complete_json` call without making it (dry runs).

        Prompt tokens are counted locally (or taken from ``prompt_tokens`` when the caller
        counted the messages already); the completion is assumed to take
        :attr:`expected_completion_tokens`; a cached call costs nothing. Repair rounds are not
        foreseen.
        """
        if self.is_cached(messages, schema, template_hash):
            return CallEstimate(cached=True)
        prompt = prompt_tokens if prompt_tokens else count_tokens(self.settings.model, messages=messages)
        completion = self.expected_completion_tokens
        return CallEstimate(False, prompt, completion, estimate_cost_usd(self.settings.model, prompt, completion))

    async def complete_json(
        self,
        messages: list[dict[str, Any]],
        schema: dict[str, Any],
        *,
        schema_name: str = "output",
        template_hash: str = "",
    ) -> Completion:
        """Send ``messages``; return the reply parsed as JSON and valid against ``schema``.

        A reply found in the cache (same model, ``template_hash``, messages and schema) is
        returned without a call (``cached=True``); a fresh valid reply is stored there.

        Args:
            messages: OpenAI-style chat messages.
            schema: a JSON Schema (Draft 2020-12) the reply must satisfy.
            schema_name: a short name for the schema (sent with ``response_format``).
            template_hash: hash of the prompt template the messages were made from (cache key).

        Returns:
            A :class:`Completion`.

        Raises:
            LLMError: retries exhausted on a transient error, a non-retryable API error, or a
                reply still invalid after one repair round.
            BudgetExceeded: the next API attempt would pass the budget (nothing was sent).
        """
        validator = Draft202012Validator(schema)
        key = self.cache_key(messages, schema, template_hash) if self.cache is not None else ""
        if self.cache is not None:
            record = self.cache.get(key)
            if record is not None and not any(True for _ in validator.iter_errors(record["data"])):
                self.totals.cached += 1
                return Completion(data=record["data"], text=record.get("text", ""), cached=True)
        result = Completion(data=None, text="")
        async with self._semaphore:
            try:
                text = await self._call(messages, schema, schema_name, result)
                try:
                    result.data = parse_json_reply(text, validator)
                except InvalidOutput as problem:
                    shown = text
                    if result.finish_reason == "length":  # say why, or a small model repeats the long reply
                        limit = f" ({self.settings.max_tokens} tokens)" if self.settings.max_tokens else ""
                        problem = InvalidOutput(
                            f"the reply was cut off at the completion-token limit{limit} before the JSON ended; "
                            "write a shorter, complete JSON (fewer and shorter items)"
                        )
                        # echo only its start: the whole of it would crowd a small context window
                        shown = text[:TRUNCATED_ECHO_CHARS] + " [… cut off]"
                    repair = [
                        *messages,
                        {"role": "assistant", "content": shown},
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
            except BudgetExceeded:
                self.totals.refused += 1
                raise
            finally:
                if result.attempts:
                    self.totals.calls += 1
        result.text = text
        if self.cache is not None:
            self.cache.put(
                key,
                {
                    "model": self.settings.model,
                    "template": template_hash,
                    "data": result.data,
                    "text": text,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "cost_usd": result.cost_usd,
                },
            )
        return result

    def _admit(self, messages: list[dict[str, Any]]) -> float:
        """Reserve the estimated USD of one attempt, or raise :class:`BudgetExceeded`."""
        if self.budget_usd is None:
            return 0.0
        if self.budget_stopped:
            raise BudgetExceeded(f"budget of ${self.budget_usd:.4f} reached; no further calls")
        estimate = estimate_cost_usd(self.settings.model, count_tokens(self.settings.model, messages=messages), self.expected_completion_tokens) or 0.0
        if self.totals.cost_usd + self._reserved_usd + estimate > self.budget_usd:
            self.budget_stopped = True
            raise BudgetExceeded(
                f"budget of ${self.budget_usd:.4f} reached: spent ${self.totals.cost_usd:.4f}, "
                f"the next call would cost about ${estimate:.4f}"
            )
        self._reserved_usd += estimate
        return estimate

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
            placeholder = backends.placeholder_api_key(self.settings.model, self.settings.api_base, os.environ)
            if placeholder and "api_key" not in kwargs:
                kwargs["api_key"] = placeholder
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        if self.settings.max_tokens is not None:
            kwargs["max_tokens"] = self.settings.max_tokens
        if self._fallback_mode is None:
            response_format = structured_output_format(self.settings.model, schema, schema_name, api_base=self.settings.api_base)
        else:
            response_format = backends.response_format_for(self._fallback_mode, schema, schema_name)
        if response_format is not None:
            kwargs["response_format"] = response_format
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda exc: is_transient(exc) and not (response_format and backends.is_rejected_request(exc))),
            stop=_stopper(self.settings),
            wait=_waiter(self.settings),
            reraise=True,
        )
        tries = 0
        try:
            async for attempt in retrying:
                with attempt:
                    reserved = self._admit(messages)
                    tries += 1
                    result.attempts += 1
                    if tries > 1:
                        self.totals.retries += 1
                    try:
                        response = await lib.acompletion(**kwargs)
                    finally:
                        self._reserved_usd -= reserved
        except BudgetExceeded:
            raise
        except Exception as exc:  # litellm maps provider errors onto openai exception classes
            if response_format is not None and backends.is_rejected_request(exc):
                # this server refuses that field: step down the ladder for this and later calls
                self._fallback_mode = backends.fallback_mode(response_format)
                return await self._call(messages, schema, schema_name, result)
            kind = "retries exhausted" if is_transient(exc) else "call failed"
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise LLMError(f"{self.settings.model}: {kind} after {tries} attempt(s): {type(exc).__name__}: {first_line}", result.attempts) from exc
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = _cost(lib, response, self.settings.model, usage)
        result.prompt_tokens += prompt_tokens
        result.completion_tokens += completion_tokens
        result.cost_usd += cost
        # totals move per attempt, so a budget check between attempts sees what was just spent
        self.totals.prompt_tokens += prompt_tokens
        self.totals.completion_tokens += completion_tokens
        self.totals.cost_usd += cost
        choice = response.choices[0]
        result.finish_reason = str(getattr(choice, "finish_reason", "") or "")
        return choice.message.content or ""


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


def is_rate_limit(exc: BaseException | None) -> bool:
    """True for a rate limit (HTTP 429): the provider pacing its callers, not a failure."""
    if exc is None:
        return False
    return isinstance(exc, litellm().RateLimitError) or getattr(exc, "status_code", None) == 429


def _stopper(settings: LLMSettings):
    """Tenacity stop for one call: after ``max_attempts`` failed attempts, rate limits not counted
    (many callers sharing one provider limit would otherwise fail calls that only had to wait),
    or after :data:`RATE_LIMIT_PATIENCE_S` seconds of retrying."""
    limited = 0

    def stop(state: RetryCallState) -> bool:
        nonlocal limited
        if state.outcome is not None and is_rate_limit(state.outcome.exception()):
            limited += 1
        return state.attempt_number - limited >= settings.max_attempts or state.seconds_since_start >= RATE_LIMIT_PATIENCE_S

    return stop


def _waiter(settings: LLMSettings):
    """Tenacity wait: the error's Retry-After if any, else exponential backoff with jitter."""
    backoff = wait_exponential_jitter(multiplier=settings.backoff_initial_s, max=settings.backoff_max_s, jitter=settings.backoff_initial_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = retry_after_seconds(exc)
        return retry_after if retry_after is not None else backoff(state)

    return wait


def structured_output_format(model: str, schema: dict[str, Any], name: str, *, api_base: str | None = None) -> dict[str, Any] | None:
    """The ``response_format`` to request for ``model``, or None to rely on the prompt and validation.

    The choice is the capability table in :mod:`skillforge.backends` (``json_schema`` for hosted
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
    backend = backends.choose_backend(model, api_base, supports_schema=supports_schema, supports_response_format=supports_format)
    return backends.response_format_for(backend.mode, schema, name)


_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_MAX_STARTS = 50  # top-level ``{``/``[`` positions tried per candidate text


def parse_json_reply(text: str, validator: Draft202012Validator) -> Any:
    """Parse a model reply as JSON and validate it, tolerating what chat models wrap around JSON.

    Stripped or skipped: ``<think>…</think>`` reasoning blocks, code fences (with or without a
    language tag or a newline), prose before and after the value, and values that do not parse
    (a ``[note]`` in the prose). Fenced blocks are tried first, then the whole reply; among the
    top-level JSON values found, the first one valid against the schema wins (a model that echoes
    an example before its answer still passes).

    Returns:
        The parsed value (dict, list, …).

    Raises:
        InvalidOutput: when no JSON value can be parsed, or none fits the schema (the message
            lists up to three schema errors of the longest value, with their paths).
    """
    text = _THINKING.sub("", text)
    decoder = json.JSONDecoder()
    values: list[tuple[int, Any]] = []  # (length in characters, value) of each parsed, invalid value
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        position, tried = 0, 0
        while tried < _MAX_STARTS:
            starts = [i for i in (candidate.find("{", position), candidate.find("[", position)) if i >= 0]
            if not starts:
                break
            start, tried = min(starts), tried + 1
            try:
                value, end = decoder.raw_decode(candidate, start)
            except ValueError:
                position = start + 1
                continue
            if not any(True for _ in validator.iter_errors(value)):
                return value
            values.append((end - start, value))
            position = end  # values nested inside this one are not answers of their own
    if not values:
        raise InvalidOutput("the reply contains no parseable JSON")
    longest = max(values, key=lambda pair: pair[0])[1]
    errors = sorted(validator.iter_errors(longest), key=lambda e: list(e.path))
    described = "; ".join(f"at {'/'.join(map(str, e.path)) or '(root)'}: {e.message[:200]}" for e in errors[:3])
    raise InvalidOutput(f"JSON does not match the schema: {described}")


def _cost(lib, response, model: str, usage) -> float:
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
            if isinstance(content, str) and len(content) <= _REMEMBERED_MESSAGE_CHARS and set(message) <= {"role", "content"}:
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
        size += len(text.encode("utf-8", "surrogatepass")) + len(str(message.get("role", "")).encode()) + MESSAGE_FRAMING_TOKENS
    return size


@lru_cache(maxsize=256)
def _message_tokens(model: str, role: Any, content: str) -> int:
    return int(litellm().token_counter(model=model, messages=[{"role": role, "content": content}]))


@lru_cache(maxsize=64)
def _additive_priming(model: str) -> int | None:
    """The reply priming litellm adds once per message list for ``model``, when its count of a list
    is the sum of its messages' counts less the priming each of them carried; else None."""
    lib = litellm()
    probe = [{"role": "system", "content": "You are a careful analyst.\nReply in JSON."}, {"role": "user", "content": "## Trajectory t\n### step 1 · agent\nran `ls -la`"}]
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
        prompt_cost, completion_cost = lib.cost_per_token(model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
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
