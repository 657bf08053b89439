"""The YAML frontmatter of a SKILL.md: the block between the first two ``---`` lines.

Format: Agent Skills specification, "SKILL.md format" (https://agentskills.io/specification);
read the way Anthropic's ``quick_validate.py`` reads it (a regex over ``---`` lines, then
``yaml.safe_load``), with CRLF accepted so that the validator can report it under its own rule.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

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
