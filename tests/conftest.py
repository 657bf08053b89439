"""Shared fixtures: where the real traces are, a scratch working directory, a real local model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_TRACES = REPO / "sample_traces"
SHARED_TRACES = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces"))


@pytest.fixture
def shared_traces() -> Path:
    """The real trace corpus in ../shared/traces (CI has it beside the clone); skip when absent."""
    if not SHARED_TRACES.is_dir():
        pytest.skip(f"real trace corpus not found at {SHARED_TRACES} (set SKILLFORGE_SHARED_TRACES); bundled sample_traces/ still cover the core")
    return SHARED_TRACES


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
