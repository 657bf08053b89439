"""Windsurf rules (not skill-aware): ``.windsurf/rules/<name>.md``.

Frontmatter ``trigger``: ``model_decision`` with the skill's ``description`` (Cascade decides,
as with a skill), or ``glob`` with ``globs`` when ``--globs`` is given. Rule files are limited to
12,000 characters each. Global rules are a single file edited in Windsurf's settings, so there
is no user scope.

Source: docs.windsurf.com/windsurf/cascade/memories (skill-format-and-hosts.md §3).
"""

from skillforge.export.flatten import Limit
from skillforge.export.host import ExportOptions
from skillforge.export.layouts import RuleFileHost
from skillforge.export.source import SkillSource


def _frontmatter(skill: SkillSource, options: ExportOptions) -> dict:
    if options.globs:
        return {"trigger": "glob", "globs": options.globs}
    return {"trigger": "model_decision", "description": skill.description}


HOST = RuleFileHost(
    name="windsurf-rules",
    paths={"project": ".windsurf/rules/<name>.md"},
    frontmatter=_frontmatter,
    limit=Limit(12_000, "chars", "docs.windsurf.com/windsurf/cascade/memories: rule files are limited to 12,000 characters"),
    keeps="trigger: model_decision + description (glob + globs with --globs); SKILL.md body and references/*.md inlined",
    source="docs.windsurf.com/windsurf/cascade/memories",
)
