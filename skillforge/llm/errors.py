"""Errors of model calls: a call that failed for good, and a budget that stops further calls."""

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
