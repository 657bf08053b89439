"""The registry of log formats: one module per format, tried in this order by ``detect()``
(specific formats first, the generic chat transcript last).

Adding a format = one new module in ``skillforge/ingest/`` that implements
:class:`~skillforge.ingest.base.Format` (``NAME``, ``detect``, ``parse``) plus one line here;
mypy checks every module listed against the protocol.
"""

from __future__ import annotations

from skillforge.ingest import (
    atif,
    claude_code,
    codex,
    gemini_cli,
    inspect_ai,
    mini_swe_agent,
    openai_chat,
    openhands,
    otel_genai,
    swe_agent,
    tau2_bench,
    tau_bench,
)
from skillforge.ingest.base import Format

FORMATS: dict[str, Format] = {
    claude_code.NAME: claude_code,
    codex.NAME: codex,
    tau_bench.NAME: tau_bench,
    tau2_bench.NAME: tau2_bench,
    swe_agent.NAME: swe_agent,
    mini_swe_agent.NAME: mini_swe_agent,
    openhands.NAME: openhands,
    inspect_ai.NAME: inspect_ai,
    gemini_cli.NAME: gemini_cli,
    atif.NAME: atif,
    otel_genai.NAME: otel_genai,
    openai_chat.NAME: openai_chat,  # the most generic shape: tried last
}
