"""Flatten a skill into one Markdown document for hosts that are not skill-aware.

Rule and instruction files (Cursor ``.mdc``, Copilot ``.instructions.md``, Windsurf rules,
AGENTS.md, CLAUDE.md) hold one document. The document is the SKILL.md body (frontmatter
removed, headings shifted to sit at ``level``), followed by each ``references/*.md`` inlined
under its own heading; links to an inlined reference become links to that heading, links to
anything else in the skill become plain text (the host has no copy of the file).

Each host has a size limit. When the document does not fit, references are dropped from the
last one first, then the body is cut at the last heading (or, failing that, line) that fits, and a
note says so. Every cut comes back as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from skillforge.errors import SkillforgeError
from skillforge.export.source import SKILL_FILE, SkillSource

_HEADING = re.compile(r"^(#{1,6})(\s+.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass(frozen=True)
class Limit:
    """A host's size limit for one file.

    Attributes:
        amount: the maximum.
        unit: ``chars``, ``bytes`` (UTF-8) or ``lines``.
        source: where the limit is documented.
    """

    amount: int
    unit: str
    source: str

    def size(self, text: str) -> int:
        """``text`` measured in this limit's unit."""
        if self.unit == "bytes":
            return len(text.encode("utf-8"))
        if self.unit == "lines":
            return len(text.splitlines())
        return len(text)

    def __str__(self) -> str:
        return f"{self.amount:,} {self.unit}"


def slug(text: str) -> str:
    """GitHub-style heading anchor: lowercase, punctuation removed, spaces to hyphens."""
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text.strip().lower()))


def reference_title(path: str) -> str:
    """The heading an inlined reference gets (``references/evidence.md`` → ``Reference: evidence``)."""
    return f"Reference: {PurePosixPath(path).stem}"


def render_document(
    skill: SkillSource,
    host: str,
    wrap: Callable[[str], str],
    limit: Limit | None,
    level: int = 1,
    intro: str = "",
) -> tuple[str, list[str]]:
    """The skill as one Markdown document, as much of it as the host's limit allows.

    Args:
        skill: the skill.
        host: host name, for warnings.
        wrap: turns a document into the final file text (adds frontmatter, or splices the block
            into the shared file); the limit is checked on what ``wrap`` returns.
        limit: the host's limit, or None when it documents none.
        level: heading level of the skill's title in the output (1 in a file of its own, 2
            inside AGENTS.md).
        intro: a paragraph put right after the title (the description, for hosts whose
            frontmatter has no place for it).

    Returns:
        (the final file text from ``wrap``, warnings about what was left out or cut).
    """
    warnings: list[str] = []
    references = _inlinable(skill)
    for extra in (f.path for f in skill.files if f.path != SKILL_FILE and f.path not in references):
        warnings.append(f"{extra} not exported: {host} holds one Markdown document, with no place for other files")

    def build(kept: list[str], body: str) -> str:
        parts = [_rewrite_links(_shift(_with_intro(body, intro), level - 1), set(kept))]
        for path in kept:
            text = skill.file(path).data.decode("utf-8", errors="replace")  # type: ignore[union-attr]
            parts.append(f"{'#' * min(level + 1, 6)} {reference_title(path)}\n\n{_rewrite_links(_shift(text, level + 1), set(kept), PurePosixPath(path).parent)}")
        return "\n\n".join(p.strip("\n") for p in parts) + "\n"

    kept = list(references)
    text = wrap(build(kept, skill.body))
    if limit is None or limit.size(text) <= limit.amount:
        return text, warnings
    while kept:
        dropped = kept.pop()
        warnings.append(f"{dropped} not inlined: {host} allows {limit} per file ({limit.source})")
        text = wrap(build(kept, skill.body))
        if limit.size(text) <= limit.amount:
            return text, warnings
    body, removed = _cut(skill.body, lambda candidate: limit.size(wrap(build([], candidate))) <= limit.amount, host, limit)
    if body is None:
        raise SkillforgeError(f"{host}: not even the skill's title fits in {limit} ({limit.source})")
    warnings.append(f"SKILL.md cut to fit {host}'s {limit} ({limit.source}); left out: {removed}")
    return wrap(build([], body)), warnings


