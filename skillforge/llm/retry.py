"""When and how long to retry a model call (tenacity): rate limits, timeouts, connection errors
and 5xx are retried with exponential backoff and jitter, honouring ``Retry-After``; rate limits do
not count as attempts (they only pace the caller) up to :data:`RATE_LIMIT_PATIENCE_S`.
"""

from __future__ import annotations

import asyncio
import re
import socket

from tenacity import RetryCallState, wait_exponential_jitter

from skillforge.llm.lib import litellm

DEFAULT_MAX_ATTEMPTS = 5
"""API attempts per call, retries included."""
MAX_RETRY_AFTER_S = 120.0
"""The longest ``Retry-After`` honoured (seconds)."""
RATE_LIMIT_PATIENCE_S = 600.0
"""How long one call keeps retrying rate limits (429), in seconds; they do not count as attempts."""


_CREDENTIALS = re.compile(
    r"missing credentials|api[_ ]?key\b[^.]*\b(?:must be set|is required|not (?:set|provided|found)|invalid|incorrect)"
    r"|(?:invalid|incorrect|no) api[_ ]?key|unauthori[sz]ed|authentication|permission denied|forbidden",
    re.IGNORECASE,
)
"""Provider messages that mean the credentials are missing or refused. litellm reports a key the
OpenAI SDK found missing as a 500 (``InternalServerError: … Missing credentials``), so the message
is read as well as the class and status."""
_UNROUTABLE = re.compile(
    r"LLM Provider NOT provided|model[^.]*(?:does not exist|not found)|unknown model", re.IGNORECASE
)
"""litellm's and providers' messages for a model name that cannot be called."""
_UNREACHABLE = re.compile(
    r"connection error|connection refused|failed to establish|name or service not known|nodename nor servname"
    r"|no route to host|cannot connect",
    re.IGNORECASE,
)
"""Messages of a server that cannot be reached at all (not a timeout)."""


def fatal_reason(exc: BaseException, *, answered: bool) -> str | None:
    """Why no retry can fix ``exc``, or None when one might.

    ``credentials`` (HTTP 401/403, or a provider saying the key is missing or wrong), ``model`` (HTTP
    404, or a model litellm cannot route), ``unreachable`` (a refused or unresolvable connection,
    only while no call of the run has been ``answered``: later, the same error is a passing fault).
    The exception and its causes (``__cause__``/``__context__``) are all looked at.
    """
    lib = litellm()
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 6:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    statuses = {getattr(e, "status_code", None) for e in chain}
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, (lib.AuthenticationError, lib.PermissionDeniedError)) for e in chain) or statuses & {401, 403}:
        return "credentials"
    if _CREDENTIALS.search(text):
        return "credentials"
    if any(isinstance(e, lib.NotFoundError) for e in chain) or 404 in statuses or _UNROUTABLE.search(text):
        return "model"
    timed_out = any(isinstance(e, (lib.Timeout, asyncio.TimeoutError, TimeoutError)) for e in chain)
    refused = any(isinstance(e, (ConnectionError, socket.gaierror)) for e in chain)
    if not answered and not timed_out and (refused or _UNREACHABLE.search(text)):
        return "unreachable"
    return None


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
