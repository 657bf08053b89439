"""When and how long to retry a model call (tenacity): rate limits, timeouts, connection errors
and 5xx are retried with exponential backoff and jitter, honouring ``Retry-After``; rate limits do
not count as attempts (they only pace the caller) up to :data:`RATE_LIMIT_PATIENCE_S`.
"""

from __future__ import annotations

import asyncio

from tenacity import RetryCallState, wait_exponential_jitter

from skillforge.llm.lib import litellm

DEFAULT_MAX_ATTEMPTS = 5


MAX_RETRY_AFTER_S = 120.0


RATE_LIMIT_PATIENCE_S = 600.0
"""How long one call keeps retrying rate limits (429), in seconds; they do not count as attempts."""


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
    for headers in (
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "litellm_response_headers", None),
    ):
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


def stopper(max_attempts: int):
    """Tenacity stop for one call: after ``max_attempts`` failed attempts, rate limits not counted
    (many callers sharing one provider limit would otherwise fail calls that only had to wait),
    or after :data:`RATE_LIMIT_PATIENCE_S` seconds of retrying."""
    limited = 0

    def stop(state: RetryCallState) -> bool:
        nonlocal limited
        if state.outcome is not None and is_rate_limit(state.outcome.exception()):
            limited += 1
        attempts = state.attempt_number - limited
        return attempts >= max_attempts or (state.seconds_since_start or 0.0) >= RATE_LIMIT_PATIENCE_S

    return stop


def waiter(initial_s: float, max_s: float):
    """Tenacity wait: the error's Retry-After if any, else exponential backoff with jitter, from
    ``initial_s`` up to ``max_s`` seconds (jitter of up to ``initial_s``)."""
    backoff = wait_exponential_jitter(multiplier=initial_s, max=max_s, jitter=initial_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = retry_after_seconds(exc)
        return retry_after if retry_after is not None else backoff(state)

    return wait
