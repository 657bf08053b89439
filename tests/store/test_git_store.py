"""The git-backed store: versions, tags, provenance, diff, rollback, version stamping."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from skillforge.errors import SkillforgeError
from skillforge.provenance import Provenance, Span
from skillforge.skill.frontmatter import parse_frontmatter
from skillforge.store.git_store import SkillStore

SKILL = """---
name: demo
description: A demo skill. Use when testing the store.
metadata:
  version: '{version}'
  generator: test
---
# Demo

## Steps

{body}
"""


def _skill(tmp_path: Path, text: str, name: str = "demo") -> Path:
    folder = tmp_path / "staged" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(text)
    return folder


def _real_skill(tmp_path: Path, body: str, version: int = 1) -> Path:
    return _skill(tmp_path, SKILL.format(version=version, body=body))


def _metadata_version(text: str) -> str:
    frontmatter, _ = parse_frontmatter(text)
    assert frontmatter is not None
    return frontmatter["metadata"]["version"]


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
    assert repo.config_reader("repository").get_value("skillforge", "store") is True


def test_version_numbers_must_not_skip(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    with pytest.raises(SkillforgeError, match="next version is v1"):
        store.commit_version("demo", 2, _skill(tmp_path, "x\n"), {})
    with pytest.raises(SkillforgeError, match="not a skill folder"):
        store.commit_version("demo", 1, tmp_path / "missing", {})


def test_a_taken_version_number_is_reallocated_and_stamped(tmp_path: Path) -> None:
    """A caller that rendered v1 while someone else stored v1 gets v2, with metadata.version = 2."""
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _real_skill(tmp_path, "first"), {})
    staged = _real_skill(tmp_path, "second", version=1)
    provenance = Provenance("demo", 1, [Span("SKILL.md", 12, 12, ["L-b"], 1)], {"L-b": {"title": "b"}})
    stored = store.commit_version("demo", 1, staged, {}, provenance)
    assert stored.version == 2 and stored.tag == "demo/v2"
    text = store.read_file("demo", 2)
    assert _metadata_version(text) == "2"
    assert text.splitlines()[11] == "second"  # the in-place stamp moved no line
    assert store.provenance("demo", 2).version == 2
    assert store.provenance("demo", 2).spans == provenance.spans
    assert _metadata_version((staged / "SKILL.md").read_text()) == "1"  # the caller's folder is untouched


def test_materialize_reads_a_version_from_history(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _skill(tmp_path, "one\n"), {})
    store.commit_version("demo", 2, _skill(tmp_path, "two\n"), {})
    folder = store.materialize("demo", 1, tmp_path / "out")
    assert (folder / "SKILL.md").read_text() == "one\n"
    assert store.version("demo").version == 2
    with pytest.raises(SkillforgeError, match="has no v7"):
        store.version("demo", 7)
    with pytest.raises(SkillforgeError, match="skills: demo"):
        store.version("other")


def test_provenance_is_committed_with_its_version(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    first = Provenance("demo", 1, [Span("SKILL.md", 1, 1, ["L-a"], 2)], {"L-a": {"title": "t"}})
    store.commit_version("demo", 1, _skill(tmp_path, "one\n"), {}, first)
    store.commit_version("demo", 2, _skill(tmp_path, "two\n"), {})
    assert store.provenance("demo", 1) == first
    assert store.provenance("demo", 1).spans_for("SKILL.md", 1)[0].lesson_ids == ["L-a"]
    assert store.provenance("demo", 2) is None  # no stale provenance for a version without one


def test_files_and_read_file(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    staged = _real_skill(tmp_path, "See [more](references/more.md).")
    (staged / "references").mkdir()
    (staged / "references" / "more.md").write_text("# More\n\nText.\n")
    store.commit_version("demo", 1, staged, {})
    assert store.files("demo") == ["SKILL.md", "references/more.md"]
    assert store.read_file("demo", 1, "references/more.md") == "# More\n\nText.\n"
    with pytest.raises(SkillforgeError, match="has no file 'nope.md'"):
        store.read_file("demo", 1, "nope.md")


def test_diff_between_versions(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _real_skill(tmp_path, "Run the tests first."), {})
    with pytest.raises(SkillforgeError, match="first version"):
        store.diff("demo")
    staged = _real_skill(tmp_path, "Run the linter, then the tests.", version=2)
    (staged / "references").mkdir()
    (staged / "references" / "lint.md").write_text("# Lint\n\nUse ruff.\n")
    store.commit_version("demo", 2, staged, {})
    older, newer, text = store.diff("demo")
    assert (older.version, newer.version) == (1, 2)
    assert "-Run the tests first." in text and "+Run the linter, then the tests." in text
    assert "-  version: '1'" in text and "+  version: '2'" in text
    assert "+++ b/demo/references/lint.md" in text
    assert ".provenance" not in text
    _, _, stat = store.diff("demo", 1, 2, stat=True)
    assert "demo/SKILL.md" in stat and "demo/references/lint.md" in stat and "2 files changed" in stat
    _, _, same = store.diff("demo", 2, 2)
    assert same == ""


def test_rollback_stores_the_old_version_as_a_new_one(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    provenance = Provenance("demo", 1, [Span("SKILL.md", 12, 12, ["L-a"], 3)], {"L-a": {"title": "a", "evidence": []}})
    store.commit_version(
        "demo",
        1,
        _real_skill(tmp_path, "good advice"),
        {"inputs": ["logs/"], "run_id": "r1", "cost_usd": 0.5},
        provenance,
    )
    store.commit_version(
        "demo", 2, _real_skill(tmp_path, "bad advice", version=2), {"inputs": ["other/"], "run_id": "r2"}
    )
    with pytest.raises(SkillforgeError, match="already the latest"):
        store.rollback("demo", 2)
    rolled = store.rollback("demo", 1)
    assert rolled.version == 3
    assert rolled.info == {"inputs": ["logs/"], "rollback_of": 1}  # the run's id and cost are not copied
    assert [v.tag for v in store.versions("demo")] == ["demo/v1", "demo/v2", "demo/v3"]
    new_text, old_text = store.read_file("demo", 3), store.read_file("demo", 1)
    assert "good advice" in new_text and _metadata_version(new_text) == "3"
    assert new_text.replace("version: '3'", "version: '1'") == old_text
    assert store.provenance("demo", 3) == Provenance("demo", 3, provenance.spans, provenance.lessons)
    assert "bad advice" in store.read_file("demo", 2)  # the rolled-back version stays reachable
    assert (tmp_path / "skills" / "demo" / "SKILL.md").read_text() == new_text
    repo = git.Repo(tmp_path / "skills")
    assert len(list(repo.iter_commits())) == 3  # history appended to, never rewritten
    repo.git.fsck("--strict")


def test_rollback_to_the_latest_content_stores_nothing_and_says_so(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _real_skill(tmp_path, "good advice"), {})
    store.commit_version("demo", 2, _real_skill(tmp_path, "bad advice", version=2), {})
    first = store.rollback("demo", 1)
    assert first.stored and first.version == 3 and first.restored == 1
    assert first.message.startswith("rolled back demo to v1: stored as v3;")
    again = store.rollback("demo", 1)  # v3 holds v1's content, its number aside
    assert not again.stored and again.version == 3 and again.restored == 1 and again.tag == "demo/v3"
    assert again.message == "demo v1 has the same content as the latest version, v3: nothing stored"
    assert [v.version for v in store.versions("demo")] == [1, 2, 3]
    assert len(list(git.Repo(tmp_path / "skills").iter_commits())) == 3
    staged = _real_skill(tmp_path, "good advice", version=4)  # v1's text plus one file: not the same content
    (staged / "scripts").mkdir()
    (staged / "scripts" / "x.sh").write_text("echo x\n")
    store.commit_version("demo", 4, staged, {})
    assert store.rollback("demo", 1).stored and store.latest_version("demo") == 5


def test_rollback_of_a_version_without_provenance(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _real_skill(tmp_path, "one"), {})
    provenance = Provenance("demo", 2, [Span("SKILL.md", 12, 12, ["L-b"], 1)], {})
    store.commit_version("demo", 2, _real_skill(tmp_path, "two"), {}, provenance)
    store.rollback("demo", 1)
    assert store.provenance("demo", 3) is None


def test_only_a_superseded_rendered_number_is_restamped(tmp_path: Path) -> None:
    """An imported or hand-made folder is stored byte for byte, whatever its metadata.version says."""
    store = SkillStore(tmp_path / "skills")
    store.commit_version("demo", 1, _real_skill(tmp_path, "one", version=7), {})
    assert _metadata_version(store.read_file("demo", 1)) == "7"
    store.commit_version("demo", None, _real_skill(tmp_path, "two", version=7), {})
    assert _metadata_version(store.read_file("demo", 2)) == "7"
    store.commit_version("demo", 3, _real_skill(tmp_path, "three", version=3), {}, stamp=False)
    assert _metadata_version(store.read_file("demo", 3)) == "3"
    store.commit_version("demo", None, _real_skill(tmp_path, "four", version=1), {}, stamp=True)
    assert _metadata_version(store.read_file("demo", 4)) == "4"


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    store = SkillStore(tmp_path / "nowhere" / "skills")
    assert store.versions("demo") == [] and store.skill_names() == [] and store.repair() == []
    assert not (tmp_path / "nowhere").exists()
