"""Apply a :class:`~skillforge.patch.Patch` to a skill folder in plain code (no LLM).

Operation semantics follow Trace2Skill's programmatic applier (``run_apply_phase_programmatic``,
Qwen-Applications/Trace2Skill) with the guards its released skills showed were missing (DESIGN §2):

* targets match **exactly** (a section by its heading line, text by an exact substring that occurs
  once); an edit whose target is not found is returned as ``unmatched`` with the reason, never
  silently skipped (the caller may ask the model to translate it, then it is reported);
* a section runs from its header to the next header of the same or higher level;
  ``append_to_section`` adds to the section's own text, before its first sub-section;
* ``add_section`` needs a real heading (no ``## New Section`` placeholders);
* the YAML frontmatter is never edited by a patch, so the skill's ``name`` never changes;
* paths must stay inside the skill folder (no ``..``, absolute or hidden paths), and new files go
  under ``references/``, ``scripts/`` or ``assets/``;
* a ``create_file`` of ``references/x.md`` must come with a link from SKILL.md: when the patch has
  none, :func:`link_created_files` adds one (Trace2Skill's ``_enforce_create_pairing`` drops the
  unpaired file instead; adding the link keeps the lessons);
* ``delete_file`` removes list lines of SKILL.md that only link to the deleted file.

Blank lines are added around inserted blocks where markdown needs them (between paragraphs,
around headings) and not between items of the same list or table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from skillforge.patch import Edit, Patch
from skillforge.skill.document import SKILL_MD, Line, SkillDoc, safe_relative_path
from skillforge.skill.locate import EditRefused, TargetMissing, edit_region, find_once, find_section, find_text, locate

Status = Literal["applied", "unmatched", "rejected"]

PLACEHOLDER_TITLES = ("new section", "todo", "tbd", "section", "untitled")
"""Heading titles ``add_section`` refuses (the ``## New Section`` stubs of Trace2Skill's released skills)."""

CREATABLE_FOLDERS = ("references", "scripts", "assets")
"""Where ``create_file`` may add files (Agent Skills folders; Trace2Skill's ``apply_constraints.txt``:
"Do not add README.md, CHANGELOG.md, or auxiliary documentation files")."""

_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)")


@dataclass
class EditResult:
    """What happened to one edit.

    Attributes:
        index: position of the edit in its patch.
        edit: the edit (after translation, when it was translated).
        status: ``applied``; ``unmatched`` (its target was not found exactly); ``rejected`` (it
            breaks a rule: unsafe path, frontmatter, placeholder heading, missing fields…).
        reason: why it was not applied ('' when applied).
        notes: what code did besides the edit (a link added, a duplicate heading merged…).
    """

    index: int
    edit: Edit
    status: Status
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "index": self.index,
            "status": self.status,
            "reason": self.reason,
            "notes": self.notes,
            "edit": self.edit.to_dict(),
        }


def apply_patch(
    doc: SkillDoc, patch: Patch, *, origin: str = "edit", indexes: list[int] | None = None
) -> list[EditResult]:
    """Apply the edits of ``patch`` to ``doc`` in order, in place.

    Args:
        doc: the skill (modified in place).
        patch: the edits.
        origin: recorded on the lines the edits write (``edit`` or ``fix``).
        indexes: the index to report for each edit (default: its position in ``patch``).

    Returns:
        One :class:`EditResult` per edit. An edit either applies whole or changes nothing.
    """
    results = []
    for position, edit in enumerate(patch.edits):
        result = EditResult(indexes[position] if indexes else position, edit, "applied")
        try:
            result.notes.extend(apply_edit(doc, edit, origin=origin))
        except TargetMissing as miss:
            result.status, result.reason = "unmatched", str(miss)
        except EditRefused as refusal:
            result.status, result.reason = "rejected", str(refusal)
        results.append(result)
    return results


def apply_edit(doc: SkillDoc, edit: Edit, *, origin: str = "edit") -> list[str]:
    """Apply one edit to ``doc`` in place; return notes on what code added around it.

    Raises:
        TargetMissing: the target is not found exactly (module-private; :func:`apply_patch` reports it).
        EditRefused: the edit breaks a rule.
    """
    file = safe_relative_path(edit.file)
    if file is None:
        raise EditRefused(f"unsafe path {edit.file!r} (must be relative, inside the skill folder)")
    if edit.op not in _OPERATIONS:
        raise EditRefused(f"unknown operation {edit.op!r}")
    missing = edit.missing_fields()
    if missing:
        raise EditRefused(f"{edit.op} needs {', '.join(missing)}")
    if edit.op not in ("create_file",) and file not in doc.files:
        if file in doc.binary:
            raise EditRefused(f"{file} is not a text file")
        raise TargetMissing(f"file {file} does not exist")
    tags = tuple(edit.lesson_ids)
    return _OPERATIONS[edit.op](doc, file, edit, tags, origin) or []


