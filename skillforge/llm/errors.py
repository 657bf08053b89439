"""Errors of model calls: a call that failed for good, one that no retry can fix, and a budget
that stops further calls."""

from __future__ import annotations

from skillforge.errors import SkillforgeError


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


class FatalLLMError(SkillforgeError):
    """A call failed in a way no retry can fix: missing or refused credentials, a model that does not
    exist, a server that cannot be reached. The message says what to set.

    Not an :class:`LLMError`: a failed pass or step is reported and the run goes on, while this stops
    the run at once. Once raised, the client makes no further call (every later call raises it too).

    Attributes:
        reason: ``credentials``, ``model`` or ``unreachable``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def shorten(text: str, width: int = 100) -> str:
    """The first line of an error message, cut to ``width`` characters (for a progress line)."""
    first = (text.strip().splitlines() or [""])[0]
    return first if len(first) <= width else first[: width - 1] + "…"
