"""Layout rules enforced in code after a patch is applied (no LLM).

* **Size limits** (DESIGN §3; Agent Skills spec "keep SKILL.md under 500 lines", < 5000 tokens
  recommended; Trace2Skill's ``apply_constraints.txt``: references under 300 lines, a table of
  contents past 100): :func:`enforce_limits` moves the largest ``##`` sections of SKILL.md to
  ``references/<slug>.md`` (in parts of at most :data:`REFERENCE_PART_LINES` lines) and leaves a
  link; :func:`fit_references` splits over-long references and adds a table of contents.
  Lines keep their lesson ids when they move, so provenance follows them.
* **Evidence table**: generated from provenance, in :mod:`skillforge.skill.evidence_table`.
* **Seed sections** (:func:`prune_seed_sections`): a seed section no edit landed in is removed.
* **Version** (:func:`set_metadata_version`): ``metadata.version`` in the frontmatter, changed by
  editing only that line, so the rest of a person's frontmatter stays as written.
"""

from __future__ import annotations

import re

import yaml

from skillforge.skill.document import SKILL_MD, Heading, Line, SkillDoc
from skillforge.skill.rules import MAX_REFERENCE_LINES, MAX_SKILL_LINES, MAX_SKILL_TOKENS, TOC_AFTER_LINES
from skillforge.skill.validate import estimate_tokens

REFERENCE_PART_LINES = 90
"""Lines of a moved section per reference file (under the 100-line table-of-contents threshold)."""


MIN_MOVABLE_LINES = 4
"""Sections shorter than this are not worth moving to a reference."""


PROTECTED_SECTIONS = ("When to use", "References", "Evidence")
"""Section titles :func:`enforce_limits` never moves out of SKILL.md."""


_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")


def prune_seed_sections(doc: SkillDoc, headings: list[str]) -> list[str]:
    """Delete the seed sections (by heading line) in which no line was written by an edit.

    Returns:
        The headings removed.
    """
    removed = []
    for target in headings:
        found = doc.find_headings(SKILL_MD, target)
        if len(found) != 1:
            continue
        heading = found[0]
        lines = doc.files[SKILL_MD]
        end = doc.section_end(SKILL_MD, heading)
        if any(line.origin != "start" for line in lines[heading.index + 1 : end]):
            continue
        del lines[heading.index : end]
        if (
            heading.index > 0
            and (heading.index >= len(lines) or not lines[heading.index].bare.strip())
            and not lines[heading.index - 1].bare.strip()
        ):
            del lines[heading.index - 1]
        removed.append(target)
    return removed


def skill_too_big(doc: SkillDoc) -> bool:
    """True when SKILL.md is over :data:`MAX_SKILL_LINES` lines or about :data:`MAX_SKILL_TOKENS` tokens."""
    lines = doc.files.get(SKILL_MD, [])
    return len(lines) > MAX_SKILL_LINES or estimate_tokens(doc.text(SKILL_MD)) > MAX_SKILL_TOKENS


def enforce_limits(doc: SkillDoc) -> list[str]:
    """Move the largest ``##`` sections of SKILL.md to references until it fits, then fit the references.

    Sections titled as in :data:`PROTECTED_SECTIONS`, or shorter than :data:`MIN_MOVABLE_LINES`,
    stay. A moved section keeps its heading in SKILL.md with links to its reference part(s).

    Returns:
        Notes, one per section moved or reference changed.
    """
    notes = []
    while skill_too_big(doc):
        candidates = [h for h in doc.headings(SKILL_MD) if h.level == 2 and h.title not in PROTECTED_SECTIONS]
        sized = [(doc.section_end(SKILL_MD, h) - h.index, h) for h in candidates]
        sized = [(size, h) for size, h in sized if size >= MIN_MOVABLE_LINES and not _is_pointer(doc, h)]
        if not sized:
            notes.append("SKILL.md is still over the size limits and has no section left to move")
            break
        size, heading = max(sized, key=lambda item: (item[0], -item[1].index))
        files = _move_section(doc, heading)
        notes.append(
            f"moved section {heading.line!r} ({size} lines) to {', '.join(files)} to keep SKILL.md within its size limits"
        )
    notes += fit_references(doc)
    return notes


