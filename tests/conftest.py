"""Shared fixtures: where the real traces are, a scratch working directory, a real local model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_TRACES = REPO / "sample_traces"
SHARED_TRACES = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces"))


def require_shared_traces(sub: str = "") -> Path:
    """The real trace corpus ``../shared/traces`` (or a folder in it), for a test that needs it.

    Under CI (``CI`` set) a missing corpus FAILS the test: CI has it beside the clone, and a suite
    that silently skips a quarter of itself is not a green run. Elsewhere it skips with the reason.
    Returns ``SHARED_TRACES / sub``.
    """
    path = SHARED_TRACES / sub if sub else SHARED_TRACES
    if not path.exists():
        reason = f"real trace corpus not found at {path} (set SKILLFORGE_SHARED_TRACES)"
        if _in_ci():
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(f"{reason}; bundled sample_traces/ still cover the core")
    return path


@pytest.fixture
def shared_traces() -> Path:
    """The real trace corpus in ../shared/traces: see :func:`require_shared_traces`."""
    return require_shared_traces()


@pytest.fixture
def sample_traces() -> Path:
    """The small real logs bundled with the project."""
    return SAMPLE_TRACES


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty temporary folder (the default store ./skills lands there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def local_model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator["LlamaServer"]:  # noqa: F821
    """llama-cpp-python's OpenAI-compatible server with a real 0.5B model, for the whole session.

    Builds/fetches into ``~/.cache/skillforge-ci`` on first use (tests/local_model.py), starts the
    server on a free 127.0.0.1 port and always stops it. Yields a ``LlamaServer`` (``api_base``,
    ``port``, ``log_tail()``). A build or fetch failure fails the test loudly; outside CI,
    ``SKILLFORGE_SKIP_LOCAL_MODEL=1`` skips instead (or deselect with ``-m "not local_model"``).
    """
    from tests.local_model import LlamaServer, PrepareError, prepare

    if os.environ.get("SKILLFORGE_SKIP_LOCAL_MODEL") == "1" and not _in_ci():
        pytest.skip("SKILLFORGE_SKIP_LOCAL_MODEL=1: the real-model tests are skipped")
    hint = "CI must run these" if _in_ci() else "set SKILLFORGE_SKIP_LOCAL_MODEL=1 to skip them locally"
    try:
        prepared = prepare()
        server = LlamaServer(prepared, tmp_path_factory.mktemp("llama-server") / "server.log").start()
    except PrepareError as problem:
        pytest.fail(f"the local model server is unavailable ({hint}): {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
