"""Amp: ``.agents/skills/`` (project) and ``~/.config/amp/skills/`` (user; Amp does not read
``~/.agents/skills/``).

Source: ampcode.com/manual#agent-skills (skill-format-and-hosts.md §3; secondary sources).
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="amp",
    paths={"project": ".agents/skills/<name>/", "user": ".config/amp/skills/<name>/"},
    reads="name and description",
    source="ampcode.com/manual#agent-skills",
)
