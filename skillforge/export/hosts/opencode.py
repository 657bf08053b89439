"""OpenCode: ``.opencode/skills/`` (project) and ``~/.config/opencode/skills/`` (user).

Source: opencode.ai/docs/skills.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="opencode",
    paths={"project": ".opencode/skills/<name>/", "user": ".config/opencode/skills/<name>/"},
    reads="name, description, license, compatibility and metadata",
    source="opencode.ai/docs/skills",
)
