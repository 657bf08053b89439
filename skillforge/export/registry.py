"""Every export host, by its ``--to`` name. Adding a host: one module in ``hosts/``, one line here."""

from __future__ import annotations

from skillforge.errors import SkillforgeError
from skillforge.export.host import Host
from skillforge.export.hosts import (
    agents,
    agents_md,
    amp,
    bundle,
    claude_code,
    claude_md,
    codex,
    codex_legacy,
    copilot,
    copilot_instructions,
    cursor,
    cursor_rules,
    gemini,
    goose,
    opencode,
    windsurf,
    windsurf_rules,
)

HOSTS: dict[str, Host] = {
    module.HOST.name: module.HOST
    for module in (
        claude_code,
        agents,
        codex,
        codex_legacy,
        gemini,
        copilot,
        cursor,
        opencode,
        goose,
        amp,
        windsurf,
        cursor_rules,
        copilot_instructions,
        windsurf_rules,
        agents_md,
        claude_md,
        bundle,
    )
}


def get_host(name: str) -> Host:
    """The host called ``name``.

    Raises:
        SkillforgeError: unknown host (the message lists the known ones).
    """
    try:
        return HOSTS[name]
    except KeyError:
        raise SkillforgeError(
            f"unknown host {name!r}; hosts: {', '.join(HOSTS)} (see 'skillforge export --list')"
        ) from None
