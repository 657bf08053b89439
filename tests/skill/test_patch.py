"""Applying patches in code: the eight operations, exact targets, and the rules the applier enforces."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from skillforge.patch import Edit, Patch, concatenate, patch_schema
from skillforge.skill.apply import apply_patch
from skillforge.skill.document import SkillDoc
from skillforge.skill.link_files import link_created_files
from skillforge.skill.validate import validate_skill

SKILL = """---
name: demo
description: A demo skill.
---
# Demo

Intro line.

## Pitfalls

- first pitfall

### Sub

sub text

## Procedure

1. step one

```bash
## not a heading
```
"""


def _doc(tmp_path: Path, text: str = SKILL, extra: dict[str, str] | None = None) -> tuple[SkillDoc, Path]:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text(text, encoding="utf-8", newline="")
    for name, content in (extra or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")
    return SkillDoc.load(folder), folder


def _apply(doc: SkillDoc, *edits: Edit):
    return apply_patch(doc, Patch(edits=list(edits)))


def test_append_to_section_goes_before_sub_sections_and_keeps_lists_tight(tmp_path: Path) -> None:
    doc, _ = _doc(tmp_path)
    [result] = _apply(
        doc, Edit("SKILL.md", "append_to_section", ["L-1"], target_section="## Pitfalls", content="- second pitfall")
    )
    assert result.status == "applied"
    text = doc.text("SKILL.md")
    assert "- first pitfall\n- second pitfall\n\n### Sub" in text
    line = next(line for line in doc.files["SKILL.md"] if line.bare == "- second pitfall")
    assert line.lesson_ids == ("L-1",) and line.origin == "edit"


def test_insert_replace_add_delete(tmp_path: Path) -> None:
    doc, folder = _doc(tmp_path)
    results = _apply(
        doc,
        Edit("SKILL.md", "insert_after", ["L-1"], target_text="1. step one", content="2. step two"),
        Edit("SKILL.md", "insert_before", ["L-2"], target_text="Intro line.", content="Read this first."),
        Edit(
            "SKILL.md",
            "replace_in_section",
            ["L-3"],
            target_section="### Sub",
            old_text="sub text",
            content="better sub text",
        ),
        Edit("SKILL.md", "add_section", ["L-4"], after_section="## Pitfalls", content="## Tools\n\n- use the tools"),
        Edit("SKILL.md", "delete_section", ["L-5"], target_section="### Sub"),
    )
    assert [r.status for r in results] == ["applied"] * 5, [r.reason for r in results]
    text = doc.text("SKILL.md")
    assert "1. step one\n2. step two\n" in text
    assert "Read this first.\n\nIntro line." in text
    assert "sub text" not in text and "### Sub" not in text
    assert text.index("## Pitfalls") < text.index("## Tools") < text.index("## Procedure")
    doc.write(folder)
    assert validate_skill(folder).ok
    [removed] = _apply(doc, Edit("SKILL.md", "replace_in_section", ["L-6"], old_text="Read this first.", content=""))
    assert removed.status == "applied" and "# Demo\n\nIntro line.\n" in doc.text("SKILL.md")


def test_headings_in_code_fences_and_frontmatter_are_not_sections(tmp_path: Path) -> None:
    doc, _ = _doc(tmp_path)
    assert [h.line for h in doc.headings("SKILL.md")] == ["# Demo", "## Pitfalls", "### Sub", "## Procedure"]
    [result] = _apply(
        doc, Edit("SKILL.md", "append_to_section", ["L-1"], target_section="## not a heading", content="x")
    )
    assert result.status == "unmatched" and "not found" in result.reason


def test_inexact_and_ambiguous_targets_are_unmatched_not_dropped(tmp_path: Path) -> None:
    doc, _ = _doc(tmp_path)
    before = doc.text("SKILL.md")
    results = _apply(
        doc,
        Edit("SKILL.md", "append_to_section", ["L-1"], target_section="## pitfalls", content="- x"),
        Edit("SKILL.md", "insert_after", ["L-2"], target_text="first  pitfall", content="- y"),
        Edit("SKILL.md", "replace_in_section", ["L-3"], old_text="o", content="0"),
    )
    assert [r.status for r in results] == ["unmatched"] * 3
    assert "times" in results[2].reason and "once" in results[2].reason
    assert doc.text("SKILL.md") == before


def test_rules_frontmatter_paths_placeholders(tmp_path: Path) -> None:
    doc, _ = _doc(tmp_path)
    before = doc.text("SKILL.md")
    results = _apply(
        doc,
        Edit("SKILL.md", "replace_in_section", ["L-1"], old_text="name: demo", content="name: other"),
        Edit("../outside.md", "create_file", ["L-2"], content="# x\n\ny"),
        Edit("/etc/passwd", "delete_file", ["L-3"]),
        Edit("SKILL.md", "add_section", ["L-4"], content="## New Section\n\ntext"),
        Edit("SKILL.md", "add_section", ["L-5"], content="no heading here"),
        Edit("SKILL.md", "delete_section", ["L-6"], target_section="# Demo"),
        Edit("SKILL.md", "delete_file", ["L-7"]),
        Edit("SKILL.md", "append_to_section", ["L-8"], target_section="## Pitfalls"),
        Edit("CHANGELOG.md", "create_file", ["L-9"], content="# Changes\n\n- x"),
    )
    assert [r.status for r in results] == ["rejected"] * 9, [r.reason for r in results]
    assert "frontmatter" in results[0].reason
    assert "placeholder" in results[3].reason
    assert doc.text("SKILL.md") == before


def test_add_section_that_exists_appends_instead(tmp_path: Path) -> None:
    doc, _ = _doc(tmp_path)
    [result] = _apply(doc, Edit("SKILL.md", "add_section", ["L-1"], content="## Procedure\n\n2. step two"))
    assert result.status == "applied" and "appended" in result.notes[0]
    assert doc.text("SKILL.md").count("## Procedure") == 1


def test_create_file_without_link_gets_a_link(tmp_path: Path) -> None:
    doc, folder = _doc(tmp_path)
    results = _apply(
        doc, Edit("references/tool-errors.md", "create_file", ["L-1"], content="# Tool errors\n\n- read the error")
    )
    notes = link_created_files(doc, results)
    assert notes and "link was added" in notes[0]
    text = doc.text("SKILL.md")
    assert "## References\n\n- [Tool errors](references/tool-errors.md)\n" in text
    link_line = next(line for line in doc.files["SKILL.md"] if "tool-errors.md" in line.text)
    assert link_line.lesson_ids == ("L-1",)
    doc.write(folder)
    assert validate_skill(folder).ok


def test_create_file_with_a_link_is_left_alone_and_delete_file_removes_links(tmp_path: Path) -> None:
    doc, _ = _doc(tmp_path)
    results = _apply(
        doc,
        Edit("references/a.md", "create_file", ["L-1"], content="# A\n\ntext"),
        Edit(
            "SKILL.md", "append_to_section", ["L-1"], target_section="## Pitfalls", content="- see [A](references/a.md)"
        ),
    )
    assert link_created_files(doc, results) == []
    [deleted] = _apply(doc, Edit("references/a.md", "delete_file", ["L-2"]))
    assert deleted.status == "applied" and "removed the link" in deleted.notes[0]
    assert "references/a.md" not in doc.text("SKILL.md") and "references/a.md" not in doc.files


def test_untouched_lines_keep_their_bytes_crlf_and_no_final_newline(tmp_path: Path) -> None:
    text = SKILL.replace("\n", "\r\n").rstrip("\r\n") + "\r\n\r\n## Last\r\n\r\nno newline at end  "
    doc, folder = _doc(tmp_path, text)
    _apply(doc, Edit("SKILL.md", "append_to_section", ["L-1"], target_section="## Pitfalls", content="- new"))
    out = doc.text("SKILL.md")
    assert out.endswith("no newline at end  ")
    assert "- first pitfall\r\n- new\r\n" in out
    assert out.replace("- new\r\n", "", 1) == text


def test_patch_schema_and_concatenate() -> None:
    patch = Patch.from_dict(
        {
            "reasoning": "r",
            "edits": [{"file": "SKILL.md", "op": "delete_section", "target_section": "## X", "lesson_ids": ["a"]}],
        }
    )
    assert patch.edits[0].op == "delete_section" and patch.lesson_ids == ["a"]
    with pytest.raises(jsonschema.ValidationError):
        Patch.from_dict({"reasoning": "r", "edits": [{"file": "SKILL.md", "op": "rewrite", "lesson_ids": []}]})
    narrowed = jsonschema.Draft202012Validator(patch_schema(["a", "b"]))
    assert narrowed.is_valid(patch.to_dict())
    assert not narrowed.is_valid({**patch.to_dict(), "edits": [{**patch.edits[0].to_dict(), "lesson_ids": ["zzz"]}]})
    assert not narrowed.is_valid({**patch.to_dict(), "edits": [{**patch.edits[0].to_dict(), "lesson_ids": []}]})
    twin = Patch.from_dict({**patch.to_dict(), "edits": [{**patch.edits[0].to_dict(), "lesson_ids": ["b"]}]})
    joined = concatenate([patch, twin], "joined")
    assert len(joined.edits) == 1 and joined.edits[0].lesson_ids == ["a", "b"]


def test_operation_names_have_one_source() -> None:
    """The schema's enum, the required-fields table and the applier's table all list exactly OPS."""
    from skillforge.patch import OPS, REQUIRED_FIELDS
    from skillforge.resources import load_schema
    from skillforge.skill.apply import _OPERATIONS

    schema = load_schema("patch")
    enum = schema["properties"]["edits"]["items"]["properties"]["op"]["enum"]
    assert len(OPS) == 8
    assert tuple(enum) == OPS and tuple(REQUIRED_FIELDS) == OPS and tuple(_OPERATIONS) == OPS
