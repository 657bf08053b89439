"""The registry of log formats: one module per format, tried in this order by ``detect()``.

Adding a format = one new module in ``skillforge/ingest/`` with ``NAME``, ``detect`` and
``parse`` (see :mod:`skillforge.ingest.base`) plus one line here.
"""

from __future__ import annotations

from types import ModuleType

from skillforge.ingest import claude_code, tau_bench

FORMATS: dict[str, ModuleType] = {
    claude_code.NAME: claude_code,
    tau_bench.NAME: tau_bench,
}
