"""The interface every export host implements, and what a host returns.

The pattern is pre-commit's (``pre_commit/languages/*.py`` gathered in one registry): each module
in :mod:`skillforge.export.hosts` defines one ``HOST`` object with the same small interface, and
:mod:`skillforge.export.registry` lists them. A host only *plans*: it turns a
:class:`~skillforge.export.source.SkillSource` into :class:`Output` s (paths relative to the
destination root, and their bytes). Writing, the manifest, ``--dry-run``, ``--force`` and path
safety are done once, in :mod:`skillforge.export.apply`, for every host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from skillforge.errors import SkillforgeError
from skillforge.export.source import SkillSource

Scope = Literal["project", "user"]
Existing = Callable[[str], "bytes | None"]
"""Reads the file now at a destination path (relative, POSIX); None when there is none."""
SCOPES: tuple[Scope, ...] = ("project", "user")


@dataclass(frozen=True)
class ExportOptions:
    """Choices a user can make for translated hosts.

    Attributes:
        globs: comma-separated file globs (``src/**/*.py,tests/**``): Cursor ``globs``, Copilot
            ``applyTo``, Windsurf ``trigger: glob``. None means "let the model decide" (Cursor
            agent-requested, Windsurf ``model_decision``) or all files (Copilot ``**``).
    """

    globs: str | None = None


@dataclass(frozen=True)
class Output:
    """One thing a host writes.

    Attributes:
        path: where, relative to the destination root (POSIX form).
        data: the bytes of the file.
        executable: write the file with execute bits (0o755).
        block: when set, ``path`` is a shared file (AGENTS.md, CLAUDE.md) and ``data`` is its
            whole new text, in which only the block named ``block`` (between marker comments)
            differs from what is there now; such a file need not be skillforge's, but a block
            edited by hand is not replaced without ``--force``.
    """

    path: str
    data: bytes
    executable: bool = False
    block: str | None = None


@dataclass
class Plan:
    """What a host would write for one skill.

    Attributes:
        outputs: the files (or blocks) to write.
        warnings: what was cut or left out, in words (``references/x.md not inlined: …``).
        folder: for skill-folder hosts, the folder the skill owns (``.claude/skills/<name>``);
            files found there that skillforge did not write are reported, never touched.
    """

    outputs: list[Output] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    folder: str | None = None


class Host(Protocol):
    """The interface of a host module's ``HOST`` object.

    Attributes:
        name: the ``--to`` value (``claude-code``, ``cursor-rules``, ``bundle``…).
        kind: ``skill`` (native SKILL.md folder), ``rules`` (translated rule file), ``block``
            (managed block in a shared instructions file) or ``bundle`` (a ``.skill`` zip).
        paths: scope → where it writes, relative to the project (or home) folder, with
            ``<name>`` for the skill name. A scope missing here is not supported.
        keeps: what of the skill reaches the host, in words (for ``export --list``).
        drops: what is left out or cut, in words.
        source: where the host's paths and format are documented.
    """

    name: str
    kind: str
    paths: dict[str, str]
    keeps: str
    drops: str
    source: str

    def plan(self, skill: SkillSource, scope: Scope, options: ExportOptions, existing: Existing) -> Plan:
        """The outputs for ``skill`` at ``scope``.

        ``existing`` lets a host that shares a file (AGENTS.md) size its part to what is
        already there; hosts never write.

        Raises:
            SkillforgeError: when the skill cannot be laid out for this host.
        """
        ...


def base_path(host: Host, scope: Scope) -> str:
    """The host's path pattern for ``scope``.

    Raises:
        SkillforgeError: when the host has no such scope.
    """
    if scope not in host.paths:
        supported = ", ".join(host.paths) or "none"
        raise SkillforgeError(f"{host.name} has no {scope} scope (supported: {supported})")
    return host.paths[scope]
