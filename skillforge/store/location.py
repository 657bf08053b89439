"""Where a skill store keeps its git history, so that it never touches a user's own repository.

Two layouts, chosen from the store folder alone (so every command finds the same history):

* **own repository** — the store folder is not inside anyone's git work tree: its history is
  ``<store>/.git``, a repository skillforge created (marked with ``skillforge.store = true`` in
  its config).
* **separate git dir** — the store folder sits inside a user's git work tree (``./skills`` in a
  project, or ``--store .`` at its top): skillforge's history lives in
  ``<user git dir>/skillforge/<store path relative to the work tree>.git`` and the store folder
  gets no ``.git`` entry at all. The user's repository sees ``skills/`` as ordinary files it may
  commit or ignore; its history, index and refs are never written. ``<user git dir>`` is the
  per-work-tree git dir (``.git`` or ``.git/worktrees/<name>``), so linked work trees keep
  separate stores.

Every git command skillforge runs on a store gets ``GIT_DIR`` and ``GIT_WORK_TREE`` explicitly
and ignores the user's global and system git config (no hooks, signing or colour settings leak
in); see :func:`git_environment`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import git

MARKER_SECTION = "skillforge"
MARKER_KEY = "store"
SEPARATE_DIR = "skillforge"
LEGACY_AUTHOR_EMAIL = "skillforge@localhost"
AUTHOR_NAME = "skillforge"
AUTHOR_EMAIL = "skillforge@localhost"


LOCK_FILE = "skillforge.lock"
"""The store's write lock (``filelock``), in its git dir; its git dir is made for it first."""
SCRATCH_PREFIX = ".skillforge-tmp-"
"""Scratch folders of a write in progress, in the store folder (removed by a repair)."""


@dataclass(frozen=True)
class StoreLocation:
    """Where a store's files and history are.

    Attributes:
        root: the store folder (absolute), the git work tree.
        git_dir: skillforge's git directory for this store (absolute; may not exist yet).
        separate: True when ``git_dir`` is outside ``root`` because ``root`` is inside a user's
            git work tree.
        user_work_tree: top of that user's work tree when ``separate``, else None.
    """

    root: Path
    git_dir: Path
    separate: bool
    user_work_tree: Path | None = None

    @property
    def exists(self) -> bool:
        """True once the store's git repository has been initialised: ``git init`` writes ``HEAD``
        before the object folders, so a store another process is still creating does not count
        until ``objects/pack`` is there too."""
        return (self.git_dir / "HEAD").is_file() and (self.git_dir / "objects" / "pack").is_dir()


def locate(root: Path) -> StoreLocation:
    """Decide where the history of the store folder ``root`` lives (see the module docstring).

    Args:
        root: the store folder; it need not exist.

    Returns:
        A :class:`StoreLocation`. Nothing is created.
    """
    root = Path(root).expanduser().resolve()
    own = root / ".git"
    if own.is_dir() and _is_skillforge_repo(own):
        return StoreLocation(root, own, separate=False)
    user = _enclosing_work_tree(root)
    if user is None:
        return StoreLocation(root, own, separate=False)
    top, user_git_dir = user
    relative = root.relative_to(top).as_posix()
    key = quote(relative, safe="") if relative != "." else "_root"
    return StoreLocation(root, user_git_dir / SEPARATE_DIR / f"{key}.git", separate=True, user_work_tree=top)


def git_environment(location: StoreLocation) -> dict[str, str]:
    """Environment for git commands on the store: its own git dir and work tree, no user config.

    Returns:
        Variables to add to the environment of every git command run on the store.
    """
    return {
        "GIT_DIR": str(location.git_dir),
        "GIT_WORK_TREE": str(location.root),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": AUTHOR_NAME,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        "GIT_TERMINAL_PROMPT": "0",
    }


def _is_skillforge_repo(git_dir: Path) -> bool:
    """True for a git dir skillforge made: marked in its config, or half-created, or a legacy store."""
    if not (git_dir / "HEAD").is_file():
        return True  # created by skillforge's lock step, never initialised (only a lock file inside)
    try:
        repo = git.Repo(git_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return (git_dir / LOCK_FILE).exists()  # being created by skillforge right now
    with repo.config_reader("repository") as config:
        if config.has_option(MARKER_SECTION, MARKER_KEY):
            return True
    try:  # stores created before the marker existed: every commit is skillforge's
        return repo.head.commit.author.email == LEGACY_AUTHOR_EMAIL
    except ValueError:
        return False


def _enclosing_work_tree(root: Path) -> tuple[Path, Path] | None:
    """(top of the work tree, its git dir) of the user repository holding ``root``, or None."""
    probe = root
    while not probe.exists():
        probe = probe.parent
    try:
        repo = git.Repo(probe, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.working_tree_dir is None:
        return None
    top = Path(repo.working_tree_dir).resolve()
    if top != root and top not in root.parents:
        return None
    return top, Path(repo.git_dir).resolve()


def create_repository(location: StoreLocation) -> None:
    """Create the store's git repository (``git init``), marked as skillforge's, with its own
    committer, and skillforge's scratch folders excluded where the store sits in a user's tree."""
    location.root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **git_environment(location)}
    git.Git(str(location.root)).execute(["git", "init", "--quiet", "--initial-branch=main"], env=env)
    repo = git.Repo(location.git_dir)
    with repo.config_writer("repository") as config:
        config.set_value(MARKER_SECTION, MARKER_KEY, "true")
        config.set_value("user", "name", "skillforge")
        config.set_value("user", "email", "skillforge@localhost")
        if config.has_option("core", "worktree"):
            config.remove_option("core", "worktree")  # the work tree is always passed explicitly
    if location.separate:
        # the store folder is the user's: keep skillforge's scratch folders out of their status
        with open(location.git_dir / "info" / "exclude", "a", encoding="utf-8") as exclude:
            exclude.write(f"{SCRATCH_PREFIX}*\n")


def open_repository(location: StoreLocation) -> git.Repo:
    """The store's repository (GitPython), its git commands run with :func:`git_environment`."""
    repo = git.Repo(location.git_dir)
    repo.git.update_environment(**git_environment(location))
    return repo


def git_command(location: StoreLocation) -> git.Git:
    """git commands for the store, run from the top of its work tree (so that ``demo`` means
    ``<store>/demo`` even when the git dir sits inside the work tree)."""
    cwd = location.root if location.root.is_dir() else location.git_dir
    command = git.Git(str(cwd))
    command.update_environment(**git_environment(location))
    return command