def _is_pointer(doc: SkillDoc, heading: Heading) -> bool:
    lines = doc.files[SKILL_MD][heading.index + 1 : doc.section_end(SKILL_MD, heading)]
    return all(line.origin == "code" or not line.bare.strip() for line in lines)


def _move_section(doc: SkillDoc, heading: Heading) -> list[str]:
    lines = doc.files[SKILL_MD]
    end = doc.section_end(SKILL_MD, heading)
    body = _trim(lines[heading.index + 1 : end])
    parts = split_blocks(body, REFERENCE_PART_LINES)
    slug = re.sub(r"[^a-z0-9]+", "-", heading.title.lower()).strip("-") or "section"
    names = []
    for number in range(1, len(parts) + 1):
        candidate = f"references/{slug}.md" if number == 1 else f"references/{slug}-{number}.md"
        suffix = 2
        while candidate in doc.files or candidate in doc.binary or candidate in names:
            candidate = f"references/{slug}-{number}-{suffix}.md" if number > 1 else f"references/{slug}-{suffix}.md"
            suffix += 1
        names.append(candidate)
    for number, (name, part) in enumerate(zip(names, parts), start=1):
        title = heading.title if len(parts) == 1 else f"{heading.title} (part {number} of {len(parts)})"
        for line in part:
            if not line.text.endswith(("\n", "\r")):
                line.text += "\n"
        doc.files[name] = [
            Line(f"# {title}\n", (), "code"),
            Line("\n", (), "code"),
            *[Line(line.text.replace("\r\n", "\n"), line.lesson_ids, line.origin) for line in part],
        ]
    newline = doc.newline(SKILL_MD)
    if len(names) == 1:
        pointer = [Line(f"Moved to [{names[0]}]({names[0]}) to keep this file short.{newline}", (), "code")]
    else:
        pointer = [
            Line(f"Moved to references to keep this file short:{newline}", (), "code"),
            Line(newline, (), "code"),
        ]
        pointer += [
            Line(f"- [{heading.title}, part {n}]({name}){newline}", (), "code") for n, name in enumerate(names, start=1)
        ]
    replacement = [Line(newline, (), "code"), *pointer]
    if end < len(lines):
        replacement.append(Line(newline, (), "code"))
    lines[heading.index + 1 : end] = replacement
    return names


def split_blocks(lines: list[Line], limit: int) -> list[list[Line]]:
    """Split ``lines`` into parts of at most ``limit`` lines, cutting before a blank line, a list item
    or a heading where possible (a longer run without such a point is cut hard)."""
    parts: list[list[Line]] = []
    current: list[Line] = []
    block: list[Line] = []

    def flush_block() -> None:
        nonlocal current, block
        if len(current) + len(block) > limit and current:
            parts.append(_trim(current))
            current = []
        while len(block) > limit:
            parts.append(block[:limit])
            block = block[limit:]
        current += block
        block = []

    for line in lines:
        bare = line.bare
        if block and (not bare.strip() or _LIST_ITEM.match(bare) and not bare[:1].isspace() or bare.startswith("#")):
            flush_block()
        block.append(line)
    flush_block()
    if current:
        parts.append(_trim(current))
    return [part for part in parts if part] or [[]]


def _trim(lines: list[Line]) -> list[Line]:
    start, end = 0, len(lines)
    while start < end and not lines[start].bare.strip():
        start += 1
    while end > start and not lines[end - 1].bare.strip():
        end -= 1
    return lines[start:end]


def fit_references(doc: SkillDoc) -> list[str]:
    """Split ``references/*.md`` files over :data:`MAX_REFERENCE_LINES` lines into linked parts, and
    add a ``## Contents`` list to those over :data:`TOC_AFTER_LINES` lines that lack one (when they
    have at least two headings to list).

    Returns:
        Notes, one per change.
    """
    notes = []
    for name in sorted(doc.files):
        if not name.startswith("references/") or name.count("/") != 1 or not name.endswith(".md"):
            continue
        lines = doc.files[name]
        if len(lines) > MAX_REFERENCE_LINES:
            parts = split_blocks(lines, MAX_REFERENCE_LINES - 20)
            stem = name[: -len(".md")]
            names = [name] + [f"{stem}-part{n}.md" for n in range(2, len(parts) + 1)]
            for index, (part_name, part) in enumerate(zip(names, parts)):
                if index + 1 < len(names):
                    following = names[index + 1].split("/", 1)[1]
                    part = [
                        *part,
                        Line("\n", (), "code"),
                        Line(f"Continued in [{following}]({following}).\n", (), "code"),
                    ]
                doc.files[part_name] = part
            notes.append(f"split {name} ({len(lines)} lines) into {len(parts)} parts")
        for part_name in [n for n in sorted(doc.files) if n == name or n.startswith(name[: -len(".md")] + "-part")]:
            if _add_toc(doc, part_name):
                notes.append(f"added a table of contents to {part_name}")
    return notes


