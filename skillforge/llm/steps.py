"""Saved steps: the one place the build stages' model calls are made, saved and reused.

Every call of the build (a proposal, a merge, the translation of unmatched edits, a fix round) is a
*saved step*: its reply is written to the run folder as soon as it arrives, under a key made from
everything that produced it (the model, the prompt template's hash, the inputs; :func:`digest`),
and a resumed run that finds a step with the same key reuses it instead of calling again
(DESIGN §4: a run that stops half way resumes from what it has). :func:`cached_step` is that
pattern, written once.

A saved step is a JSON object ``{"key", "status": "done"|"failed", "usage", "reply", "error", …}``
(plus fields the caller adds for auditing, e.g. ``lesson_ids``); a failed step is recorded for the
report but never reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson

from skillforge.llm.errors import BudgetExceeded, FatalLLMError
from skillforge.usage import Usage

if TYPE_CHECKING:
    from skillforge.llm.client import LLMClient


class StepJournal(Protocol):
    """Where saved steps live: a run folder (:class:`skillforge.distill.runfolder.RunFolder`)."""

    root: Path

    def load_step(self, relative: str, key: str) -> dict[str, Any] | None:
        """The finished step saved at ``relative`` under ``key``, else None."""
        ...

    def save_step(self, relative: str, data: dict[str, Any]) -> Path:
        """Write ``data`` at ``relative`` atomically; return the path."""
        ...


def digest(*parts: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``parts`` (dict keys sorted): the key of a saved step."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class StepReply:
    """What :func:`cached_step` got.

    Attributes:
        status: ``done`` (called now), ``reused`` (found saved), ``failed`` (the call failed).
        data: the reply, valid against the step's schema; None when failed.
        usage: tokens and USD of the call (a reused step's saved usage; nothing when failed).
        error: ``"<ExceptionType>: <message>"`` when failed.
        saved: the saved record a reused step was read from (``{}`` otherwise).
    """

    status: Literal["done", "reused", "failed"]
    data: Any = None
    usage: Usage = field(default_factory=Usage)
    error: str = ""
    saved: dict[str, Any] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        """Model calls this step made now: 0 when reused, else 1."""
        return 0 if self.status == "reused" else 1


async def cached_step(
    journal: StepJournal,
    relative: str,
    key: str,
    client: LLMClient,
    messages: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]],
    schema: dict[str, Any],
    *,
    schema_name: str,
    template_hash: str,
    record: dict[str, Any] | None = None,
    save_failure: bool = False,
) -> StepReply:
    """Reuse the step saved at ``relative`` under ``key``, or make the call and save it.

    Args:
        journal: the run folder.
        relative: the step's file under it (``patches/patch_0001.json``).
        key: the step's key (:func:`digest` of the model, template hash and inputs).
        client: the model client (:meth:`LLMClient.complete_json`).
        messages: the prompt, or a function rendering it (called only when the step is not saved).
        schema: the JSON Schema the reply must satisfy; schema_name: its short name.
        template_hash: the prompt template's hash (part of the response cache's key).
        record: fields saved with the step for auditing (``lesson_ids``, ``inputs``).
        save_failure: also save a failed call (``status: failed``, never reused) for the report.

    Returns:
        A :class:`StepReply`. A failed call (:class:`~skillforge.llm.errors.LLMError`, or any
        error of a provider) is returned as ``failed``, not raised: each caller has its fallback.

    Raises:
        BudgetExceeded: the call would pass the budget (nothing was sent, nothing saved).
        FatalLLMError: no retry can fix the call (credentials, model, server); nothing saved.
    """
    saved = journal.load_step(relative, key)
    if saved is not None:
        return StepReply("reused", saved.get("reply"), Usage.from_dict(saved.get("usage")), saved=saved)
    prompt = messages() if callable(messages) else messages
    try:
        completion = await client.complete_json(prompt, schema, schema_name=schema_name, template_hash=template_hash)
    except (BudgetExceeded, FatalLLMError):
        raise
    except Exception as exc:  # LLMError, or a bug in a provider: the caller falls back
        error = f"{type(exc).__name__}: {exc}"
        if save_failure:
            journal.save_step(relative, {"key": key, "status": "failed", **(record or {}), "error": error})
        return StepReply("failed", error=error)
    usage = Usage(completion.prompt_tokens, completion.completion_tokens, completion.cost_usd)
    journal.save_step(
        relative, {"key": key, "status": "done", **(record or {}), "usage": usage.to_dict(), "reply": completion.data}
    )
    return StepReply("done", completion.data, usage)
