"""Redact secrets from a trajectory, in place, right after it is parsed (DESIGN §1, stage "redact").

Every text field is scanned with :mod:`skillforge.secret_scan`: the session id, step messages and
reasoning, tool-call arguments (recursively, through nested dicts and lists), observation results,
the ``extra`` values of steps and of the trajectory, and the outcome detail. A value whose *key*
names a secret (``{"password": "hunter2"}``, ``{"GITHUB_TOKEN": "…"}``;
:func:`skillforge.secret_scan.is_secret_name`) is replaced whole when it looks like a real value, since
the key is the only hint there is; so is a random-looking value of an environment-style key
ending in ``_KEY``, ``_TOKEN`` or ``_SECRET`` (``{"STRIPE_KEY": "…"}``;
:func:`skillforge.secret_scan.rules.is_env_secret_name`, then
:func:`skillforge.secret_scan.rules.random_value`). In a session id only the secret itself is
replaced (``deploy-[REDACTED:github-token]``), so ids stay distinct.

Only redacted data leaves ingest: the pipeline, the cache, the run folder and every LLM call see
trajectories after this step.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

from skillforge.secret_scan import is_secret_name, plausible_secret_value, redact_texts
from skillforge.secret_scan.rules import is_env_secret_name, random_value
from skillforge.trajectory import Outcome, Trajectory

KEYWORD_KIND = "secret-keyword"
"""Kind counted for values replaced because of their key name."""


def redact_trajectory(trajectory: Trajectory, outcome: bool = True) -> Counter:
    """Replace every secret in ``trajectory`` with ``[REDACTED:<kind>]``, in place.

    Args:
        trajectory: redacted in place.
        outcome: False leaves ``outcome.detail`` alone, for a caller that settles the outcome
            later and then redacts it with :func:`redact_outcome` (ingest does: labels may replace it).

    Returns:
        The number of secrets replaced, per kind (kinds in the order they were first found).
    """
    slots = _Slots()
    texts, places, walk = slots.texts, slots.places, slots.walk
    slots.attr(trajectory, "session_id")
    for step in trajectory.steps:
        if step.message:
            texts.append(step.message)
            places.append((step, "message", False))
        if step.reasoning_content:
            slots.attr(step, "reasoning_content")
        for call in step.tool_calls:
            if call.arguments:
                walk(call.arguments)
        if step.observation is not None:
            for result in step.observation.results:
                if result.content:
                    texts.append(result.content)
                    places.append((result, "content", False))
        if step.extra:
            walk(step.extra)
    walk(trajectory.extra)
    if outcome:
        slots.attr(trajectory.outcome, "detail")
    return slots.redact()


def redact_outcome(outcome: Outcome) -> Counter:
    """Redact ``outcome.detail`` in place; the counts per kind, as :func:`redact_trajectory`'s.

    ``redact_trajectory(t, outcome=False)`` then ``redact_outcome(t.outcome)`` gives the texts and
    the counts (kinds in the same order) of ``redact_trajectory(t)``: the detail is its last text.
    """
    slots = _Slots()
    slots.attr(outcome, "detail")
    return slots.redact()


_PLAIN = (False, False)


@lru_cache(maxsize=4096)
def _name_kinds(key: str) -> tuple[bool, bool]:
    """Whether a dict key names a secret (:func:`~skillforge.secret_scan.is_secret_name`) and whether
    it is an environment-style secret name (:func:`~skillforge.secret_scan.rules.is_env_secret_name`,
    whose values are redacted when random): one cached look-up per string value."""
    return is_secret_name(key), is_env_secret_name(key)


class _Slots:
    """Every string of a trajectory with a way to write it back (object attribute or container key)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.places: list[tuple[Any, Any, bool]] = []  # (owner, key or attribute, owner is a container)
        self.counts: Counter = Counter()

    def attr(self, owner: Any, name: str) -> None:
        value = getattr(owner, name)
        if isinstance(value, str) and value:
            self.texts.append(value)
            self.places.append((owner, name, False))

    def walk(self, value: Any, depth: int = 0) -> None:
        if depth > 64:
            return
        texts, places = self.texts, self.places
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str):
                    secret, env = _name_kinds(key) if isinstance(key, str) else _PLAIN
                    # the key names a secret and the value looks real, or an env-style name and a random value
                    if secret and plausible_secret_value(item) or env and random_value(item):
                        value[key] = f"[REDACTED:{KEYWORD_KIND}]"
                        self.counts[KEYWORD_KIND] += 1
                    elif item:
                        texts.append(item)
                        places.append((value, key, True))
                elif isinstance(item, (dict, list)):
                    self.walk(item, depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    if item:
                        texts.append(item)
                        places.append((value, index, True))
                elif isinstance(item, (dict, list)):
                    self.walk(item, depth + 1)

    def redact(self) -> Counter:
        redacted, counts = redact_texts(self.texts)
        if not counts:
            return self.counts  # nothing found: every text stays as it is
        self.counts.update(counts)
        for original, new, (owner, key, container) in zip(self.texts, redacted, self.places):
            if new is not original:
                if container:
                    owner[key] = new
                else:
                    setattr(owner, key, new)
        return self.counts