def _with_intro(body: str, intro: str) -> str:
    if not intro:
        return body
    lines = body.lstrip("\n").splitlines(keepends=True)
    if lines and _HEADING.match(lines[0]):
        return lines[0] + "\n" + intro + "\n\n" + "".join(lines[1:]).lstrip("\n")
    return intro + "\n\n" + "".join(lines)


def _inlinable(skill: SkillSource) -> list[str]:
    """Markdown references, in the order SKILL.md first links them, then by path."""
    candidates = [f.path for f in skill.files if f.path.startswith("references/") and f.path.endswith(".md")]
    order = {}
    for match in _LINK.finditer(skill.body):
        target = _local_target(match.group(3), PurePosixPath("."))
        if target in candidates and target not in order:
            order[target] = len(order)
    return sorted(candidates, key=lambda p: (order.get(p, len(order)), p))


def _local_target(target: str, base: PurePosixPath) -> str | None:
    if _SCHEME.match(target) or target.startswith(("#", "/")):
        return None
    path = target.split("#", 1)[0]
    if not path:
        return None
    parts: list[str] = []
    for part in (base / path).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _lines_outside_fences(text: str):
    """Yield (line, in_fence) for each line, keeping line endings."""
    in_fence = False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
            yield line, True
            continue
        yield line, in_fence


def _shift(text: str, by: int) -> str:
    if by <= 0:
        return text
    out = []
    for line, in_fence in _lines_outside_fences(text):
        match = None if in_fence else _HEADING.match(line)
        out.append(f"{'#' * min(len(match.group(1)) + by, 6)}{match.group(2)}" + ("\n" if line.endswith("\n") else "") if match else line)
    return "".join(out)


def _rewrite_links(text: str, inlined: set[str], base: PurePosixPath = PurePosixPath(".")) -> str:
    def replace(match: re.Match) -> str:
        target = _local_target(match.group(3), base)
        if target is None:
            return match.group(0)
        if target in inlined:
            return f"{match.group(1)}[{match.group(2)}](#{slug(reference_title(target))})"
        return match.group(2)

    out = []
    for line, in_fence in _lines_outside_fences(text):
        out.append(line if in_fence else _LINK.sub(replace, line))
    return "".join(out)


def _cut(body: str, fits: Callable[[str], bool], host: str, limit: Limit) -> tuple[str | None, str]:
    """Cut ``body`` to fit, adding a note: before a heading when that keeps at least 3/4 of what
    the best cut at a line boundary keeps, else at that line. Never inside a code fence, never
    right after a heading. Returns (cut body or None when nothing fits, what was left out)."""
    lines = body.splitlines(keepends=True)
    boundaries = [i for i, (_, in_fence) in enumerate(_lines_outside_fences(body)) if not in_fence]
    headings = [i for i in boundaries if _HEADING.match(lines[i])]

    def attempt(index: int) -> str | None:
        kept = "".join(lines[:index]).rstrip("\n")
        last = next((line for line in reversed(kept.splitlines()) if line.strip()), "")
        if not last or _HEADING.match(last):
            return None
        note = f"\n\n_[Cut by skillforge to fit {host}'s limit of {limit}; {len(lines) - index} more lines are in the full skill.]_\n"
        return kept + note if fits(kept + note) else None

    best: dict[str, tuple[int, str]] = {}
    for kind, candidates in (("heading", headings), ("line", boundaries)):
        for index in reversed(candidates):
            if (text := attempt(index)) is not None:
                best[kind] = (index, text)
                break
    if not best:
        return None, ""
    line_cut = best.get("line")
    heading_cut = best.get("heading")
    index, text = heading_cut if heading_cut and (not line_cut or len(heading_cut[1]) * 4 >= len(line_cut[1]) * 3) else line_cut  # type: ignore[misc]
    sections = [m.group(2).strip() for line in lines[index:] if (m := _HEADING.match(line))]
    return text, f"{len(lines) - index} of {len(lines)} lines" + (f" (sections {', '.join(sections)})" if sections else "")
