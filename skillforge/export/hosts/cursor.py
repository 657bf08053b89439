"""Cursor: ``.cursor/skills/`` (project) and ``~/.cursor/skills/`` (user). For Cursor's rules
(``.mdc``), see :mod:`.cursor_rules`.

Source: cursor.com/docs/context/skills.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="cursor",
    paths={"project": ".cursor/skills/<name>/", "user": ".cursor/skills/<name>/"},
    reads="the spec keys",
    source="cursor.com/docs/context/skills",
)
