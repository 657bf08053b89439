"""``CLAUDE.md``, Claude Code's memory file (plain Markdown): the skill goes into its own managed
block (see :mod:`skillforge.export.block`); the rest of the file is never touched. Project:
``CLAUDE.md``; user: ``~/.claude/CLAUDE.md``.

Claude Code warns that a CLAUDE.md over 40,000 characters "will impact performance", so the
file is kept within 40,000 characters.

Source: code.claude.com/docs/en/memory; the threshold: anthropics/claude-code#56406.
"""

from skillforge.export.flatten import Limit
from skillforge.export.layouts import ManagedBlockHost

HOST = ManagedBlockHost(
    name="claude-md",
    paths={"project": "CLAUDE.md", "user": ".claude/CLAUDE.md"},
    limit=Limit(40_000, "chars", "Claude Code warns past 40,000 characters, anthropics/claude-code#56406"),
    source="code.claude.com/docs/en/memory",
)
