"""The offline analyst scored on a hand-labelled sample of real logs (``tests/data/offline_quality/``).

Each folder is distilled with the offline analyst; its items are matched against ``expected.yaml``:
every expected lesson the offline analyst can draw (``offline: true``) is found, no noise pattern
matches any item, and precision (items that match an expected lesson) and recall (expected lessons
found, the ``offline: false`` ones included) are printed and kept above a floor.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from tests.cli_runner import run as run_cli
from tests.conftest import REPO

SAMPLE = REPO / "tests" / "data" / "offline_quality"
EXPECTED = yaml.safe_load((SAMPLE / "expected.yaml").read_text(encoding="utf-8"))
MIN_PRECISION = 0.75
"""Below this share of items that match a lesson a careful reader would draw, the test fails."""


def _items(folder: str, tmp_path: Path) -> list[str]:
    """The items (a bullet with its indented lines) of the SKILL.md the offline distill of ``folder`` stores."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SKILLFORGE_")}
    store = str(tmp_path / "skills")
    done = run_cli(
        "distill", str(SAMPLE / folder), "--store", store, "--skill", "quality", "--quiet", cwd=tmp_path, env=unset
    )
    if done.returncode == 3 and "nothing stored" in done.stderr:
        return []
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "skills" / "quality" / "SKILL.md").read_text(encoding="utf-8").splitlines()
    items = []
    for index, line in enumerate(lines):
        if line.startswith("- **"):
            body = [line]
            for following in lines[index + 1 :]:
                if not following.startswith("   "):
                    break
                body.append(following)
            items.append("\n".join(body))
    return items


def _matches(entry: dict, item: str) -> bool:
    return all(re.search(pattern, item, re.IGNORECASE) for pattern in entry["patterns"])


def score(folder: str, items: list[str]) -> dict:
    """Per folder: items, items matching an expected lesson, expected lessons (all and offline) found."""
    expected = EXPECTED[folder]["expected"]
    found = [e for e in expected if "patterns" in e and any(_matches(e, item) for item in items)]
    useful = [item for item in items if any("patterns" in e and _matches(e, item) for e in expected)]
    return {
        "items": len(items),
        "useful": len(useful),
        "expected": len(expected),
        "found": len(found),
        "offline": sum(1 for e in expected if e["offline"]),
        "found_offline": sum(1 for e in found if e["offline"]),
    }


@pytest.fixture(scope="module")
def distilled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Folder → the items of its offline distill (each folder distilled once for the module)."""
    return {folder: _items(folder, tmp_path_factory.mktemp(folder)) for folder in sorted(EXPECTED)}


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_expected_lessons_found_and_no_noise(folder: str, distilled: dict[str, list[str]]) -> None:
    items = distilled[folder]
    for entry in EXPECTED[folder]["expected"]:
        if entry["offline"]:
            assert any(_matches(entry, item) for item in items), (
                f"{folder}: expected lesson {entry['id']!r} not found in {items}"
            )
    for pattern in EXPECTED[folder]["noise"]:
        noisy = [item for item in items if re.search(pattern, item, re.IGNORECASE)]
        assert not noisy, f"{folder}: noise {pattern!r} became an item: {noisy}"


def test_precision_and_recall_on_the_sample(distilled: dict[str, list[str]]) -> None:
    totals = {"items": 0, "useful": 0, "expected": 0, "found": 0, "offline": 0, "found_offline": 0}
    for folder in sorted(EXPECTED):
        result = score(folder, distilled[folder])
        print(f"\n{folder}: {result}")
        for key in totals:
            totals[key] += result[key]
    precision = totals["useful"] / totals["items"]
    print(
        f"\nprecision {totals['useful']}/{totals['items']} = {precision:.2f}; "
        f"recall {totals['found']}/{totals['expected']} = {totals['found'] / totals['expected']:.2f} "
        f"(of what the offline analyst can draw: {totals['found_offline']}/{totals['offline']})"
    )
    assert precision >= MIN_PRECISION
    assert totals["found_offline"] == totals["offline"]
