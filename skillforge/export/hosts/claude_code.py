"""Claude Code: SKILL.md folders in ``.claude/skills/`` (project) and ``~/.claude/skills/`` (user).

Source: code.claude.com/docs/en/skills (skill-format-and-hosts.md §3). Claude Code's own keys
(``when_to_use``, ``context``, ``model``…) are never written: the portable SKILL.md is copied as is.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="claude-code",
    paths={"project": ".claude/skills/<name>/", "user": ".claude/skills/<name>/"},
    reads="all spec keys",
    source="code.claude.com/docs/en/skills",
)
