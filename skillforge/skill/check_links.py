"""Markdown and link checks of a skill's files (called by :func:`skillforge.skill.validate.validate_skill`):
relative links resolve inside the skill, references are one level deep from SKILL.md, every file
under ``references/`` is linked, long reference files have a table of contents, headings are not
empty.

Each rule's id, severity and source are in :data:`skillforge.skill.rules.RULES`.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from skillforge.skill.rules import (
    MAX_REFERENCE_LINES,
    TOC_AFTER_LINES,
    Add,
    violation,
)

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+[\"'(].*)?$")


_FENCE = re.compile(r"^\s*(```|~~~)")


def check_references(folder: Path, skill_lines: list[str], add: Add) -> None:
    """Rules on ``references/``: depth and chains (spec), size and table of contents
    (trace2skill, anthropic-docs), linked from SKILL.md (skillforge)."""
    references = folder / "references"
    if not references.is_dir():
        return
    linked = {_normalise(target) for target in _link_targets(skill_lines)}
    for path in sorted(references.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir():
            add(
                violation(
                    "structure.references-depth", relative, None, "references/ must be one level deep (no sub-folders)"
                )
            )
            continue
        if path.parent != references or path.suffix.lower() != ".md":
            continue
        ref_lines = read_skill_text(relative, path, add).splitlines()
        if relative not in linked:
            add(
                violation(
                    "structure.reference-unlinked",
                    relative,
                    None,
                    f"{relative} is not linked from SKILL.md, so an agent will not find it",
                )
            )
        if len(ref_lines) > MAX_REFERENCE_LINES:
            add(
                violation(
                    "size.reference-lines",
                    relative,
                    MAX_REFERENCE_LINES + 1,
                    f"{len(ref_lines)} lines; the limit is {MAX_REFERENCE_LINES}",
                )
            )
        if len(ref_lines) > TOC_AFTER_LINES and not _has_toc(ref_lines):
            add(
                violation(
                    "structure.reference-toc",
                    relative,
                    1,
                    f"{len(ref_lines)} lines and no table of contents (needed past {TOC_AFTER_LINES})",
                )
            )
        check_markdown(relative, ref_lines, 0, folder, add)
        for number, target in _link_targets_with_lines(ref_lines):
            resolved = _normalise(target, base=relative)
            if resolved.startswith("references/") and resolved.lower().endswith(".md") and resolved != relative:
                add(
                    violation(
                        "structure.reference-chain",
                        relative,
                        number,
                        f"links on to {resolved}; link every reference from SKILL.md instead (one level deep)",
                    )
                )


def check_markdown(relative: str, lines: list[str], start: int, folder: Path, add: Add) -> None:
    """Rules ``structure.empty-section``, ``structure.placeholder-section`` (skillforge,
    trace2skill) and ``links.resolve``, ``links.outside`` (spec, skillforge)."""
    base = (folder / relative).parent
    in_fence = False
    headings: list[tuple[int, int, str]] = []  # (line index, level, text)
    content_after: dict[int, bool] = {}
    for index in range(start, len(lines)):
        line = lines[index]
        if _FENCE.match(line):
            in_fence = not in_fence
            _mark_content(headings, content_after)
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            headings.append((index, len(heading.group(1)), heading.group(2)))
            content_after[index] = False
            if heading.group(2).strip().lower() in ("new section", "todo", "tbd"):
                add(
                    violation(
                        "structure.placeholder-section",
                        relative,
                        index + 1,
                        f"placeholder section header {heading.group(2)!r}",
                    )
                )
            continue
        if line.strip():
            _mark_content(headings, content_after)
        if in_fence:
            continue
        for target in _targets_in_line(line):
            path_part = unquote(target.split("#", 1)[0])
            resolved = (base / path_part).resolve()
            if not resolved.exists():
                add(violation("links.resolve", relative, index + 1, f"link target {target!r} does not exist"))
            elif folder.resolve() not in (resolved, *resolved.parents):
                add(
                    violation(
                        "links.outside", relative, index + 1, f"link target {target!r} points outside the skill folder"
                    )
                )
    for position, (index, level, text) in enumerate(headings):
        if content_after.get(index):
            continue
        # a heading with no text of its own is fine when sub-headings follow (they hold the content)
        next_heading = headings[position + 1] if position + 1 < len(headings) else None
        if next_heading and next_heading[1] > level:
            continue
        add(violation("structure.empty-section", relative, index + 1, f"section {text!r} is empty"))


def _targets_in_line(line: str) -> list[str]:
    """Relative link targets of one Markdown line (inline links, images, link definitions)."""
    targets = [m.group(1) for m in _LINK.finditer(line)]
    if definition := _LINK_DEFINITION.match(line):
        targets.append(definition.group(1))
    return [
        t
        for t in targets
        if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE) and not t.startswith("#") and t.split("#", 1)[0]
    ]


def _link_targets_with_lines(lines: list[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            found.extend((index + 1, target) for target in _targets_in_line(line))
    return found


def _link_targets(lines: list[str]) -> list[str]:
    return [target for _, target in _link_targets_with_lines(lines)]


def _normalise(target: str, base: str = "SKILL.md") -> str:
    """A link target as a path relative to the skill folder (``./references/a.md#x`` → ``references/a.md``)."""
    path = unquote(target.split("#", 1)[0])
    parts: list[str] = [p for p in Path(base).parent.as_posix().split("/") if p and p != "."]
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _mark_content(headings: list[tuple[int, int, str]], content_after: dict[int, bool]) -> None:
    if headings:
        content_after[headings[-1][0]] = True


def _has_toc(lines: list[str]) -> bool:
    head = "\n".join(lines[:40]).lower()
    return bool(re.search(r"^#+\s*(table of )?contents\b", head, re.MULTILINE)) or len(re.findall(r"\]\(#", head)) >= 2


def read_skill_text(relative: str, path: Path, add: Add) -> str:
    """Read a file as UTF-8, reporting ``format.encoding`` (and decoding with replacement) if it is not."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        add(violation("format.encoding", relative, line, f"{relative} is not valid UTF-8 (byte {exc.start})"))
        return data.decode("utf-8", errors="replace")
