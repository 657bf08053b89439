"""OpenAI Codex: ``.agents/skills/`` in the project (and each parent up to the repository root),
``$HOME/.agents/skills/`` for the user. For the older loader, see :mod:`.codex_legacy`.

Source: developers.openai.com/codex/skills; openai/codex ``codex-rs/core/src/skills/loader.rs``.
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="codex",
    paths={"project": ".agents/skills/<name>/", "user": ".agents/skills/<name>/"},
    reads="name, description, metadata.short-description",
    source="developers.openai.com/codex/skills",
)
