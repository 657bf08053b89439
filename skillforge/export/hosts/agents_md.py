"""``AGENTS.md`` (plain Markdown, no frontmatter), read by Codex, Cursor, Copilot, Amp and
Windsurf: the skill goes into its own managed block (see :mod:`skillforge.export.block`);
the rest of the file is never touched. User scope: Codex's global ``~/.codex/AGENTS.md``.

Codex stops reading AGENTS.md files once their combined size reaches ``project_doc_max_bytes``,
32 KiB by default, so the file is kept within 32,768 bytes.

Source: agents.md; developers.openai.com/codex/guides/agents-md.
"""

from skillforge.export.flatten import Limit
from skillforge.export.layouts import ManagedBlockHost

HOST = ManagedBlockHost(
    name="agents-md",
    paths={"project": "AGENTS.md", "user": ".codex/AGENTS.md"},
    limit=Limit(32_768, "bytes", "developers.openai.com/codex/guides/agents-md: project_doc_max_bytes, 32 KiB by default"),
    source="agents.md; developers.openai.com/codex/guides/agents-md",
)
