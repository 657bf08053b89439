"""Cursor rules (not skill-aware): ``.cursor/rules/<name>.mdc``.

Frontmatter ``description``, ``globs`` and ``alwaysApply`` — a real YAML boolean, since the
string ``"true"`` is not ``true`` to Cursor. Without ``--globs`` the rule is *agent-requested*
(``alwaysApply: false``, picked by its description), like a skill; with ``--globs`` it is
*auto-attached* to matching files. User rules live in Cursor's settings, not in files, so there
is no user scope. Cursor's guidance is to keep a rule under 500 lines.

Source: cursor.com/docs/context/rules (skill-format-and-hosts.md §3).
"""

from skillforge.export.flatten import Limit
from skillforge.export.host import ExportOptions
from skillforge.export.layouts import RuleFileHost
from skillforge.export.source import SkillSource


def _frontmatter(skill: SkillSource, options: ExportOptions) -> dict:
    values: dict = {"description": skill.description}
    if options.globs:
        values["globs"] = options.globs
    values["alwaysApply"] = False
    return values


HOST = RuleFileHost(
    name="cursor-rules",
    paths={"project": ".cursor/rules/<name>.mdc"},
    frontmatter=_frontmatter,
    limit=Limit(500, "lines", "cursor.com/docs/context/rules: keep rules under 500 lines"),
    keeps="description, alwaysApply: false, globs (--globs); SKILL.md body and references/*.md inlined",
    source="cursor.com/docs/context/rules",
)
