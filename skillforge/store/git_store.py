"""The skill store: a git repository that skillforge owns, one folder per skill, one commit and
one tag per version (DESIGN §4).

Layout: ``<store>/<name>/SKILL.md`` … and tags ``<name>/v<N>``. Each version's commit message
ends with a ``skillforge-info:`` line holding JSON (run id, inputs, counts, model) that
``skillforge log`` reads back. History is only ever appended to.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import git

from skillforge.errors import SkillforgeError
from skillforge.store.provenance import PROVENANCE_DIR, Provenance, provenance_path

INFO_PREFIX = "skillforge-info: "
_ACTOR = git.Actor("skillforge", "skillforge@localhost")


@dataclass
class VersionInfo:
    """One stored version of a skill.

    Attributes:
        name: skill name.
        version: version number (1, 2, …), also ``metadata.version`` in its SKILL.md.
        tag: the git tag (``<name>/v<N>``).
        commit: commit sha.
        date: commit time (UTC, ISO-8601).
        info: the JSON recorded at commit time (``run_id``, ``inputs``, ``trajectories``, ``lessons``…).
    """

    name: str
    version: int
    tag: str
    commit: str
    date: str
    info: dict[str, Any] = field(default_factory=dict)


class SkillStore:
    """A git-backed store of skill versions rooted at ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        """Args: root — the store folder (default ``./skills``); nothing is created until a write."""
        self.root = Path(root)

    def _repo(self, create: bool) -> git.Repo | None:
        if (self.root / ".git").exists():
            return git.Repo(self.root)
        if not create:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        repo = git.Repo.init(self.root)
        with repo.config_writer() as config:
            config.set_value("user", "name", _ACTOR.name)
            config.set_value("user", "email", _ACTOR.email)
        return repo

    def versions(self, name: str) -> list[VersionInfo]:
        """All versions of ``name``, oldest first (empty when the skill or store does not exist)."""
        repo = self._repo(create=False)
        if repo is None:
            return []
        found = []
        prefix = f"{name}/v"
        for tag in repo.tags:
            if not tag.name.startswith(prefix) or not tag.name[len(prefix) :].isdigit():
                continue
            commit = tag.commit
            found.append(
                VersionInfo(
                    name=name,
                    version=int(tag.name[len(prefix) :]),
                    tag=tag.name,
                    commit=commit.hexsha,
                    date=datetime.fromtimestamp(commit.committed_date, tz=timezone.utc).isoformat(timespec="seconds"),
                    info=_parse_info(commit.message),
                )
            )
        return sorted(found, key=lambda v: v.version)

    def latest_version(self, name: str) -> int:
        """The highest stored version number of ``name``, 0 when there is none."""
        versions = self.versions(name)
        return versions[-1].version if versions else 0

    def skill_names(self) -> list[str]:
        """Names of the skills that have at least one version."""
        repo = self._repo(create=False)
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
            raise SkillforgeError(f"no versions of {name!r} in {self.root}")
        if version is None:
            return versions[-1]
        for info in versions:
            if info.version == version:
                return info
        raise SkillforgeError(f"{name} has no v{version} (versions: {', '.join(f'v{v.version}' for v in versions)})")

    def materialize(self, name: str, version: int | None, destination: Path) -> Path:
        """Write the files of ``name`` at ``version`` (latest when None) into ``destination/<name>/``.

        Reads from git (``git archive`` of the version's tag), so the working copy of the store is
        not touched. Returns the skill folder written.

        Raises:
            SkillforgeError: unknown skill or version.
        """
        import io
        import tarfile

        info = self.version(name, version)
        repo = self._repo(create=False)
        assert repo is not None
        data = io.BytesIO()
        repo.archive(data, treeish=info.tag, path=name, format="tar")
        data.seek(0)
        destination.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=data) as archive:
            archive.extractall(destination, filter="data")
        return destination / name

    def provenance(self, name: str, version: int | None = None) -> Provenance | None:
        """The provenance recorded with a version (latest when None), or None if none was recorded."""
        info = self.version(name, version)
        repo = self._repo(create=False)
        assert repo is not None
        try:
            data = repo.git.show(f"{info.tag}:{PROVENANCE_DIR}/{name}.json")
        except git.GitCommandError:
            return None
        return Provenance.from_json(data)

    def commit_version(
        self, name: str, version: int, staged: Path, info: dict[str, Any], provenance: Provenance | None = None
    ) -> VersionInfo:
        """Store the skill folder ``staged`` as version ``version`` of ``name``.

        The folder is copied next to its destination and swapped in with renames, then
        committed and tagged ``<name>/v<version>``. The previous version stays in history.

        Args:
            name: skill name (folder name in the store).
            version: must be ``latest_version(name) + 1``.
            staged: a validated skill folder outside the store.
            info: JSON-serialisable facts recorded in the commit message.
            provenance: written to ``.provenance/<name>.json`` in the same commit when given;
                when None, an older provenance file of ``name`` is removed in this commit.

        Raises:
            SkillforgeError: when ``version`` is not the next version number.
        """
        repo = self._repo(create=True)
        assert repo is not None
        expected = self.latest_version(name) + 1
        if version != expected:
            raise SkillforgeError(f"cannot store {name} v{version}: the next version is v{expected}")
        destination = self.root / name
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=self.root))
        try:
            incoming = scratch / "incoming"
            shutil.copytree(staged, incoming)
            if destination.exists():
                os.replace(destination, scratch / "previous")
            os.replace(incoming, destination)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        paths = [name]
        target = provenance_path(self.root, name)
        if provenance is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            scratch_file = target.with_suffix(".json.tmp")
            scratch_file.write_bytes(provenance.to_json())
            os.replace(scratch_file, target)
        elif target.exists():
            target.unlink()  # a stale provenance must not describe the new version
        if provenance is not None or repo.git.ls_files("--", target.relative_to(self.root).as_posix()):
            paths.append(target.relative_to(self.root).as_posix())
        repo.git.add("--all", "--", *paths)
        message = f"{name} v{version}\n\n{INFO_PREFIX}{json.dumps(info, sort_keys=True)}\n"
        commit = repo.index.commit(message, author=_ACTOR, committer=_ACTOR)
        tag = repo.create_tag(f"{name}/v{version}", ref=commit)
        return VersionInfo(
            name=name,
            version=version,
            tag=tag.name,
            commit=commit.hexsha,
            date=datetime.fromtimestamp(commit.committed_date, tz=timezone.utc).isoformat(timespec="seconds"),
            info=info,
        )


def _parse_info(message: str | bytes) -> dict[str, Any]:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    for line in reversed(message.splitlines()):
        if line.startswith(INFO_PREFIX):
            try:
                value = json.loads(line[len(INFO_PREFIX) :])
            except json.JSONDecodeError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}
