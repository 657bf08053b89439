"""Guardrails run by .ci/run: ruff format, ruff lint and mypy against a baseline that only shrinks.

The baseline (``.ci/baseline.json``) records what was not yet clean when the guardrails were
introduced: files ``ruff format`` would still change, and per file and rule the count of ruff and
mypy findings (counts, not line numbers, so that unrelated edits do not move them). CI fails when

* a file or rule appears that the baseline does not list, or a count grows (new debt), or
* a count is lower than the baseline says (the debt was paid: record it with ``--update``, so
  that it cannot come back unnoticed).

Usage (from the repository root, in the project's virtual environment)::

    python .ci/guardrails.py            # check; exit 1 on any difference
    python .ci/guardrails.py --update   # rewrite the baseline; refused if a rule's total grew

``--update`` compares totals per rule, not per file, so that moving a module (its findings move
with it) can be recorded, while new debt cannot.

Tools: ruff (https://docs.astral.sh/ruff/, settings in pyproject.toml ``[tool.ruff]``) and mypy
(https://mypy.readthedocs.io/, ``[tool.mypy]``), both pinned in the ``test`` extra.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".ci" / "baseline.json"
PATHS = ["skillforge", "tests", "bench", ".ci"]
MYPY_LINE = re.compile(r"^(?P<file>[^:]+):\d+(?::\d+)?: error: .*\[(?P<code>[a-z0-9-]+)\]$")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False)


def unformatted() -> list[str]:
    """Files ``ruff format --check`` would change, sorted (paths relative to the root)."""
    done = _run("ruff", "format", "--check", "--output-format", "json", *PATHS)
    findings = json.loads(done.stdout or "[]")
    return sorted({str(Path(f["filename"]).resolve().relative_to(ROOT)) for f in findings})


def lint_counts() -> Counter[str]:
    """``"file rule"`` → number of ruff findings."""
    done = _run("ruff", "check", "--output-format", "json", "--exit-zero", *PATHS)
    findings = json.loads(done.stdout or "[]")
    return Counter(f"{Path(f['filename']).resolve().relative_to(ROOT)} {f['code']}" for f in findings)


def mypy_counts() -> Counter[str]:
    """``"file code"`` → number of mypy errors (settings from pyproject.toml)."""
    done = _run("mypy", "--no-error-summary", "--no-color-output", "--hide-error-context")
    counts: Counter[str] = Counter()
    for line in done.stdout.splitlines():
        match = MYPY_LINE.match(line.strip())
        if match:
            counts[f"{match['file']} {match['code']}"] += 1
        elif ": error:" in line:  # an error without a code (syntax, config): count it under its own name
            counts[f"{line.split(':', 1)[0]} error"] += 1
    return counts


def current() -> dict[str, object]:
    """The findings now, in the baseline's shape."""
    return {
        "format": unformatted(),
        "lint": dict(sorted(lint_counts().items())),
        "mypy": dict(sorted(mypy_counts().items())),
    }


def compare(baseline: dict[str, object], now: dict[str, object]) -> tuple[list[str], list[str]]:
    """(grown, shrunk): one line per difference between the baseline and now."""
    grown: list[str] = []
    shrunk: list[str] = []
    old_format, new_format = set(baseline.get("format", [])), set(now["format"])  # type: ignore[arg-type]
    grown += [f"format: {f} is not formatted (run: ruff format {f})" for f in sorted(new_format - old_format)]
    shrunk += [f"format: {f} is formatted now" for f in sorted(old_format - new_format)]
    for section in ("lint", "mypy"):
        old: dict[str, int] = baseline.get(section, {})  # type: ignore[assignment]
        new: dict[str, int] = now[section]  # type: ignore[assignment]
        for key in sorted(set(old) | set(new)):
            before, after = old.get(key, 0), new.get(key, 0)
            if after > before:
                grown.append(f"{section}: {key}: {after} findings, the baseline allows {before}")
            elif after < before:
                shrunk.append(f"{section}: {key}: {after} findings, the baseline still says {before}")
    return grown, shrunk


def totals_grown(baseline: dict[str, object], now: dict[str, object]) -> list[str]:
    """Rules whose total over all files grew (and unformatted files, counted): one line each."""
    lines = []
    if len(now["format"]) > len(baseline.get("format", [])):  # type: ignore[arg-type]
        lines.append(f"format: {len(now['format'])} unformatted files, the baseline has {len(baseline['format'])}")  # type: ignore[arg-type,index]
    for section in ("lint", "mypy"):
        old: Counter[str] = Counter()
        new: Counter[str] = Counter()
        for key, count in baseline.get(section, {}).items():  # type: ignore[attr-defined]
            old[key.rsplit(" ", 1)[1]] += count
        for key, count in now[section].items():  # type: ignore[attr-defined]
            new[key.rsplit(" ", 1)[1]] += count
        lines += [
            f"{section}: {code}: {new[code]} in all, the baseline has {old[code]}"
            for code in new
            if new[code] > old[code]
        ]
    return lines


def main(argv: list[str]) -> int:
    """Check (default) or ``--update`` the baseline; returns the exit code."""
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    now = current()
    grown, shrunk = compare(baseline, now)
    if "--update" in argv:
        worse = totals_grown(baseline, now)
        if worse and "--allow-growth" not in argv:
            print("refused: the baseline only shrinks; fix these first:", *worse, *grown, sep="\n  ")
            return 1
        BASELINE.write_text(json.dumps(now, indent=1) + "\n")
        total = len(now["format"]) + sum(now["lint"].values()) + sum(now["mypy"].values())  # type: ignore[arg-type]
        print(f"baseline written: {total} findings left")
        return 0
    for line in grown:
        print(f"new: {line}")
    for line in shrunk:
        print(f"paid: {line}")
    if shrunk and not grown:
        print("the baseline is out of date; record the progress with: python .ci/guardrails.py --update")
    lint_total = sum(now["lint"].values())  # type: ignore[arg-type]
    mypy_total = sum(now["mypy"].values())  # type: ignore[arg-type]
    print(f"guardrails: {len(now['format'])} unformatted files, {lint_total} lint and {mypy_total} type findings left")
    if grown or shrunk:  # a different tool version finds different things: say which ran
        tools = [importlib.metadata.version(name) for name in ("ruff", "mypy")]
        print(f"guardrails ran ruff {tools[0]} and mypy {tools[1]} on Python {sys.version.split()[0]}")
    return 1 if grown or shrunk else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
