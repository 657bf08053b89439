"""The one seam to litellm: async chat completions that return schema-checked JSON.

Only the :mod:`skillforge.llm` package imports litellm (DESIGN §1), lazily (:mod:`.lib`).

What a call does (:meth:`LLMClient.complete_json`):

1. waits for a slot (bounded concurrency, an :class:`asyncio.Semaphore`);
2. calls ``litellm.acompletion`` with a timeout, asking for structured output in the way the
   backend takes it (:mod:`skillforge.llm.backends`: a capability table); a server that rejects that
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
import os
from typing import Any

from jsonschema import Draft202012Validator
from tenacity import AsyncRetrying, retry_if_exception

from skillforge.llm import backends
from skillforge.llm.cache import ResponseCache
from skillforge.llm.errors import BudgetExceeded, FatalLLMError, LLMError, shorten
from skillforge.llm.lib import litellm
from skillforge.llm.replies import TRUNCATED_ECHO_CHARS, InvalidOutput, parse_json_reply
from skillforge.llm.retry import (
    fatal_reason,
    is_transient,
    stopper,
    waiter,
)
from skillforge.llm.tokens import (
    DEFAULT_EXPECTED_COMPLETION_TOKENS,
    CallEstimate,
    count_tokens,
    estimate_cost_usd,
    response_cost,
)
from skillforge.llm.types import DEFAULT_CONCURRENCY, Completion, LLMSettings
from skillforge.usage import UsageTotals


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
        self.fatal: FatalLLMError | None = None
        self.answered = False
        self.last_error = ""
        self._reserved_usd = 0.0
        self._fallback_mode: str | None = None  # set when the server refused the table's request
        self.concurrency = max(1, concurrency)
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._gates: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @property
    def _semaphore(self) -> asyncio.Semaphore:
        """The concurrency bound for the running event loop: one client serves several stages,
        each run in its own ``asyncio.run`` loop, and an asyncio lock must not cross loops."""
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores = {loop: asyncio.Semaphore(self.concurrency)}
        return self._semaphores[loop]

    @property
    def _gate(self) -> asyncio.Lock:
        """Until a call is answered, calls go one at a time: a missing key or a wrong server then
        costs one call, not one per slot of the concurrency (per event loop, as the semaphore)."""
        loop = asyncio.get_running_loop()
        if loop not in self._gates:
            self._gates = {loop: asyncio.Lock()}
        return self._gates[loop]

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

    def estimate(
        self,
        messages: list[dict[str, Any]],
        schema: dict[str, Any],
        template_hash: str = "",
        prompt_tokens: int | None = None,
    ) -> CallEstimate:
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
            FatalLLMError: the provider refused the credentials, the model does not exist or the
                server cannot be reached (:func:`~skillforge.llm.retry.fatal_reason`); then, or
                after any earlier such error of this client, nothing is sent.
        """
        validator = Draft202012Validator(schema)
        key = self.cache_key(messages, schema, template_hash) if self.cache is not None else ""
        if self.cache is not None:
            record = self.cache.get(key)
            if record is not None and not any(True for _ in validator.iter_errors(record["data"])):
                self.totals.cached += 1
                return Completion(data=record["data"], text=record.get("text", ""), cached=True)
        async with self._semaphore:
            if not self.answered:
                async with self._gate:
                    if not self.answered:  # the first call, or the next try after a first one failed
                        completion = await self._complete(messages, schema, schema_name, validator)
                        return self._store(key, template_hash, messages, completion)
            completion = await self._complete(messages, schema, schema_name, validator)
            return self._store(key, template_hash, messages, completion)

    async def _complete(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], schema_name: str, validator: Draft202012Validator
    ) -> Completion:
        """One call (attempts, the repair round), counted in :attr:`totals`; see :meth:`complete_json`."""
        if self.fatal is not None:
            raise FatalLLMError(str(self.fatal), self.fatal.reason)
        result = Completion(data=None, text="")
        try:
            text = await self._call(messages, schema, schema_name, result)
            try:
                result.data = parse_json_reply(text, validator)
            except InvalidOutput as invalid:
                problem, shown = str(invalid), text
                if result.finish_reason == "length":  # say why, or a small model repeats the long reply
                    limit = f" ({self.settings.max_tokens} tokens)" if self.settings.max_tokens else ""
                    problem = (
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
                    raise LLMError(
                        f"model output still invalid after a repair round: {again}", result.attempts
                    ) from again
                result.repaired = True
        except LLMError as exc:
            self.totals.failed_calls += 1
            self.last_error = shorten(str(exc))
            raise
        except BudgetExceeded:
            self.totals.refused += 1
            raise
        except FatalLLMError:
            self.totals.failed_calls += 1 if result.attempts else 0
            raise
        finally:
            if result.attempts:
                self.totals.calls += 1
        result.text = text
        return result

    def _store(self, key: str, template_hash: str, messages: list[dict[str, Any]], result: Completion) -> Completion:
        """Keep a fresh valid reply in the cache, with the prompt that produced it; return it."""
        if self.cache is not None:
            self.cache.put(
                key,
                {
                    "model": self.settings.model,
                    "template": template_hash,
                    "messages": messages,
                    "data": result.data,
                    "text": result.text,
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
        estimate = (
            estimate_cost_usd(
                self.settings.model,
                count_tokens(self.settings.model, messages=messages),
                self.expected_completion_tokens,
            )
            or 0.0
        )
        if self.totals.cost_usd + self._reserved_usd + estimate > self.budget_usd:
            self.budget_stopped = True
            raise BudgetExceeded(
                f"budget of ${self.budget_usd:.4f} reached: spent ${self.totals.cost_usd:.4f}, "
                f"the next call would cost about ${estimate:.4f}"
            )
        self._reserved_usd += estimate
        return estimate

    async def _call(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], schema_name: str, result: Completion
    ) -> str:
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
            response_format = backends.structured_output_format(
                self.settings.model, schema, schema_name, api_base=self.settings.api_base
            )
        else:
            response_format = backends.response_format_for(self._fallback_mode, schema, schema_name)
        if response_format is not None:
            kwargs["response_format"] = response_format
        retrying = AsyncRetrying(
            retry=retry_if_exception(
                lambda exc: (
                    is_transient(exc)
                    and not (response_format and backends.is_rejected_request(exc))
                    and fatal_reason(exc, answered=self.answered) is None
                )
            ),
            stop=stopper(self.settings.max_attempts),
            wait=waiter(self.settings.backoff_initial_s, self.settings.backoff_max_s),
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
            reason = fatal_reason(exc, answered=self.answered)
            if reason is not None:
                self.fatal = FatalLLMError(self._fatal_message(reason, exc), reason)
                self.last_error = shorten(str(self.fatal))
                raise self.fatal from exc
            if response_format is not None and backends.is_rejected_request(exc):
                # this server refuses that field: step down the ladder for this and later calls
                self._fallback_mode = backends.fallback_mode(response_format)
                return await self._call(messages, schema, schema_name, result)
            kind = "retries exhausted" if is_transient(exc) else "call failed"
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise LLMError(
                f"{self.settings.model}: {kind} after {tries} attempt(s): {type(exc).__name__}: {first_line}",
                result.attempts,
            ) from exc
        self.answered = True
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = response_cost(lib, response, self.settings.model, usage)
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

    def _fatal_message(self, reason: str, exc: BaseException) -> str:
        """One line: the provider's message and what to set (see :class:`FatalLLMError`)."""
        model = self.settings.model
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if reason == "credentials":
            keys = backends.missing_keys(model, self.settings.api_base)
            what = f"set {' or '.join(keys)} in the environment" if keys else "check the provider's API key"
            return f"{model}: the provider refused the call for its credentials ({said}); {what} and run again"
        if reason == "model":
            return (
                f"{model}: no such model ({said}); give --model a litellm model name "
                "(https://docs.litellm.ai/docs/providers)"
            )
        where = self.settings.api_base or "the provider"
        return f"{model}: cannot reach {where} ({said}); is the server running? check --api-base"
