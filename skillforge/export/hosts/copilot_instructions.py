"""GitHub Copilot path-specific instructions (not skill-aware):
``.github/instructions/<name>.instructions.md`` (project) and
``~/.copilot/instructions/<name>.instructions.md`` (Copilot CLI, user).

Frontmatter ``applyTo``: the comma-separated globs of ``--globs``, or ``**`` (all files). Copilot's
instructions frontmatter has no description, so the description opens the document. GitHub
documents no size limit for these files any more (the 4,000-character limit of Copilot code
review was removed from its docs, github/docs#42761), so nothing is cut.

Source: github/docs data/reusables/copilot/custom-instructions-path.md.
"""

from skillforge.export.host import ExportOptions
from skillforge.export.layouts import RuleFileHost
from skillforge.export.source import SkillSource


def _frontmatter(skill: SkillSource, options: ExportOptions) -> dict:
    return {"applyTo": options.globs or "**"}


HOST = RuleFileHost(
    name="copilot-instructions",
    paths={
        "project": ".github/instructions/<name>.instructions.md",
        "user": ".copilot/instructions/<name>.instructions.md",
    },
    frontmatter=_frontmatter,
    limit=None,
    keeps="applyTo (--globs, default **); description, SKILL.md body and references/*.md inlined",
    source="github/docs data/reusables/copilot/custom-instructions-path.md",
    intro_description=True,
)
