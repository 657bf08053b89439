"""Links from SKILL.md to the files a patch created (a file nobody links to is never loaded).

After a patch is applied, :func:`link_created_files` adds a ``## References`` line for every file a
``create_file`` edit added that SKILL.md does not link to yet, or takes the file out again when the
link cannot be added (Agent Skills spec: references are reached through links from SKILL.md).
"""

from __future__ import annotations

from skillforge.patch import Edit
from skillforge.skill.apply import MARKDOWN_LINK, EditResult, apply_edit, link_path
from skillforge.skill.document import SKILL_MD, SkillDoc, safe_relative_path
from skillforge.skill.locate import EditRefused, TargetMissing

REFERENCES_HEADING = "## References"


def link_created_files(doc: SkillDoc, results: list[EditResult]) -> list[str]:
    """Make sure every file a ``create_file`` edit added is linked from SKILL.md.

    For each applied ``create_file`` whose file no SKILL.md line links to, a list line
    ``- [<its first heading>](references/x.md)`` is added to the ``## References`` section (created
    at the end of SKILL.md when missing), carrying the create edit's lesson ids. When even that
    fails (two ``## References`` sections), the file is removed again and its result turns
    ``rejected``: no file is left unlinked.

    Returns:
        Notes, one per link added or file rejected (also on the create edit's result).
    """
    notes = []
    for result in results:
        if result.status != "applied" or result.edit.op != "create_file":
            continue
        file = safe_relative_path(result.edit.file)
        if file is None or file not in doc.files or file in linked_files(doc):
            continue
        title = first_heading_title(doc, file) or file
        link = Edit(
            file=SKILL_MD,
            op="append_to_section",
            lesson_ids=result.edit.lesson_ids,
            target_section=REFERENCES_HEADING,
            content=f"- [{title}]({file})",
        )
        if not doc.find_headings(SKILL_MD, REFERENCES_HEADING):
            link = Edit(
                file=SKILL_MD,
                op="add_section",
                lesson_ids=result.edit.lesson_ids,
                content=f"{REFERENCES_HEADING}\n\n{link.content}",
            )
        try:
            apply_edit(doc, link, origin="code")
        except (TargetMissing, EditRefused) as problem:  # e.g. two "## References" sections: undo the create
            del doc.files[file]
            result.status, result.reason = (
                "rejected",
                f"created without a link from SKILL.md, and the link could not be added: {problem}",
            )
            notes.append(f"{file}: {result.reason}")
            continue
        note = f"{file} was created without a link from SKILL.md; the link was added under {REFERENCES_HEADING}"
        result.notes.append(note)
        notes.append(note)
    return notes


def linked_files(doc: SkillDoc) -> set[str]:
    """Relative paths SKILL.md links to (URL-decoded, anchors stripped)."""
    found = set()
    for line in doc.files.get(SKILL_MD, []):
        for match in MARKDOWN_LINK.finditer(line.bare):
            found.add(link_path(match.group(1)))
    return found


def first_heading_title(doc: SkillDoc, file: str) -> str | None:
    """The title of the first heading of ``file``, or None when it has none."""
    headings = doc.headings(file)
    return headings[0].title if headings else None
