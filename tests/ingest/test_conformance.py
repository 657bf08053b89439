"""Conformance: ingest against each format's UPSTREAM definition, on every real file we hold.

For each log file of ``../shared/traces`` and of ``tests/data/wild`` (other sources and agent
versions, see its PROVENANCE.md), :mod:`tests.ingest.upstream` reads the raw file the way the
harness that wrote it defines it (standard library only), and :mod:`tests.ingest.wild_compare`
sets that beside what ``skillforge ingest`` made of it. A file conforms when:

* the number of tool calls equals the number the upstream format defines (mini-swe-agent: its
  ``action_regex`` over the assistant messages; OpenHands: every non-message action; …);
* every upstream call's arguments are found, whole, on an ingested call (a command taken from the
  wrong fence, or arguments lost, fails here);
* every user prompt of the raw file appears in a user step;
* no ingested call has empty arguments where the raw record has some;
* the tool results the raw file itself marks as failed (``is_error``, ``error: true``, a Gemini
  ``status: error``) are all errors in ingest, and mini-swe-agent's format errors (zero or several
  actions in one reply) are recorded as such, as many as upstream counts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_TRACES, require_shared_traces
from tests.ingest.wild_compare import Comparison, compare

WILD = REPO / "tests" / "data" / "wild"
LOG_SUFFIXES = (".json", ".jsonl", ".traj", ".eval")


def _logs(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix in LOG_SUFFIXES)


SHARED_FILES = _logs(SHARED_TRACES) if SHARED_TRACES.is_dir() else ["(corpus absent)"]
WILD_FILES = _logs(WILD)


def _kinds(item: Comparison) -> Counter:
    return Counter(
        kind for t in item.trajectories for s in t.steps for kind in (s.extra.get("error_kinds") or {}).values()
    )


def _conforms(path: Path) -> None:
    item = compare(path)
    if item.format is None:
        assert path.name == "report.json", f"{path} not recognised"  # a SWE-bench report, read for outcomes
        return
    raw = item.raw
    assert raw is not None, f"no upstream reader for {item.format}"
    assert item.calls == len(raw.calls), f"{path}: {item.calls} calls, upstream defines {len(raw.calls)}"
    assert item.unmatched_calls() == 0, f"{path}: upstream calls whose arguments ingest does not hold"
    assert item.prompts_missing() == [], f"{path}: user prompts missing from user steps"
    assert item.empty_arguments() == 0, f"{path}: calls with empty arguments where the raw record has some"
    assert item.errors >= raw.errors, f"{path}: {raw.errors} results marked failed in the file, {item.errors} in ingest"
    if item.format == "mini-swe-agent":
        assert _kinds(item)["format_error"] == raw.format_errors


@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_trace_conforms_to_its_upstream_format(name: str) -> None:
    _conforms(require_shared_traces() / name)


@pytest.mark.parametrize("name", WILD_FILES)
def test_wild_file_conforms_to_its_upstream_format(name: str) -> None:
    _conforms(WILD / name)


def test_every_format_with_a_reader_has_a_file_from_each_source() -> None:
    """The formats both sources cover, so a new wild file is not silently left untested."""
    wild_formats = {compare(WILD / name).format for name in WILD_FILES} - {None}
    assert wild_formats == {
        "claude-code",
        "codex",
        "gemini-cli",
        "tau2-bench",
        "mini-swe-agent",
        "openhands",
        "inspect-ai",
        "swe-agent",
        "openai-chat",
    }
