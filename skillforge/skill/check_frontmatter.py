"""Frontmatter checks of a skill's SKILL.md (called by :func:`skillforge.skill.validate.validate_skill`):
the YAML block is present and parses, its keys are allowed, ``name`` and ``description`` follow the
Agent Skills rules, and the types and lengths match ``schemas/skill-frontmatter.schema.json``.

Each rule's id, severity and source are in :data:`skillforge.skill.rules.RULES`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from skillforge.resources import schema_validator
from skillforge.skill.frontmatter import FRONTMATTER
from skillforge.skill.rules import (
    ALLOWED_KEYS,
    RESERVED_WORDS,
    Add,
    violation,
)

_TOP_KEY = re.compile(r"^([\w-]+)\s*:")


def check_frontmatter(text: str, folder: Path, add: Add) -> tuple[dict[str, Any] | None, int]:
    """Rules ``frontmatter.*``: spec field table, skills-ref ``validate_metadata``, quick_validate,
    Anthropic reserved words. Returns (frontmatter or None, index of the first body line)."""
    match = FRONTMATTER.match(text)
    if not match:
        add(
            violation(
                "frontmatter.missing",
                "SKILL.md",
                1,
                "SKILL.md must start with a YAML frontmatter block between '---' lines",
            )
        )
        return None, 0
    raw = match.group(1)
    body_start = match.group(0).count("\n")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        add(
            violation(
                "frontmatter.yaml",
                "SKILL.md",
                (line + 2) if line is not None else 1,
                f"frontmatter is not valid YAML: {getattr(exc, 'problem', exc)}",
            )
        )
        return None, body_start
    if not isinstance(data, dict):
        add(violation("frontmatter.mapping", "SKILL.md", 2, "frontmatter must be a YAML mapping"))
        return None, body_start
    key_lines: dict[str, int] = {}
    for index, line in enumerate(raw.splitlines()):
        if m := _TOP_KEY.match(line):
            if m.group(1) in key_lines:
                add(
                    violation(
                        "frontmatter.duplicate-key",
                        "SKILL.md",
                        index + 2,
                        f"frontmatter key {m.group(1)!r} appears twice (line {key_lines[m.group(1)]} too)",
                    )
                )
            key_lines.setdefault(m.group(1), index + 2)
    allowed_tools = data.get("allowed-tools")
    if isinstance(allowed_tools, list) and all(isinstance(item, str) for item in allowed_tools):
        add(
            violation(
                "frontmatter.allowed-tools-list",
                "SKILL.md",
                key_lines.get("allowed-tools", 2),
                "allowed-tools is a YAML list; write it as one space-delimited string for hosts that follow "
                "the older spec",
            )
        )
        data = {**data, "allowed-tools": " ".join(allowed_tools)}
    for error in sorted(
        schema_validator("skill-frontmatter").iter_errors(data), key=lambda e: [str(p) for p in e.path]
    ):
        key = str(error.path[0]) if error.path else None
        if error.validator == "additionalProperties" and not error.path:
            for extra in sorted(set(map(str, data)) - set(error.schema.get("properties", {}))):
                add(
                    violation(
                        "frontmatter.keys",
                        "SKILL.md",
                        key_lines.get(extra, 2),
                        f"unknown frontmatter key {extra!r} (allowed: {', '.join(ALLOWED_KEYS)})",
                    )
                )
            continue
        if error.validator == "required":
            add(violation("frontmatter.required", "SKILL.md", 2, error.message))
            continue
        add(
            violation(
                f"frontmatter.{key}" if key in ALLOWED_KEYS else "frontmatter.keys",
                "SKILL.md",
                key_lines.get(key or "", 2),
                _schema_message(key, error),
            )
        )
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        for meta_key in metadata:
            if not isinstance(meta_key, str):
                add(
                    violation(
                        "frontmatter.metadata",
                        "SKILL.md",
                        key_lines.get("metadata", 2),
                        f"metadata key {meta_key!r} must be a string",
                    )
                )
    name = data.get("name")
    if isinstance(name, str):
        if name != folder.name:
            add(
                violation(
                    "frontmatter.name-folder",
                    "SKILL.md",
                    key_lines.get("name", 2),
                    f"name {name!r} must equal the folder name {folder.name!r}",
                )
            )
        for word in RESERVED_WORDS:
            if word in name.lower():
                add(
                    violation(
                        "frontmatter.name-reserved",
                        "SKILL.md",
                        key_lines.get("name", 2),
                        f"name must not contain the reserved word {word!r}",
                    )
                )
    description = data.get("description")
    if isinstance(description, str) and description and not description.strip():
        add(
            violation(
                "frontmatter.description", "SKILL.md", key_lines.get("description", 2), "description must not be blank"
            )
        )
    return data, body_start


def _schema_message(key: str | None, error) -> str:
    if key == "name" and error.validator == "pattern":
        return "name must be lowercase letters, digits and single hyphens, not starting or ending with a hyphen"
    if key == "description" and error.validator == "pattern":
        return "description must not contain angle brackets (< or >), so no XML tags"
    if key == "metadata" and len(error.path) > 1:
        return f'metadata value for {error.path[1]!r} must be a string (quote it: {error.path[1]}: "{error.instance}")'
    return f"{key}: {error.message}" if key else error.message
