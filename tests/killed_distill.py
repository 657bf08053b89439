"""A ``skillforge distill`` that SIGKILLs itself at a chosen point (run as a subprocess by
tests/distill/test_resilience.py).

Usage: python -m tests.killed_distill LOGS ASKED_LOG POINT

POINT is ``call:N`` (the model is asked its call number N, 0-based: the process dies with that call
in flight) or the name of a place in a stage without calls (see :data:`PLACES`): the process dies
on entering it. SIGKILL: no cleanup, no ``finally``, no final manifest. Every prompt the model is
asked is appended to ASKED_LOG (one sha256 per line, written before the model answers) so the test
can tell which calls were repeated after ``--resume``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from typing import Any

MODEL = "scripted/kill"
ARGS = ["--model", MODEL, "--concurrency", "1", "--propose-batch", "1", "-q"]


def digest(messages: list[dict[str, Any]]) -> str:
    """A stable digest of a prompt (what the model was asked)."""
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _on_entry(owner: Any, name: str) -> None:
    """Make ``owner.name`` kill the process when called (sync or async)."""
    import inspect

    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):

        async def killing_async(*args, **kwargs):
            die()

        setattr(owner, name, killing_async)
    else:
        setattr(owner, name, lambda *args, **kwargs: die())


def _after_return(owner: Any, name: str) -> None:
    """Make ``owner.name`` kill the process once it has returned."""
    original = getattr(owner, name)

    def killing(*args, **kwargs):
        original(*args, **kwargs)
        die()

    setattr(owner, name, killing)


def _places() -> dict[str, Any]:
    import skillforge.distill.build as build
    import skillforge.distill.pipeline as pipeline
    import skillforge.store.git_store as git_store

    return {
        # the run folder exists, nothing analysed yet
        "start": lambda: _on_entry(pipeline, "start_stage"),
        # every analyst pass finished, the build not begun
        "build": lambda: _on_entry(pipeline, "build_stage"),
        # consolidation finished; patch application / the staged skill folder being written
        "apply": lambda: _on_entry(build, "apply_patch"),
        "stage-write": lambda: _on_entry(build, "_write"),
        # inside the store's write: journal written and the new folder copied, not swapped in
        "store-copy": lambda: _on_entry(git_store, "stamp_copy"),
        # folder swapped in, not committed
        "store-commit": lambda: _on_entry(git_store.SkillStore, "_commit"),
        # committed, not tagged
        "store-tag": lambda: _on_entry(git_store.SkillStore, "_tag"),
        # the version is stored; the run's manifest not yet marked done
        "stored": lambda: _after_return(pipeline, "store_stage"),
    }


PLACES = ("start", "build", "apply", "stage-write", "store-copy", "store-commit", "store-tag", "stored")


def main() -> None:
    logs, asked_log, point = sys.argv[1], sys.argv[2], sys.argv[3]
    from tests.scripted_llm import install, pipeline_responder

    answer = pipeline_responder()
    kill_at = int(point.split(":")[1]) if point.startswith("call:") else None

    def respond(messages, index):
        with open(asked_log, "a", encoding="utf-8") as handle:
            handle.write(digest(messages) + "\n")
        if index == kill_at:
            die()
        return answer(messages, index)

    install(respond)
    if kill_at is None:
        _places()[point]()
    from skillforge.cli import main as cli

    sys.argv = ["skillforge", "distill", logs, *ARGS]
    cli()


if __name__ == "__main__":
    main()
