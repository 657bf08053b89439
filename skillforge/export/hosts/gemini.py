"""Gemini CLI: ``.gemini/skills/`` (project) and ``~/.gemini/skills/`` (user); it also reads
``.agents/skills/`` (host ``agents``).

Source: geminicli.com/docs/cli/using-agent-skills; google-gemini/gemini-cli docs/cli/skills.md.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="gemini",
    paths={"project": ".gemini/skills/<name>/", "user": ".gemini/skills/<name>/"},
    reads="name and description; it asks the user before activating a skill",
    source="geminicli.com/docs/cli/using-agent-skills",
)
