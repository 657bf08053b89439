"""The evidence table stays out of always-loaded files: what :func:`without_evidence` removes and keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from skillforge.export.evidence import evidence_pointer, without_evidence
from skillforge.export.source import SkillFile, SkillSource
from skillforge.skill.evidence_table import EVIDENCE_TABLE_HEADER

TABLE = f"{EVIDENCE_TABLE_HEADER}\n|---|---|---|---|\n| Ask first | failure | 3 | `s1`: 4 |\n"


def _skill(body: str, *, reference: bytes | None = None, version: int | None = 3) -> SkillSource:
    files = [SkillFile("SKILL.md", b"---\nname: demo\n---\n" + body.encode())]
    if reference is not None:
        files.append(SkillFile("references/evidence.md", reference))
    files.append(SkillFile("references/api.md", b"# API\n"))
    return SkillSource("demo", version, datetime(2026, 1, 1, tzinfo=UTC), files, {"name": "demo"}, body)


def test_the_generated_section_and_reference_give_way_to_one_line() -> None:
    body = (
        f"# Demo\n\n## Steps\n\n- do it\n\n## Evidence\n\n{TABLE}\n"
        "The full table is in [references/evidence.md](references/evidence.md).\n"
    )
    skill = _skill(body, reference=b"# Evidence: all items\n\n" + TABLE.encode())
    slim = without_evidence(skill)
    assert slim.body == f"# Demo\n\n## Steps\n\n- do it\n\n## Evidence\n\n{evidence_pointer(skill)}\n"
    assert "`skillforge blame demo@v3`" in evidence_pointer(skill) and "\n" not in evidence_pointer(skill)
    assert [f.path for f in slim.files] == ["SKILL.md", "references/api.md"]
    assert skill.body == body and len(skill.files) == 3  # the input is not changed


def test_a_section_after_the_table_and_a_fenced_heading_are_kept() -> None:
    body = (
        f"# Demo\n\n```md\n## Evidence\n{EVIDENCE_TABLE_HEADER}\n```\n\n## Evidence\n\n{TABLE}\n"
        "### Notes\n\npart of the section\n\n## After\n\nkept\n"
    )
    slim = without_evidence(_skill(body, version=None))
    assert slim.body.startswith(f"# Demo\n\n```md\n## Evidence\n{EVIDENCE_TABLE_HEADER}\n```\n\n## Evidence\n\n")
    assert slim.body.endswith("`skillforge blame demo` shows them.\n\n## After\n\nkept\n")
    assert "| Ask first |" not in slim.body


def test_a_section_a_person_wrote_is_left_alone() -> None:
    body = "# Demo\n\n## Evidence\n\nWe checked this on 40 runs in March.\n"
    skill = _skill(body, reference=b"# Evidence by hand\n")
    assert without_evidence(skill) is skill
