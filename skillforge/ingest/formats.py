"""The registry of log formats: one module per format, tried in this order by ``detect()``
(specific formats first, the generic chat transcript last).

Adding a format = one new module in ``skillforge/ingest/`` with ``NAME``, ``detect`` and
``parse`` (see :mod:`skillforge.ingest.base`) plus one line here.
"""

from __future__ import annotations

from types import ModuleType

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

FORMATS: dict[str, ModuleType] = {
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
