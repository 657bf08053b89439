"""The store under stress: concurrent writers (real processes), writers killed mid-write, and a
store inside a user's own git repository."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import git
import pytest

from skillforge.skill.frontmatter import parse_frontmatter
from skillforge.store.git_store import SkillStore
from skillforge.store.journal import JOURNAL_FILE
from skillforge.store.location import SCRATCH_PREFIX, git_environment, locate

SKILL = "---\nname: demo\ndescription: A demo skill. Use when testing.\nmetadata:\n  version: '{version}'\n---\n# Demo\n\n## Steps\n\n{body}\n"

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from skillforge.store.git_store import SkillStore

    store_dir, staged, barrier, writers, index = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    store = SkillStore(store_dir)
    version = store.latest_version("demo") + 1          # every writer reads "next is v1" ...
    (barrier / index).touch()
    while len(list(barrier.iterdir())) < writers:        # ... and only then do they all write at once
        time.sleep(0.01)
    stored = store.commit_version("demo", version, staged, {"writer": index})
    print(stored.version)
    """
)

CRASHER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from skillforge.store import git_store

    where, store_dir, staged = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def die(*args, **kwargs):
        os._exit(3)

    if where == "before-commit":          # the folder swap is done, nothing is committed
        git_store.SkillStore._commit = die
    elif where == "git-lock":              # killed inside git, which leaves its index.lock behind
        def die_in_git(self, repo, message):
            (self.location.git_dir / "index.lock").write_text("")
            os._exit(3)
        git_store.SkillStore._commit = die_in_git
    elif where == "before-tag":            # the commit is made, the tag is not
        git_store.SkillStore._tag = die
    elif where == "mid-swap":              # the old folder is moved away, the new one not yet in
        real_replace = os.replace
        def replace(source, destination):
            if Path(source).name == "incoming":
                os._exit(3)
            return real_replace(source, destination)
        git_store.os.replace = replace
    git_store.SkillStore(store_dir).commit_version("demo", None, staged, {"writer": "crashed"})
    """
)


def _staged(tmp_path: Path, label: str, version: int = 1) -> Path:
    folder = tmp_path / "staged" / label / "demo"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL.format(version=version, body=f"written by {label}"))
    return folder


def _python(code: str, *args: object, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def _metadata_version(text: str) -> str:
    frontmatter, _ = parse_frontmatter(text)
    return frontmatter["metadata"]["version"]


def _assert_consistent(store: SkillStore) -> None:
    """fsck clean; every tag's SKILL.md carries its own number; the work tree equals HEAD."""
    command = git.Git(str(store.location.root))
    command.update_environment(**git_environment(store.location))
    command.fsck("--strict")
    for version in store.versions("demo"):
        assert _metadata_version(store.read_file("demo", version.version)) == str(version.version)
    assert command.status("--porcelain", "--untracked-files=all", "--", "demo", ".provenance") == ""
    assert not (store.location.git_dir / JOURNAL_FILE).exists()
    assert not list(store.location.root.glob(f"{SCRATCH_PREFIX}*"))


def test_concurrent_writers_each_get_their_own_version(tmp_path: Path) -> None:
    writers = 4
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    store_dir = tmp_path / "skills"
    processes = [_python(WRITER, store_dir, _staged(tmp_path, f"w{i}"), barrier, writers, f"w{i}") for i in range(writers)]
    results = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _, err in results]
    assert sorted(int(out) for out, _ in results) == list(range(1, writers + 1))
    store = SkillStore(store_dir)
    _assert_consistent(store)
    # each writer's content is in exactly the version it was told it got
    for (out, _), index in zip(results, range(writers)):
        assert f"written by w{index}" in store.read_file("demo", int(out))
        assert store.version("demo", int(out)).info == {"writer": f"w{index}"}