def _add_toc(doc: SkillDoc, name: str) -> bool:
    lines = doc.files[name]
    if len(lines) <= TOC_AFTER_LINES:
        return False
    head = "".join(line.text for line in lines[:40])
    if re.search(r"^#+\s*(table of )?contents\b", head, re.IGNORECASE | re.MULTILINE):
        return False
    headings = doc.headings(name)
    listed = (
        [h for h in headings[1:] if h.level <= 3]
        if headings and headings[0].level == 1
        else [h for h in headings if h.level <= 3]
    )
    if len(listed) < 2:
        return False
    at = headings[0].index + 1 if headings and headings[0].level == 1 else 0
    newline = doc.newline(name)
    block = [Line(newline, (), "code"), Line("## Contents" + newline, (), "code"), Line(newline, (), "code")]
    block += [
        Line(f"{'  ' * max(h.level - 2, 0)}- [{h.title}](#{anchor(h.title)}){newline}", (), "code") for h in listed
    ]
    lines[at:at] = block
    return True


def anchor(title: str) -> str:
    """The GitHub-style anchor of a heading title (lowercase, punctuation dropped, spaces to ``-``)."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def set_metadata_version(doc: SkillDoc, version: int) -> None:
    """Set ``metadata.version`` of SKILL.md to ``'<version>'`` by editing only that line.

    An existing ``version:`` line under a block ``metadata:`` mapping is replaced; otherwise the line
    is added (with ``metadata:`` when there is none). A frontmatter in a shape this cannot edit line by
    line (flow-style ``metadata: {...}``) is dumped again with the same keys in the same order.
    """
    lines = doc.files[SKILL_MD]
    end = doc.body_start(SKILL_MD)
    if end == 0:
        return
    newline = doc.newline(SKILL_MD)
    value = f"'{version}'"
    metadata_at = next((i for i in range(1, end - 1) if re.match(r"^metadata:\s*(#.*)?$", lines[i].bare)), None)
    if metadata_at is not None:
        child = metadata_at + 1
        indent = "  "
        while child < end - 1 and (lines[child].bare.startswith((" ", "\t")) or not lines[child].bare.strip()):
            match = re.match(r"^(\s+)version\s*:", lines[child].bare)
            if match:
                lines[child] = Line(f"{match.group(1)}version: {value}{newline}", (), "code")
                return _check_frontmatter(doc, version)
            if lines[child].bare.strip():
                indent = re.match(r"^(\s+)", lines[child].bare).group(1)
            child += 1
        lines.insert(metadata_at + 1, Line(f"{indent}version: {value}{newline}", (), "code"))
        return _check_frontmatter(doc, version)
    if any(re.match(r"^metadata\s*:", lines[i].bare) for i in range(1, end - 1)):
        data = yaml.safe_load("".join(line.text for line in lines[1 : end - 1])) or {}
        data.setdefault("metadata", {})
        data["metadata"] = {**{str(k): str(v) for k, v in (data["metadata"] or {}).items()}, "version": str(version)}
        dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100000)
        lines[1 : end - 1] = [Line(t + newline, (), "code") for t in dumped.splitlines()]
        return _check_frontmatter(doc, version)
    lines[end - 1 : end - 1] = [
        Line(f"metadata:{newline}", (), "code"),
        Line(f"  version: {value}{newline}", (), "code"),
    ]
    return _check_frontmatter(doc, version)


def _check_frontmatter(doc: SkillDoc, version: int) -> None:
    end = doc.body_start(SKILL_MD)
    data = yaml.safe_load("".join(line.text for line in doc.files[SKILL_MD][1 : end - 1])) or {}
    assert str((data.get("metadata") or {}).get("version")) == str(version), "metadata.version was not set"
