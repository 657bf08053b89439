"""One stored version of a skill, as the store reads it back from git (DESIGN §2, "version")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