@pytest.mark.parametrize("where", ["before-commit", "git-lock", "mid-swap"])
def test_a_writer_killed_before_its_commit_is_undone_by_the_next_write(tmp_path: Path, where: str) -> None:
    store_dir = tmp_path / "skills"
    SkillStore(store_dir).commit_version("demo", 1, _staged(tmp_path, "first"), {})
    crashed = _python(CRASHER, where, store_dir, _staged(tmp_path, "crashed", version=2))
    crashed.communicate(timeout=60)
    assert crashed.returncode == 3
    store = SkillStore(store_dir)
    assert (store.location.git_dir / JOURNAL_FILE).exists()  # the interrupted write is on record
    assert [v.version for v in store.versions("demo")] == [1]  # readers only ever see whole versions
    assert "written by first" in store.read_file("demo")
    stored = store.commit_version("demo", None, _staged(tmp_path, "next", version=2), {})
    assert stored.version == 2
    assert any("interrupted write" in action for action in store.last_repairs)
    assert "written by next" in store.read_file("demo", 2)
    assert (store_dir / "demo" / "SKILL.md").read_text() == store.read_file("demo", 2)
    _assert_consistent(store)


def test_a_writer_killed_after_its_commit_gets_its_tag_from_the_next_write(tmp_path: Path) -> None:
    store_dir = tmp_path / "skills"
    SkillStore(store_dir).commit_version("demo", 1, _staged(tmp_path, "first"), {})
    crashed = _python(CRASHER, "before-tag", store_dir, _staged(tmp_path, "crashed", version=2))
    crashed.communicate(timeout=60)
    assert crashed.returncode == 3
    store = SkillStore(store_dir)
    assert [v.version for v in store.versions("demo")] == [1]
    assert any("tagged demo/v2" in action for action in store.repair())
    assert "written by crashed" in store.read_file("demo", 2)  # its commit was complete: it is kept
    assert store.commit_version("demo", None, _staged(tmp_path, "next", version=3), {}).version == 3
    _assert_consistent(store)


def _user_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    (path / "README.md").write_text("user project\n")
    repo.git.add("README.md")
    repo.git.commit("-m", "user commit", env={"GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@x", "GIT_COMMITTER_NAME": "u", "GIT_COMMITTER_EMAIL": "u@x"})
    return repo


def _user_state(repo: git.Repo) -> tuple:
    index = Path(repo.git_dir) / "index"
    return (
        repo.git.rev_parse("HEAD"),
        repo.git.for_each_ref(),
        repo.git.log("--all", "--format=%H %s"),
        hashlib.sha256(index.read_bytes()).hexdigest(),
        repo.git.stash("list"),
    )


@pytest.mark.parametrize(("store_path", "key"), [("skills", "skills.git"), ("tools/skills", "tools%2Fskills.git"), (".", "_root.git")])
def test_a_store_inside_a_user_repository_keeps_its_own_git_dir(tmp_path: Path, store_path: str, key: str) -> None:
    user = _user_repo(tmp_path / "project")
    before = _user_state(user)
    store_dir = tmp_path / "project" / store_path
    store = SkillStore(store_dir)
    assert store.location.separate and store.location.git_dir == Path(user.git_dir).resolve() / "skillforge" / key
    store.commit_version("demo", 1, _staged(tmp_path, "one"), {})
    store.commit_version("demo", 2, _staged(tmp_path, "two", version=2), {})
    store.rollback("demo", 1)
    assert _user_state(user) == before  # the user's history, refs, index and stash are untouched
    assert not (store_dir / ".git").exists() or store_path == "."
    assert (store_dir / "demo" / "SKILL.md").is_file()
    assert "?? " in user.git.status("--porcelain")  # to the user's repository the skill is a plain new file
    reopened = SkillStore(store_dir)
    assert [v.version for v in reopened.versions("demo")] == [1, 2, 3]
    assert "written by one" in reopened.read_file("demo", 3)
    _assert_consistent(reopened)


def test_a_store_outside_any_repository_has_its_own_dot_git(tmp_path: Path) -> None:
    location = locate(tmp_path / "skills")
    assert not location.separate and location.git_dir == (tmp_path / "skills" / ".git").resolve()
    SkillStore(tmp_path / "skills").commit_version("demo", 1, _staged(tmp_path, "one"), {})
    # a store created by skillforge stays its own repository even when a project is later created around it
    _user_repo(tmp_path)
    assert locate(tmp_path / "skills").separate is False
