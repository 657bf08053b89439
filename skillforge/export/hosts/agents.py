"""The shared ``.agents/skills/`` folder, read by Codex, Gemini CLI, GitHub Copilot, OpenCode, Goose
and Amp (project); ``~/.agents/skills/`` is read by the same hosts except Amp (user).

Source: agentskills/agentskills docs/client-implementation/adding-skills-support.mdx and each
host's docs (skill-format-and-hosts.md §3, "Convergence").
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="agents",
    paths={"project": ".agents/skills/<name>/", "user": ".agents/skills/<name>/"},
    reads="name and description at least, each host ignoring keys it does not know",
    source="agentskills.io client implementation guide",
)
