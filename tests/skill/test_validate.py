"""The validator: each rule reports file and line; a good skill passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.skill.validate import validate_skill

GOOD = """---
name: my-skill
description: Helps with things. Use when things happen.
metadata:
  version: "1"
---
# My skill

## When to use

When things happen.

## Details

See [the reference](references/more.md).
"""


def _skill(tmp_path: Path, text: str, name: str = "my-skill", files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "SKILL.md").write_text(text)
    for relative, content in (files or {"references/more.md": "# More\n\nText.\n"}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)
    return folder


def _rules(folder: Path) -> list[tuple[str, int | None, str]]:
    return [(v.file, v.line, v.rule) for v in validate_skill(folder).violations]


def test_good_skill_passes(tmp_path: Path) -> None:
    report = validate_skill(_skill(tmp_path, GOOD))
    assert report.ok and report.violations == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("name: my-skill", "name: My_Skill"), ("SKILL.md", 2, "frontmatter.name")),
        (("name: my-skill", "name: other-skill"), ("SKILL.md", 2, "frontmatter.name-folder")),
        (("name: my-skill\n", "name: my-skill\nversion: 2\n"), ("SKILL.md", 3, "frontmatter.keys")),
        (("Helps with things.", "Helps with <b>things</b>."), ("SKILL.md", 3, "frontmatter.description")),
        (('version: "1"', "version: 1"), ("SKILL.md", 4, "frontmatter.metadata")),
        (("references/more.md", "references/missing.md"), ("SKILL.md", 15, "links.resolve")),
        (("When things happen.\n", ""), ("SKILL.md", 9, "structure.empty-section")),
        (("## Details", "## New Section"), ("SKILL.md", 13, "structure.placeholder-section")),
    ],
)
def test_each_rule_reports_file_and_line(tmp_path: Path, change: tuple[str, str], expected: tuple) -> None:
    folder = _skill(tmp_path, GOOD.replace(*change))
    assert expected in _rules(folder)
    assert not validate_skill(folder).ok


def test_reserved_word_and_missing_frontmatter(tmp_path: Path) -> None:
    folder = _skill(tmp_path, GOOD.replace("my-skill", "claude-helper"), name="claude-helper")
    assert ("SKILL.md", 2, "frontmatter.name-reserved") in _rules(folder)
    bare = _skill(tmp_path, "# no frontmatter\n\ntext\n", name="bare")
    assert ("SKILL.md", 1, "frontmatter.missing") in _rules(bare)


def test_size_limits_and_reference_rules(tmp_path: Path) -> None:
    long_body = GOOD + "\n".join(f"- line {i}" for i in range(520)) + "\n"
    long_reference = "# More\n\n" + "\n".join(f"- item {i}" for i in range(310)) + "\n"
    folder = _skill(tmp_path, long_body, files={"references/more.md": long_reference, "references/deep/x.md": "# x\n\ny\n"})
    rules = _rules(folder)
    assert ("SKILL.md", 501, "size.skill-lines") in rules
    assert ("references/more.md", 301, "size.reference-lines") in rules
    assert ("references/more.md", 1, "structure.reference-toc") in rules
    assert ("references/deep", None, "structure.references-depth") in rules


def test_links_inside_code_fences_are_ignored(tmp_path: Path) -> None:
    text = GOOD + "\n```\n[not a link](nowhere.md)\n```\n"
    assert validate_skill(_skill(tmp_path, text)).ok
