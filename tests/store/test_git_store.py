"""The git-backed skill store."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from skillforge.errors import SkillforgeError
from skillforge.store.git_store import SkillStore


def _skill(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "staged" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(text)
    return folder


def test_versions_are_commits_and_tags_history_kept(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    assert store.versions("demo") == [] and store.latest_version("demo") == 0
    v1 = store.commit_version("demo", 1, _skill(tmp_path, "one\n"), {"inputs": ["a"], "trajectories": 3})
    v2 = store.commit_version("demo", 2, _skill(tmp_path, "two\n"), {"inputs": ["b"], "trajectories": 4})
    assert (tmp_path / "skills" / "demo" / "SKILL.md").read_text() == "two\n"
    versions = store.versions("demo")
    assert [(v.version, v.tag, v.info["inputs"]) for v in versions] == [(1, "demo/v1", ["a"]), (2, "demo/v2", ["b"])]
    repo = git.Repo(tmp_path / "skills")
    assert repo.git.show(f"{v1.tag}:demo/SKILL.md") == "one"
    assert repo.head.commit.hexsha == v2.commit
    assert store.skill_names() == ["demo"]
    repo.git.fsck("--strict")


def test_version_numbers_must_follow(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    with pytest.raises(SkillforgeError, match="next version is v1"):
        store.commit_version("demo", 2, _skill(tmp_path, "x\n"), {})


def test_materialize_reads_a_version_from_history(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _skill(tmp_path, "one\n"), {})
    store.commit_version("demo", 2, _skill(tmp_path, "two\n"), {})
    folder = store.materialize("demo", 1, tmp_path / "out")
    assert (folder / "SKILL.md").read_text() == "one\n"
    assert store.version("demo").version == 2
    with pytest.raises(SkillforgeError, match="has no v7"):
        store.version("demo", 7)


def test_provenance_is_committed_with_its_version(tmp_path: Path) -> None:
    from skillforge.store.provenance import Provenance, Span

    store = SkillStore(tmp_path / "skills")
    first = Provenance("demo", 1, [Span("SKILL.md", 1, 1, ["L-a"], 2)], {"L-a": {"title": "t"}})
    store.commit_version("demo", 1, _skill(tmp_path, "one\n"), {}, first)
    store.commit_version("demo", 2, _skill(tmp_path, "two\n"), {})
    assert store.provenance("demo", 1) == first
    assert store.provenance("demo", 1).spans_for("SKILL.md", 1)[0].lesson_ids == ["L-a"]
    assert store.provenance("demo", 2) is None  # no stale provenance for a version without one