# --- operations ----------------------------------------------------------------------------------


def _insert_after(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    _, last = find_text(doc, file, edit.target_text or "", edit.target_section)
    _insert_block(doc, file, last + 1, _content_lines(doc, file, edit.content, tags, origin))


def _insert_before(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    first, _ = find_text(doc, file, edit.target_text or "", edit.target_section)
    _insert_block(doc, file, first, _content_lines(doc, file, edit.content, tags, origin))


def _append_to_section(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    heading = find_section(doc, file, edit.target_section or "")
    lines = doc.files[file]
    end = doc.own_body_end(file, heading)
    at = end
    while at - 1 > heading.index and not lines[at - 1].bare.strip():
        at -= 1
    _insert_block(doc, file, at, _content_lines(doc, file, edit.content, tags, origin))


def _replace_in_section(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    lines = doc.files[file]
    old = edit.old_text or ""
    start, end = edit_region(doc, file, edit.target_section)
    position = find_once(doc, file, start, end, old, edit.target_section)
    first, first_offset = locate(lines, start, position)
    last, last_offset = locate(lines, start, position + len(old) - 1)
    prefix = lines[first].text[:first_offset]
    suffix = lines[last].text[last_offset + 1 :]
    replaced = prefix + (edit.content or "") + suffix
    if not tags:  # a fix edit without lessons keeps the lessons of the text it rewrites
        tags = tuple(dict.fromkeys(i for line in lines[first : last + 1] for i in line.lesson_ids))
    new_lines = [Line(t, tags, origin) for t in replaced.splitlines(keepends=True)]
    if not (edit.content or "").strip() and not replaced.strip():
        new_lines = []  # the whole line(s) were deleted: leave no blank line behind
    if (
        new_lines
        and not suffix
        and lines[last].text.endswith(("\n", "\r"))
        and not new_lines[-1].text.endswith(("\n", "\r"))
    ):
        new_lines[-1].text += doc.newline(file)
    lines[first : last + 1] = new_lines
    if not new_lines and 0 < first < len(lines) and not lines[first - 1].bare.strip() and not lines[first].bare.strip():
        del lines[first]  # no double blank line where a paragraph was removed


def _add_section(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    body = _strip_blank_edges((edit.content or "").splitlines())
    heading_line = None
    if body and re.match(r"^#{1,6}\s+\S", body[0]):
        heading_line, body = body[0].rstrip(), _strip_blank_edges(body[1:])
    elif edit.target_section and edit.target_section.strip():
        target = edit.target_section.strip()
        heading_line = target if target.startswith("#") else f"## {target}"
    if heading_line is None:
        raise EditRefused(
            "add_section needs a heading (in content or target_section); placeholder sections are not added"
        )
    title = re.sub(r"^#+\s*", "", heading_line).strip().strip("#").strip()
    if title.lower() in PLACEHOLDER_TITLES:
        raise EditRefused(f"placeholder heading {heading_line!r}")
    if not body:
        raise EditRefused(f"add_section {heading_line!r} has no content (empty sections are not added)")
    existing = doc.find_headings(file, heading_line)
    if existing:
        # the section exists already: add the text to it instead of a second heading
        merged = Edit(
            file=file,
            op="append_to_section",
            lesson_ids=list(tags),
            target_section=heading_line,
            content="\n".join(body),
        )
        _append_to_section(doc, file, merged, tags, origin)
        return [f"section {heading_line!r} exists; content appended to it"]
    lines = doc.files[file]
    if edit.after_section:
        anchor = find_section(doc, file, edit.after_section)
        at = doc.section_end(file, anchor)
        while at - 1 > anchor.index and not lines[at - 1].bare.strip():
            at -= 1
    else:
        at = len(lines)
        while at > doc.body_start(file) and not lines[at - 1].bare.strip():
            at -= 1
    newline = doc.newline(file)
    block = [Line(heading_line + newline, tags, origin), Line(newline, tags, origin)] + [
        Line(t + newline, tags, origin) for t in body
    ]
    _insert_block(doc, file, at, block)


def _delete_section(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    heading = find_section(doc, file, edit.target_section or "")
    if file == SKILL_MD and heading.level == 1:
        raise EditRefused(f"deleting the top-level section {heading.line!r} would empty SKILL.md")
    lines = doc.files[file]
    end = doc.section_end(file, heading)
    del lines[heading.index : end]
    # keep one blank line between what came before and what follows
    if (
        heading.index > 0
        and heading.index < len(lines)
        and not lines[heading.index - 1].bare.strip()
        and not lines[heading.index].bare.strip()
    ):
        del lines[heading.index]


def _create_file(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    if file == SKILL_MD:
        raise EditRefused("SKILL.md cannot be created by a patch")
    if file.split("/", 1)[0] not in CREATABLE_FOLDERS or "/" not in file:
        raise EditRefused(
            f"{file}: new files go under {', '.join(f'{d}/' for d in CREATABLE_FOLDERS)} (no README, CHANGELOG or other top-level files)"
        )
    if file in doc.files or file in doc.binary:
        raise EditRefused(f"{file} exists already (edit it instead of creating it)")
    newline = "\n"
    body = _strip_blank_edges((edit.content or "").splitlines())
    doc.files[file] = [Line(t + newline, tags, origin) for t in body]


def _delete_file(doc: SkillDoc, file: str, edit: Edit, tags, origin):
    if file == SKILL_MD:
        raise EditRefused("SKILL.md cannot be deleted")
    del doc.files[file]
    notes = []
    lines = doc.files.get(SKILL_MD, [])
    for index in range(len(lines) - 1, doc.body_start(SKILL_MD) - 1, -1):
        targets = [link_path(m.group(1)) for m in MARKDOWN_LINK.finditer(lines[index].bare)]
        if file in targets and _LIST_ITEM.match(lines[index].bare):
            notes.append(f"removed the link to {file} from SKILL.md line {index + 1}")
            del lines[index]
    return notes


_OPERATIONS = {
    "insert_after": _insert_after,
    "insert_before": _insert_before,
    "append_to_section": _append_to_section,
    "replace_in_section": _replace_in_section,
    "add_section": _add_section,
    "delete_section": _delete_section,
    "create_file": _create_file,
    "delete_file": _delete_file,
}


# --- create/link pairing ---------------------------------------------------------------------------


def link_path(target: str) -> str:
    """The skill-relative path a Markdown link target points to (URL-decoded, anchor stripped); ``""``
    for a URL or a path that leaves the skill folder."""
    return (
        (safe_relative_path(unquote(target.split("#", 1)[0])) or "")
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)
        else ""
    )


# --- inserting blocks ------------------------------------------------------------------------------


def _content_lines(doc: SkillDoc, file: str, content: str | None, tags, origin) -> list[Line]:
    newline = doc.newline(file)
    return [Line(t + newline, tags, origin) for t in _strip_blank_edges((content or "").splitlines())]


def _strip_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _kind(text: str) -> str:
    bare = text.rstrip("\r\n")
    if not bare.strip():
        return "blank"
    if bare.lstrip().startswith("|"):
        return "table"
    if _LIST_ITEM.match(bare) or (bare[:1] in (" ", "\t")):
        return "list"
    if bare.lstrip().startswith("#"):
        return "heading"
    return "text"


def _insert_block(doc: SkillDoc, file: str, at: int, block: list[Line]) -> None:
    """Insert ``block`` before line ``at``, adding blank separator lines where markdown needs them."""
    if not block:
        return
    lines = doc.files[file]
    newline = doc.newline(file)
    body_start = doc.body_start(file)
    before = lines[at - 1] if at - 1 >= body_start and at - 1 < len(lines) else None
    after = lines[at] if at < len(lines) else None
    if before is not None and not before.text.endswith(("\n", "\r")):
        before.text += newline  # the last line had no line ending
    out = list(block)
    if before is not None and _needs_blank(before.text, block[0].text):
        out.insert(0, Line(newline, (), "code"))
    if after is not None and _needs_blank(block[-1].text, after.text):
        out.append(Line(newline, (), "code"))
    lines[at:at] = out


def _needs_blank(upper: str, lower: str) -> bool:
    a, b = _kind(upper), _kind(lower)
    if "blank" in (a, b):
        return False
    return not (a == b and a in ("list", "table"))
