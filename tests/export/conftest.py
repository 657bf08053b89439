"""Fixtures for export tests: a store holding skills distilled from the real traces, a temporary
project folder, and a temporary $HOME so that no test can write into the real home folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rich.progress import Progress

from skillforge.distill.options import DistillOptions
from skillforge.distill.pipeline import distill
from skillforge.store.git_store import SkillStore
from tests.conftest import SHARED_TRACES, require_shared_traces


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$HOME for every export test: an empty temporary folder."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, made the current folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture(scope="session")
def distilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ``airline`` (from tau-bench, with the OpenHands, SWE-agent and mini-swe-agent runs
    beside it and one-off items kept, so that the evidence table overflows its 20 rows: SKILL.md +
    references/evidence.md) and ``spotter`` (from Claude Code sessions), both distilled offline from
    ../shared/traces. Read-only: tests that add versions use :func:`store`."""
    require_shared_traces()
    root = tmp_path_factory.mktemp("distilled") / "skills"
    airline = ["tau-bench", "openhands", "swe-agent", "mini-swe-agent"]
    for folders, name in ((airline, "airline"), (["claude-code"], "spotter")):
        paths = [SHARED_TRACES / folder for folder in folders]
        options = DistillOptions(
            paths=paths, skill_name=name, store_dir=root, min_support=1, workspace=root.parent / ".skillforge"
        )
        result = distill(options, Progress(disable=True))
        assert result.version is not None, result.validation
    return root


@pytest.fixture
def store(distilled: Path, tmp_path: Path) -> Path:
    """A private copy of the distilled store, safe to add versions to."""
    copy = tmp_path / "skills"
    shutil.copytree(distilled, copy, symlinks=True)
    return copy


def stored_files(store_root: Path, name: str, version: int | None = None) -> dict[str, bytes]:
    """The files of a stored version (relative path → bytes), read back from git."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        folder = SkillStore(store_root).materialize(name, version, Path(scratch))
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def add_version(store_root: Path, name: str, edit) -> int:
    """Store a new version of ``name``: the latest one changed by ``edit(folder)``; returns its number."""
    import tempfile

    skills = SkillStore(store_root)
    with tempfile.TemporaryDirectory() as scratch:
        folder = skills.materialize(name, None, Path(scratch))
        edit(folder)
        version = skills.latest_version(name) + 1
        skills.commit_version(name, version, folder, {"inputs": ["test"]})
    return version


def without_references(folder: Path) -> None:
    """Edit for :func:`add_version`: drop references/ and the SKILL.md line linking it."""
    shutil.rmtree(folder / "references")
    skill_md = folder / "SKILL.md"
    skill_md.write_text(
        "".join(line for line in skill_md.read_text().splitlines(keepends=True) if "references/" not in line)
    )
