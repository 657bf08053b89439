"""The guard in tests/conftest.py notices what a test writes into skillforge's default folders."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import _fingerprint


def test_the_guard_sees_a_new_store_a_new_version_and_a_new_run(tmp_path: Path) -> None:
    store, workspace = tmp_path / "skills", tmp_path / ".skillforge"
    assert _fingerprint(store) is None
    (store / "demo").mkdir(parents=True)
    first = _fingerprint(store)
    assert first is not None
    (store / "demo" / "references").mkdir()  # a change inside a skill's folder
    second = _fingerprint(store)
    assert second != first
    (store / ".git" / "refs" / "tags").mkdir(parents=True)
    assert _fingerprint(store) != second
    (workspace / "runs" / "20260101-000000-aaaaaa").mkdir(parents=True)
    before = _fingerprint(workspace)
    (workspace / "runs" / "20260101-000001-bbbbbb").mkdir()  # a second run, two levels down
    assert _fingerprint(workspace) != before
    assert _fingerprint(workspace) == _fingerprint(workspace)  # reading changes nothing
