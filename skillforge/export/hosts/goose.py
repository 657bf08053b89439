"""Goose: ``.agents/skills/`` (project) and ``~/.agents/skills/`` (user), its documented paths
(the older ``.goose/skills/`` is still read for compatibility).

Source: block/goose documentation/docs/guides/context-engineering/using-skills.md.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="goose",
    paths={"project": ".agents/skills/<name>/", "user": ".agents/skills/<name>/"},
    reads="name and description",
    source="block/goose documentation/docs/guides/context-engineering/using-skills.md",
)
