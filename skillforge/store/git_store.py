"""The skill store: a git repository that skillforge owns, one folder per skill, one commit and
one tag per version (DESIGN §4).

Layout: ``<store>/<name>/SKILL.md`` … and tags ``<name>/v<N>``; the provenance of a version is
``<store>/.provenance/<name>.json`` in the same commit. Each version's commit message ends with
a ``skillforge-info:`` line holding JSON (run id, inputs, model, counts, cost…) that
``skillforge log`` reads back. History is only ever appended to: rollback stores an old version
again as a new one.

Where the history lives (the store's own ``.git``, or a separate git dir when the store sits in
a user's work tree) is decided by :mod:`skillforge.store.location`.

Writes are serialised by a file lock (``filelock``) in the git dir, held from version allocation
to the tag, so concurrent ``distill`` runs each get their own version. A write first records a
journal (``skillforge-pending.json``) in the git dir; the next write that finds one repairs the
interrupted write before doing its own (see :meth:`SkillStore.repair`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import git
from filelock import FileLock, Timeout

from skillforge.errors import SkillforgeError
from skillforge.fsutil import write_atomic
from skillforge.provenance import PROVENANCE_DIR, Provenance, provenance_path
from skillforge.store.compare import same_skill
from skillforge.store.journal import JOURNAL_FILE, head_sha, repair_interrupted
from skillforge.store.location import (
    LOCK_FILE,
    SCRATCH_PREFIX,
    StoreLocation,
    create_repository,
    git_command,
    locate,
    open_repository,
)
from skillforge.store.rollback import ROLLBACK_DROPPED_INFO, RollbackResult
from skillforge.store.stamp import stamp_copy
from skillforge.store.version_info import INFO_PREFIX, VersionInfo, version_info_of

LOCK_TIMEOUT_SECONDS = 300.0
"""How long a write waits for another skillforge process to finish its write (seconds)."""


class SkillStore:
    """A git-backed store of skill versions rooted at ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        """Args: root — the store folder (default ``./skills``); nothing is created until a write."""
        self.root = Path(root)
        self.location: StoreLocation = locate(self.root)
        self.last_repairs: list[str] = []
        """What the last write repaired before writing (see :meth:`repair`)."""

    # -- reading ---------------------------------------------------------------------------

    def _repo(self) -> git.Repo | None:
        return open_repository(self.location) if self.location.exists else None

    def _git(self) -> git.Git:
        return git_command(self.location)

    def _existing_git(self) -> git.Git:
        if not self.location.exists:
            raise SkillforgeError(f"no skill store at {self.root}")
        return self._git()

    def versions(self, name: str) -> list[VersionInfo]:
        """All versions of ``name``, oldest first (empty when the skill or store does not exist)."""
        repo = self._repo()
        if repo is None:
            return []
        found = []
        prefix = f"{name}/v"
        for tag in repo.tags:
            if not tag.name.startswith(prefix) or not tag.name[len(prefix) :].isdigit():
                continue
            found.append(version_info_of(name, int(tag.name[len(prefix) :]), tag.name, tag.commit))
        return sorted(found, key=lambda v: v.version)

    def latest_version(self, name: str) -> int:
        """The highest stored version number of ``name``, 0 when there is none."""
        versions = self.versions(name)
        return versions[-1].version if versions else 0

    def skill_names(self) -> list[str]:
        """Names of the skills that have at least one version."""
        repo = self._repo()
        if repo is None:
            return []
        return sorted({tag.name.rsplit("/v", 1)[0] for tag in repo.tags if "/v" in tag.name})

    def version(self, name: str, version: int | None = None) -> VersionInfo:
        """One version of ``name`` (the latest when ``version`` is None).

        Raises:
            SkillforgeError: when the skill or that version is not in the store.
        """
        versions = self.versions(name)
        if not versions:
            known = self.skill_names()
            hint = f" (skills: {', '.join(known)})" if known else ""
            raise SkillforgeError(f"no versions of {name!r} in {self.root}{hint}")
        if version is None:
            return versions[-1]
        for info in versions:
            if info.version == version:
                return info
        raise SkillforgeError(f"{name} has no v{version} (versions: {', '.join(f'v{v.version}' for v in versions)})")

    def files(self, name: str, version: int | None = None) -> list[str]:
        """Paths (relative to the skill folder, ``SKILL.md`` first) of the files of a version.

        Raises:
            SkillforgeError: unknown skill or version.
        """
        info = self.version(name, version)
        listing = self._existing_git().ls_tree("-r", "--name-only", info.tag, "--", f"{name}/")
        paths = sorted(line[len(name) + 1 :] for line in listing.splitlines() if line)
        return sorted(paths, key=lambda p: p != "SKILL.md")

    def read_file(self, name: str, version: int | None = None, path: str = "SKILL.md") -> str:
        """The text of ``path`` (relative to the skill folder) in a version, read from git.

        Raises:
            SkillforgeError: unknown skill, version or file.
        """
        info = self.version(name, version)
        try:
            data = self._existing_git().cat_file("blob", f"{info.tag}:{name}/{path}", strip_newline_in_stdout=False)
        except git.GitCommandError:
            raise SkillforgeError(f"{name} v{info.version} has no file {path!r}") from None
        return data

    def materialize(self, name: str, version: int | None, destination: Path) -> Path:
        """Write the files of ``name`` at ``version`` (latest when None) into ``destination/<name>/``.

        Reads from git (``git archive`` of the version's tag), so the working copy of the store is
        not touched. Returns the skill folder written.

        Raises:
            SkillforgeError: unknown skill or version.
        """
        info = self.version(name, version)
        data = io.BytesIO()
        self._existing_git().archive(info.tag, "--format=tar", "--", name, output_stream=data)
        data.seek(0)
        destination.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=data) as archive:
            archive.extractall(destination, filter="data")
        return destination / name

    def provenance(self, name: str, version: int | None = None) -> Provenance | None:
        """The provenance recorded with a version (latest when None), or None if none was recorded.

        Raises:
            SkillforgeError: unknown skill or version, or a provenance file that cannot be parsed.
        """
        info = self.version(name, version)
        try:
            data = self._existing_git().cat_file("blob", f"{info.tag}:{PROVENANCE_DIR}/{name}.json")
        except git.GitCommandError:
            return None
        try:
            return Provenance.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise SkillforgeError(f"the provenance of {name} v{info.version} is malformed: {exc}") from None

    def diff(
        self, name: str, old: int | None = None, new: int | None = None, *, stat: bool = False
    ) -> tuple[VersionInfo, VersionInfo, str]:
        """Unified diff (``git diff``) of the skill folder between two versions.

        Args:
            name: skill name.
            old: the older version; default: the one before ``new``.
            new: the newer version; default: the latest.
            stat: a ``--stat`` summary instead of the patch.

        Returns:
            ``(old_info, new_info, text)``; ``text`` is empty when the versions are identical.

        Raises:
            SkillforgeError: unknown skill or version, or no earlier version to compare with.
        """
        newer = self.version(name, new)
        if old is None:
            earlier = [v for v in self.versions(name) if v.version < newer.version]
            if not earlier:
                raise SkillforgeError(f"{name} v{newer.version} is the first version: give two versions to compare")
            older = earlier[-1]
        else:
            older = self.version(name, old)
        options = ["--no-color", "--no-ext-diff", "--no-textconv", "--find-renames"]
        options.append("--stat" if stat else "--unified=3")
        text = self._existing_git().diff(*options, older.tag, newer.tag, "--", f"{name}/")
        return older, newer, text

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _write_lock(self) -> Iterator[git.Repo]:
        """Hold the store's lock, create the repository if needed, repair an interrupted write."""
        git_dir = self.location.git_dir
        if self.location.root.exists() and not self.location.root.is_dir():
            raise SkillforgeError(f"the skill store {self.root} is a file, not a folder")
        git_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(git_dir / LOCK_FILE))
        try:
            lock.acquire(timeout=LOCK_TIMEOUT_SECONDS)
        except Timeout:
            raise SkillforgeError(
                f"the skill store {self.root} is busy: another skillforge process has held {git_dir / LOCK_FILE} "
                f"for {LOCK_TIMEOUT_SECONDS:.0f} s"
            ) from None
        try:
            if not self.location.exists:
                create_repository(self.location)
            repo = self._repo()
            assert repo is not None
            self.last_repairs = repair_interrupted(self.location, repo, self._git())
            yield repo
        finally:
            lock.release()

    def repair(self) -> list[str]:
        """Finish or undo a write that was interrupted (a killed process, a power cut).

        Takes the lock, so it is safe to call at any time; every write calls it first anyway.

        Returns:
            What was done, one line per action (empty when the store was consistent).
        """
        if not self.location.exists:
            return []
        with self._write_lock():
            return list(self.last_repairs)

    def commit_version(
        self,
        name: str,
        version: int | None,
        staged: Path,
        info: dict[str, Any],
        provenance: Provenance | None = None,
        *,
        stamp: bool | None = None,
    ) -> VersionInfo:
        """Store the skill folder ``staged`` as the next version of ``name``.

        Under the store lock: the version number is allocated, the folder is copied next to the
        skill's folder (and stamped, see ``stamp``), swapped in with renames, committed and tagged
        ``<name>/v<N>``. ``staged`` itself is not modified. The previous version stays in history.

        Args:
            name: skill name (folder name in the store).
            version: the number the caller rendered (``latest_version(name) + 1`` when it looked),
                or None. When another process stored a version since, the next free number is used
                instead; the returned :class:`VersionInfo` has it.
            staged: a skill folder outside the store.
            info: JSON-serialisable facts recorded in the commit message.
            provenance: written to ``.provenance/<name>.json`` in the same commit when given;
                when None, an older provenance file of ``name`` is removed in this commit. Its
                ``version`` is set to the stored number.
            stamp: write the stored number into the copy's ``metadata.version``. None (default):
                only when the caller rendered ``version`` into it and that number was taken by a
                concurrent writer (so a distilled skill always names its own version); True:
                always (rollback, import: the rest of the files byte for byte); False: never.

        Raises:
            SkillforgeError: when ``version`` is beyond the next version number, ``staged`` is not
                a folder, or the store is locked by another process for too long.
        """
        staged = Path(staged)
        if not staged.is_dir():
            raise SkillforgeError(f"{staged}: not a skill folder")
        with self._write_lock() as repo:
            command = self._git()
            number = self.latest_version(name) + 1
            if version is not None and version > number:
                raise SkillforgeError(f"cannot store {name} v{version}: the next version is v{number}")
            parent = head_sha(command)
            write_atomic(
                self.location.git_dir / JOURNAL_FILE,
                json.dumps({"name": name, "version": number, "parent": parent}),
                fsync=True,
            )
            scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=self.location.root))
            incoming = scratch / "incoming"
            shutil.copytree(staged, incoming, symlinks=True)
            provenance = stamp_copy(
                incoming, number, provenance, always=stamp is True, rendered=version if stamp is None else None
            )
            destination = self.location.root / name
            if destination.exists():
                os.replace(destination, scratch / "previous")
            os.replace(incoming, destination)
            paths = [name]
            target = provenance_path(self.location.root, name)
            relative_target = target.relative_to(self.location.root).as_posix()
            if provenance is not None:
                write_atomic(target, provenance.to_json(), fsync=True)
            elif target.exists():
                target.unlink()  # a stale provenance must not describe the new version
            if provenance is not None or command.ls_files("--", relative_target):
                paths.append(relative_target)
            command.add("--all", "--", *paths)
            message = f"{name} v{number}\n\n{INFO_PREFIX}{json.dumps(info, sort_keys=True)}\n"
            sha = self._commit(command, message)
            tag = self._tag(command, f"{name}/v{number}", sha)
            (self.location.git_dir / JOURNAL_FILE).unlink()
            shutil.rmtree(scratch, ignore_errors=True)
            return version_info_of(name, number, tag, repo.commit(sha))

    def commit_record(self, relative: str, data: bytes, message: str) -> str | None:
        """Write and commit one file kept beside the skills (``.eval/<name>/v3.json``), under the lock.

        Args:
            relative: POSIX path inside the store; its first part must start with ``.`` (never a
                skill folder, whose names cannot).
            data: the file's bytes.
            message: the commit message.

        Returns:
            The new commit's sha, or None when the file already held ``data`` (nothing committed).

        Raises:
            SkillforgeError: a path that is absolute, climbs out, or is not under a ``.`` folder.
        """
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts or len(parts) < 2 or not parts[0].startswith("."):
            raise SkillforgeError(f"{relative!r}: a store record lives under a folder starting with '.'")
        with self._write_lock():
            command = self._git()
            write_atomic(self.location.root / relative, data, fsync=True)
            command.add("--", relative)
            if not command.diff("--cached", "--name-only", "--", relative).strip():
                return None
            return self._commit(command, message)

    def read_record(self, relative: str) -> bytes | None:
        """The committed bytes of a file kept beside the skills (see :meth:`commit_record`) at the
        store's latest commit, or None when there is no store, no commit or no such file."""
        if not self.location.exists:
            return None
        try:
            return self._git().execute(
                ["git", "cat-file", "blob", f"HEAD:{relative}"], stdout_as_string=False, strip_newline_in_stdout=False
            )
        except git.GitCommandError:
            return None

    def _commit(self, command: git.Git, message: str) -> str:
        command.commit("--quiet", "--no-verify", "--allow-empty", "--no-gpg-sign", "-m", message)
        return command.rev_parse("HEAD")

    def _tag(self, command: git.Git, tag: str, sha: str) -> str:
        command.tag(tag, sha)
        return tag

    def rollback(self, name: str, version: int) -> RollbackResult:
        """Store version ``version`` of ``name`` again, as a new version (history is not rewritten).

        The new version has the old one's files with ``metadata.version`` set to its own number,
        the old one's provenance (if any), and ``rollback_of`` in its info. When those files are
        the latest version's (the version number aside: an earlier rollback to the same content),
        nothing is stored.

        Returns:
            A :class:`~skillforge.store.rollback.RollbackResult`: the new version, or the latest
            one with ``stored`` False; its ``message`` says which.

        Raises:
            SkillforgeError: unknown skill or version, or ``version`` is already the latest.
        """
        source = self.version(name, version)
        latest = self.latest_version(name)
        if source.version == latest:
            raise SkillforgeError(f"{name} v{version} is already the latest version: nothing to roll back")
        provenance = self.provenance(name, version)
        info = {k: v for k, v in source.info.items() if k not in ROLLBACK_DROPPED_INFO}
        info["rollback_of"] = source.version
        with tempfile.TemporaryDirectory(prefix="skillforge-rollback-") as scratch:
            folder = self.materialize(name, version, Path(scratch))
            if same_skill(folder, self.materialize(name, latest, Path(scratch) / "latest")):
                return RollbackResult(**vars(self.version(name, latest)), restored=version, stored=False)
            stored = self.commit_version(name, None, folder, info, provenance, stamp=True)
            return RollbackResult(**vars(stored), restored=version)
