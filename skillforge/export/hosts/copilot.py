"""GitHub Copilot (cloud agent, CLI, VS Code agent mode): ``.github/skills/`` (project) and
``~/.copilot/skills/`` (user). For Copilot's instructions files, see :mod:`.copilot_instructions`.

Source: github/docs data/reusables/copilot/creating-adding-skills.md.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="copilot",
    paths={"project": ".github/skills/<name>/", "user": ".copilot/skills/<name>/"},
    reads="name, description and license",
    source="github/docs data/reusables/copilot/creating-adding-skills.md",
)
