"""An interrupted write to the skill store, recorded and repaired (DESIGN §4).

Before a write, the store records a journal (``skillforge-pending.json``: name, version, parent
commit) in its git dir and removes it after tagging; a write that finds a journal first repairs
what the interrupted one left (:func:`repair_interrupted`), under the store's lock.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git

from skillforge.provenance import PROVENANCE_DIR
from skillforge.store.location import SCRATCH_PREFIX, StoreLocation

JOURNAL_FILE = "skillforge-pending.json"
"""The journal of a write in progress, in the store's git dir."""


def repair_interrupted(location: StoreLocation, repo: git.Repo, command: git.Git) -> list[str]:
    """Undo or complete the write recorded in the journal, drop scratch folders (call it under the
    store's lock).

    The write that was interrupted is finished when its commit was made (only the tag is missing),
    else undone: the skill's folder and provenance are restored from the last commit. Git's own
    stale ``*.lock`` files are removed first.

    Returns:
        What was done, one line per action (empty when the store was consistent).
    """
    actions: list[str] = []
    journal_path = location.git_dir / JOURNAL_FILE
    if journal_path.exists():
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            journal = {}
        for stale in _stale_git_locks(location.git_dir):
            stale.unlink(missing_ok=True)
            actions.append(f"removed stale git lock {stale.name}")
        name, number, parent = journal.get("name"), journal.get("version"), journal.get("parent")
        head = head_sha(command)
        if name and number and head and head != parent and _subject(command, head) == f"{name} v{number}":
            tag = f"{name}/v{number}"
            if tag not in {t.name for t in repo.tags}:
                command.tag(tag, head)
                actions.append(f"tagged {tag}: its commit was made but the writer stopped before tagging it")
        elif name:
            _restore_from_head(location, command, name, head)
            actions.append(f"restored {name}/ from the last commit: an interrupted write of v{number} was undone")
        journal_path.unlink(missing_ok=True)
    for scratch in location.root.glob(f"{SCRATCH_PREFIX}*"):
        shutil.rmtree(scratch, ignore_errors=True)
        actions.append(f"removed scratch folder {scratch.name}")
    return actions


def _restore_from_head(location: StoreLocation, command: git.Git, name: str, head: str | None) -> None:
    paths = [name, f"{PROVENANCE_DIR}/{name}.json"]
    if head:
        command.reset("--quiet", "HEAD", "--", *paths)
    else:
        command.rm("-r", "--cached", "--quiet", "--ignore-unmatch", "--", *paths)
    for path in paths:
        target = location.root / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    if head:
        tracked = command.ls_tree("-r", "--name-only", "HEAD", "--", *paths).split()
        if tracked:
            command.checkout("HEAD", "--", *tracked)


def head_sha(command: git.Git) -> str | None:
    """The sha of HEAD, or None in a repository without a commit."""
    try:
        return command.rev_parse("--verify", "--quiet", "HEAD")
    except git.GitCommandError:
        return None


def _subject(command: git.Git, sha: str) -> str:
    return command.log("-1", "--format=%s", sha)


def _stale_git_locks(git_dir: Path) -> list[Path]:
    """Git's own ``*.lock`` files left by a killed git command (never the store's own lock)."""
    found = [git_dir / name for name in ("index.lock", "HEAD.lock", "packed-refs.lock") if (git_dir / name).exists()]
    found.extend(path for path in (git_dir / "refs").rglob("*.lock"))
    return found
