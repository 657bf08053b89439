"""One stored version of a skill, as the store reads it back from git (DESIGN §2, "version")."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import git

INFO_PREFIX = "skillforge-info: "
"""Starts the last line of a version's commit message; the rest of the line is its info as JSON."""


@dataclass
class VersionInfo:
    """One stored version of a skill.

    Attributes:
        name: skill name.
        version: version number (1, 2, …), also ``metadata.version`` in its SKILL.md.
        tag: the git tag (``<name>/v<N>``).
        commit: commit sha.
        date: commit time (UTC, ISO-8601).
        info: the JSON recorded at commit time (``run`` id, ``inputs``, ``model``, ``analyst``,
            ``trajectories``, ``lessons``, ``cost_usd``, ``rollback_of``…; any key may be missing).
    """

    name: str
    version: int
    tag: str
    commit: str
    date: str
    info: dict[str, Any] = field(default_factory=dict)


def version_info_of(name: str, version: int, tag: str, commit: git.Commit) -> VersionInfo:
    """The :class:`VersionInfo` of version ``version`` of ``name``, read from its tag's ``commit``."""
    return VersionInfo(
        name=name,
        version=version,
        tag=tag,
        commit=commit.hexsha,
        date=datetime.fromtimestamp(commit.committed_date, tz=timezone.utc).isoformat(timespec="seconds"),
        info=parse_info(commit.message),
    )


def parse_info(message: str | bytes) -> dict[str, Any]:
    """The JSON of the ``skillforge-info:`` line of a commit message; ``{}`` when there is none or
    it is not a JSON object."""
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
