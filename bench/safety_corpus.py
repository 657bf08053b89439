"""Detection and false-positive rates of the safety scan on tests/skill/safety_corpus.yaml.

Run: .venv/bin/python bench/safety_corpus.py
Prints, per corpus section, how many planted payloads were flagged (as an error with their
expected rule) and how many benign look-alikes raised an error or any finding, plus scan speed.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from skillforge.skill.safety import is_script, scan_text

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "skill" / "safety_corpus.yaml"


def _scan(entry: dict) -> list:
    file = entry.get("file", "SKILL.md")
    return scan_text(entry["text"], file, script=is_script(file, entry["text"]))


def main() -> None:
    """Print the rates; exit code 0 always (this is a measurement, not a test)."""
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    started = time.perf_counter()
    for section in ("payloads", "holdout_payloads"):
        entries = corpus.get(section, [])
        hits = [e for e in entries if any(v.rule == e["rule"] and v.severity == "error" for v in _scan(e))]
        missed = [e["id"] for e in entries if e not in hits]
        print(
            f"{section:18} detected {len(hits)}/{len(entries)} = {len(hits) / len(entries):.0%}"
            + (f"  missed: {missed}" if missed else "")
        )
    for section in ("benign", "holdout_benign", "real_benign"):
        entries = corpus.get(section, [])
        errors = [e["id"] for e in entries if any(v.severity == "error" for v in _scan(e))]
        any_finding = [e["id"] for e in entries if _scan(e)]
        print(
            f"{section:18} false positives: errors {len(errors)}/{len(entries)} = {len(errors) / len(entries):.0%}, "
            f"any finding {len(any_finding)}/{len(entries)} = {len(any_finding) / len(entries):.0%}"
            + (f"  ({', '.join(any_finding)})" if any_finding else "")
        )
    lines = sum(e["text"].count("\n") + 1 for entries in corpus.values() for e in entries)
    print(f"scanned {lines} lines in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
