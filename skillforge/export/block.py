"""Managed blocks: a skill's part of a shared instructions file (AGENTS.md, CLAUDE.md).

A block sits between two HTML comments (invisible when the Markdown is rendered)::

    <!-- skillforge:begin NAME vN sha256:0123456789ab -->
    …text…
    <!-- skillforge:end NAME -->

The begin marker records a digest of the text it wrote, so an edit made by hand inside the
block is noticed even without the export manifest (for instance in a fresh clone where
AGENTS.md is committed and ``.skillforge/`` is not). Everything outside the markers is kept
byte for byte; a new block is appended at the end of the file. A file using CRLF line endings
gets its block in CRLF too; digests are taken on LF text so line endings do not count as edits.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from skillforge.errors import SkillforgeError

_BEGIN = re.compile(
    r"^<!-- skillforge:begin (?P<name>[a-z0-9-]+) (?P<label>\S+) sha256:(?P<digest>[0-9a-f]{12}) -->\r?$", re.MULTILINE
)
_END = re.compile(r"^<!-- skillforge:end (?P<name>[a-z0-9-]+) -->\r?(?:\n|$)", re.MULTILINE)


@dataclass(frozen=True)
class BlockSpan:
    """Where a skill's block sits in a file.

    Attributes:
        start: offset of the begin marker (characters).
        end: offset just past the end marker's line break (or end of text).
        inner: the text between the markers.
        recorded: the digest in the begin marker (of the text skillforge wrote).
        edited: True when ``inner`` no longer matches ``recorded`` (someone edited it).
    """

    start: int
    end: int
    inner: str
    recorded: str

    @property
    def edited(self) -> bool:
        return digest(self.inner) != self.recorded


def digest(inner: str) -> str:
    """Short sha256 (12 hex digits) of a block's inner text, line endings normalized to LF."""
    return hashlib.sha256(inner.replace("\r\n", "\n").encode("utf-8")).hexdigest()[:12]


def render_block(name: str, label: str, inner: str) -> str:
    """The block for skill ``name`` (markers included, LF line endings, ending with a newline).

    Args:
        name: skill name (the block's id).
        label: a word recorded in the begin marker, e.g. ``v3``.
        inner: the Markdown to put between the markers.
    """
    if not inner.endswith("\n"):
        inner += "\n"
    return f"<!-- skillforge:begin {name} {label} sha256:{digest(inner)} -->\n{inner}<!-- skillforge:end {name} -->\n"


def find_block(text: str, name: str, where: str = "file") -> BlockSpan | None:
    """Locate the block of ``name`` in ``text``.

    Args:
        text: the whole shared file.
        name: skill name.
        where: the file's name, for error messages.

    Returns:
        The block, or None when the file has none for ``name``.

    Raises:
        SkillforgeError: markers that do not pair up (a begin without an end, two blocks for the
            same skill, an end before its begin): the file must be fixed by hand.
    """
    begins = [m for m in _BEGIN.finditer(text) if m.group("name") == name]
    ends = [m for m in _END.finditer(text) if m.group("name") == name]
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0].start() < begins[0].end():
        line = text.count("\n", 0, (begins or ends)[0].start()) + 1
        raise SkillforgeError(
            f"{where}:{line}: the skillforge markers for {name!r} do not pair up "
            f"({len(begins)} begin, {len(ends)} end); fix or remove them by hand, then export again"
        )
    begin, end = begins[0], ends[0]
    inner_start = begin.end() + 1 if text.startswith("\n", begin.end()) else begin.end()
    return BlockSpan(
        start=begin.start(), end=end.end(), inner=text[inner_start : end.start()], recorded=begin.group("digest")
    )


def splice(text: str | None, name: str, block: str, where: str = "file") -> str:
    """The shared file with ``block`` (from :func:`render_block`) in place of the old one.

    Args:
        text: the file's current text, or None when it does not exist yet.
        name: skill name.
        block: the new block, LF line endings.
        where: the file's name, for error messages.

    Returns:
        The new text. Everything outside the old block is unchanged; a block not yet in the file
        is appended after a blank line.

    Raises:
        SkillforgeError: see :func:`find_block`.
    """
    if not text:
        return block
    if "\r\n" in text:
        block = block.replace("\n", "\r\n")
    newline = "\r\n" if "\r\n" in text else "\n"
    span = find_block(text, name, where)
    if span is not None:
        return text[: span.start] + block + text[span.end :]
    separator = "" if text.endswith(newline * 2) else newline if text.endswith(newline) else newline * 2
    return text + separator + block
