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
