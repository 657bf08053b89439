"""Older OpenAI Codex releases: ``<repo>/.codex/skills/`` and ``$CODEX_HOME/skills/``. The user
scope writes ``~/.codex/skills/``, the default ``CODEX_HOME``; ``$CODEX_HOME`` itself is not read,
so that a user-scope export only ever writes under ``$HOME`` (or ``--dest``).

Source: openai/codex ``codex-rs/core/src/skills/loader.rs`` @006b3da (skill-format-and-hosts.md §3).
"""

from skillforge.export.layouts import SkillFolderHost

HOST = SkillFolderHost(
    name="codex-legacy",
    paths={"project": ".codex/skills/<name>/", "user": ".codex/skills/<name>/"},
    reads="name and description",
    source="openai/codex codex-rs/core/src/skills/loader.rs @006b3da",
)
