"""The YAML frontmatter of a SKILL.md: the block between the first two ``---`` lines.

Format: Agent Skills specification, "SKILL.md format" (https://agentskills.io/specification);
read the way Anthropic's ``quick_validate.py`` reads it (a regex over ``---`` lines, then
``yaml.safe_load``), with CRLF accepted so that the validator can report it under its own rule.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from skillforge.resources import schema_validator
from skillforge.skill.rules import RESERVED_WORDS

FRONTMATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
"""The frontmatter block at the very start of a file; group 1 is the YAML text."""


def parse_frontmatter(text: str) -> tuple[dict[str, Any] | None, int]:
    """Split SKILL.md text into (frontmatter dict or None, index of the first body line).

    Raises:
        yaml.YAMLError: when the frontmatter block exists but is not valid YAML.
    """
    match = FRONTMATTER.match(text)
    if not match:
        return None, 0
    data = yaml.safe_load(match.group(1))
    return (data if isinstance(data, dict) else None), match.group(0).count("\n")


def name_problems(name: str) -> list[str]:
    """What is wrong with ``name`` as a skill name, as short phrases; empty when it is valid.

    The one check of a skill name, used wherever a name comes from outside (``distill --skill``, a
    folder's name, ``export``, ``import``): the ``name`` rule of ``schemas/skill-frontmatter.schema.json``
    (Agent Skills spec, https://agentskills.io/specification: 1-64 characters of a-z, 0-9 and single
    hyphens, so no ``/``, ``..`` or absolute path can pass) and the reserved words of
    :data:`skillforge.skill.rules.RESERVED_WORDS` (Anthropic's platform docs).
    """
    problems = []
    if any(
        list(error.path) == ["name"]
        for error in schema_validator("skill-frontmatter").iter_errors({"name": name, "description": "-"})
    ):
        problems.append("use 1-64 lowercase letters, digits and single hyphens")
    problems += [f"it contains the reserved word {word!r}" for word in RESERVED_WORDS if word in name.lower()]
    return problems
