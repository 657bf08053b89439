"""The four ways a host receives a skill; each host module is one of these with its own paths.

* :class:`SkillFolderHost` — a native SKILL.md host: the skill folder copied byte for byte
  (the portable SKILL.md never gets host-specific keys).
* :class:`RuleFileHost` — a rule or instructions file of its own, with the host's frontmatter
  and the skill flattened into one document within the host's size limit.
* :class:`ManagedBlockHost` — the skill's block inside a shared file (AGENTS.md, CLAUDE.md),
  loaded into every conversation: the evidence table is left out (:mod:`skillforge.export.evidence`).
* :class:`BundleHost` — a ``.skill`` zip.

All implement :class:`skillforge.export.host.Host`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from skillforge.errors import SkillforgeError
from skillforge.export.block import render_block, splice
from skillforge.export.bundle import write_bundle
from skillforge.export.evidence import without_evidence
from skillforge.export.flatten import Limit, render_document
from skillforge.export.host import Existing, ExportOptions, Output, Plan, Scope, base_path
from skillforge.export.source import SkillSource

NAME = "<name>"


def _path(host, scope: Scope, skill: SkillSource) -> str:
    return base_path(host, scope).replace(NAME, skill.name)


def _skipped(skill: SkillSource, host: str) -> list[str]:
    return [f"{path} not exported to {host} (left out as Anthropic's packager does)" for path in skill.skipped]


@dataclass(frozen=True)
class SkillFolderHost:
    """A host that loads SKILL.md folders natively (see :class:`~skillforge.export.host.Host`).

    Attributes (besides the Host ones):
        reads: the frontmatter keys the host honours, in words; the others are ignored by it,
            and kept in the file for the hosts that read them.
    """

    name: str
    paths: dict[str, str]
    reads: str
    source: str
    kind: str = "skill"

    @property
    def keeps(self) -> str:
        return f"the skill folder, byte for byte; the host reads {self.reads}"

    @property
    def drops(self) -> str:
        return "nothing (root evals/, .git/ and caches are never exported)"

    def plan(self, skill: SkillSource, scope: Scope, options: ExportOptions, existing: Existing) -> Plan:
        """Every file of the skill under ``<base>/<name>/``."""
        folder = _path(self, scope, skill).rstrip("/")
        outputs = [Output(f"{folder}/{f.path}", f.data, f.executable) for f in skill.files]
        return Plan(outputs, _skipped(skill, self.name), folder=folder)


def yaml_frontmatter(values: dict[str, Any]) -> str:
    """A ``---`` delimited YAML frontmatter block (keys in the given order, booleans as booleans)."""
    return "---\n" + yaml.safe_dump(values, sort_keys=False, allow_unicode=True, width=1_000_000) + "---\n\n"


@dataclass(frozen=True)
class RuleFileHost:
    """A host reading rule/instruction files with its own frontmatter (Cursor, Copilot, Windsurf).

    Attributes (besides the Host ones):
        frontmatter: builds the host's frontmatter from the skill and the options.
        limit: the host's size limit per file, None when it documents none.
        intro_description: put the skill's description under the title (hosts whose
            frontmatter has no description key).
    """

    name: str
    paths: dict[str, str]
    frontmatter: Callable[[SkillSource, ExportOptions], dict[str, Any]]
    limit: Limit | None
    keeps: str
    source: str
    intro_description: bool = False
    kind: str = "rules"

    @property
    def drops(self) -> str:
        cut = f"cut past {self.limit}" if self.limit else "nothing cut (no documented size limit)"
        return f"other frontmatter keys, files other than references/*.md; {cut}"

    def plan(self, skill: SkillSource, scope: Scope, options: ExportOptions, existing: Existing) -> Plan:
        """One file: the host's frontmatter, then the skill as one document."""
        head = yaml_frontmatter(self.frontmatter(skill, options))
        intro = skill.description if self.intro_description else ""
        text, warnings = render_document(skill, self.name, lambda doc: head + doc, self.limit, level=1, intro=intro)
        return Plan([Output(_path(self, scope, skill), text.encode("utf-8"))], _skipped(skill, self.name) + warnings)


@dataclass(frozen=True)
class ManagedBlockHost:
    """A shared, frontmatter-free instructions file (AGENTS.md, CLAUDE.md) holding one block per skill.

    Attributes (besides the Host ones):
        limit: the host's limit for the whole file (the block is sized to what is already there).
    """

    name: str
    paths: dict[str, str]
    limit: Limit
    source: str
    kind: str = "block"
    keeps: str = "description, SKILL.md body and references/*.md inlined, in a marked block"

    @property
    def drops(self) -> str:
        return (
            "frontmatter, the evidence table (one line pointing to the store instead), files other than "
            f"references/*.md; cut so the whole file stays within {self.limit}"
        )

    def plan(self, skill: SkillSource, scope: Scope, options: ExportOptions, existing: Existing) -> Plan:
        """The whole shared file with the skill's block spliced in (outside text unchanged); the file
        is loaded into every conversation, so the evidence table stays in the store."""
        skill = without_evidence(skill)
        path = _path(self, scope, skill)
        current = existing(path)
        try:
            text = current.decode("utf-8") if current is not None else None
        except UnicodeDecodeError as exc:
            raise SkillforgeError(f"{path}: not UTF-8 text; skillforge will not edit it") from exc
        label = f"v{skill.version}" if skill.version is not None else "unversioned"
        new_text, warnings = render_document(
            skill,
            self.name,
            lambda doc: splice(text, skill.name, render_block(skill.name, label, doc), path),
            self.limit,
            level=2,
            intro=skill.description,
        )
        return Plan([Output(path, new_text.encode("utf-8"), block=skill.name)], _skipped(skill, self.name) + warnings)


@dataclass(frozen=True)
class BundleHost:
    """A ``.skill`` zip (see :mod:`skillforge.export.bundle`), written to the destination folder."""

    name: str = "bundle"
    paths: dict[str, str] = field(default_factory=lambda: {"project": f"{NAME}.skill"})
    source: str = "anthropics/skills skills/skill-creator/scripts/package_skill.py"
    kind: str = "bundle"
    keeps: str = "the whole skill folder under one top-level <name>/ folder, zipped"
    drops: str = "evals/ at the root, .git/, __pycache__/, node_modules/, *.pyc, .DS_Store"

    def plan(self, skill: SkillSource, scope: Scope, options: ExportOptions, existing: Existing) -> Plan:
        """One file, ``<name>.skill``."""
        return Plan([Output(_path(self, scope, skill), write_bundle(skill))], _skipped(skill, self.name))
