"""Shared fixtures: where the real traces are, and a scratch working directory."""

from __future__ import annotations

import os
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
