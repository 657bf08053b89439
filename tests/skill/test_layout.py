"""Layout rules in code: size limits by moving sections, reference splitting, evidence, version line."""

from __future__ import annotations

from pathlib import Path

from skillforge.lesson import Evidence, Lesson
from skillforge.skill.document import Line, SkillDoc
from skillforge.skill.evidence_table import EVIDENCE_REFERENCE, remove_evidence, write_evidence
from skillforge.skill.layout import enforce_limits, set_metadata_version
from skillforge.skill.rules import MAX_REFERENCE_LINES, MAX_SKILL_LINES
from skillforge.skill.validate import validate_skill

FRONTMATTER = '---\nname: big\n# a comment a person wrote\ndescription: "A big skill."\nlicense: MIT\n---\n'


def _lesson(number: int) -> Lesson:
    return Lesson(
        id=f"L-{number}",
        kind="failure",
        title=f"Pitfall {number}",
        when="w",
        guidance="g",
        evidence=[Evidence(f"s{number}", [1], "q"), Evidence(f"s{number + 1}", [2], "q")],
    )


def _big_skill(tmp_path: Path) -> tuple[SkillDoc, Path, dict[str, Lesson]]:
    folder = tmp_path / "big"
    folder.mkdir()
    body = (
        "# Big\n\nIntro.\n\n## When to use\n\nAlways.\n\n## Notes\n\n"
        + "".join(f"- note {i}\n" for i in range(120))
        + "\n## Pitfalls\n\n"
    )
    (folder / "SKILL.md").write_text(FRONTMATTER + body, encoding="utf-8")
    doc = SkillDoc.load(folder)
    lessons = {}
    for i in range(450):
        lesson = _lesson(i)
        lessons[lesson.id] = lesson
        doc.files["SKILL.md"].append(Line(f"- pitfall {i}\n", (lesson.id,), "edit"))
    doc.files["SKILL.md"] += [Line("\n"), Line("## Tail\n"), Line("\n"), Line("Short tail.\n")]
    return doc, folder, lessons


def test_enforce_limits_moves_sections_and_provenance_follows(tmp_path: Path) -> None:
    doc, folder, lessons = _big_skill(tmp_path)
    notes = enforce_limits(doc)
    assert any("moved section '## Pitfalls'" in n for n in notes), notes
    assert len(doc.files["SKILL.md"]) <= MAX_SKILL_LINES
    parts = sorted(name for name in doc.files if name.startswith("references/pitfalls"))
    assert len(parts) == 5  # 450 items in parts of at most 90 lines
    assert all(len(doc.files[name]) <= 100 for name in parts)
    text = doc.text("SKILL.md")
    assert all(f"({name})" in text for name in parts)
    assert "## When to use\n\nAlways." in text and "## Tail\n\nShort tail.\n" in text
    spans = doc.spans(lessons)
    moved = {i for s in spans if s.file.startswith("references/") for i in s.lesson_ids}
    assert moved == set(lessons)
    for span in spans:  # every span points at the line holding its item
        number = span.lesson_ids[0].split("-")[1]
        assert doc.files[span.file][span.start - 1].bare == f"- pitfall {number}"
    doc.write(folder)
    report = validate_skill(folder)
    assert report.ok, [str(v) for v in report.violations]


def test_long_reference_is_split_and_gets_a_table_of_contents(tmp_path: Path) -> None:
    folder = tmp_path / "refs"
    (folder / "references").mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        FRONTMATTER.replace("big", "refs") + "# Refs\n\nSee [the guide](references/guide.md).\n", encoding="utf-8"
    )
    guide = "# Guide\n\n" + "".join(
        f"## Topic {t}\n\n" + "".join(f"- item {t}.{i}\n" for i in range(60)) + "\n" for t in range(6)
    )
    (folder / "references" / "guide.md").write_text(guide, encoding="utf-8")
    doc = SkillDoc.load(folder)
    notes = enforce_limits(doc)
    assert any("split references/guide.md" in n for n in notes)
    names = sorted(n for n in doc.files if n.startswith("references/"))
    assert len(names) == 2 and all(len(doc.files[n]) <= MAX_REFERENCE_LINES for n in names)
    assert "## Contents" in doc.text("references/guide.md")
    doc.write(folder)
    report = validate_skill(folder)
    assert report.ok, [str(v) for v in report.violations]


def test_metadata_version_edits_only_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "SKILL.md").write_text(FRONTMATTER + "# Big\n\nText.\n", encoding="utf-8")
    doc = SkillDoc.load(folder)
    set_metadata_version(doc, 3)
    assert (
        doc.text("SKILL.md")
        == FRONTMATTER.replace("---\n# Big", "").replace("license: MIT\n", "license: MIT\nmetadata:\n  version: '3'\n")
        + "# Big\n\nText.\n"
    )
    set_metadata_version(doc, 4)
    assert "  version: '4'\n" in doc.text("SKILL.md") and "'3'" not in doc.text("SKILL.md")
    assert "# a comment a person wrote" in doc.text("SKILL.md")


def test_evidence_is_regenerated_not_accumulated(tmp_path: Path) -> None:
    doc, folder, lessons = _big_skill(tmp_path)
    assert write_evidence(doc, lessons) == 450
    first = doc.text("SKILL.md")
    assert first.count("## Evidence") == 1 and EVIDENCE_REFERENCE in doc.files
    assert "| Pitfall" not in first  # labels come from the lines: "pitfall N"
    write_evidence(doc, lessons)
    assert doc.text("SKILL.md") == first
    assert remove_evidence(doc) and "## Evidence" not in doc.text("SKILL.md") and EVIDENCE_REFERENCE not in doc.files
