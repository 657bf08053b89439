"""Windsurf (Cascade): ``.windsurf/skills/`` (project) and ``~/.codeium/windsurf/skills/`` (user).
For Windsurf's rules, see :mod:`.windsurf_rules`.

Source: docs.windsurf.com/windsurf/cascade/skills.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="windsurf",
    paths={"project": ".windsurf/skills/<name>/", "user": ".codeium/windsurf/skills/<name>/"},
    reads="name and description",
    source="docs.windsurf.com/windsurf/cascade/skills",
)
