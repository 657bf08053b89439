"""Skill files to HTML for the report, by markdown-it-py (CommonMark + tables) with raw HTML off.

Raw HTML in a skill is shown as text, never passed through; images are not rendered (an image
would be a request leaving the page); links are checked by markdown-it's ``validateLink`` (no
``javascript:``, ``vbscript:``, ``file:`` or non-image ``data:`` URLs) and links to another file of
the skill point at that file's place in the page.

Each block that starts on a line of a provenance span (a list item, a table row, a heading, a
top-level paragraph, quote or code block) gets ``class="item"`` and ``data-item="<item id>"``; each
block holding a line added or changed against the start version gets ``data-change``. The page's
script turns items into evidence buttons. Nothing here inserts text unescaped: every attribute
value is a number or a fixed word, and markdown-it escapes the text.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from skillforge.report.skill import anchor

_BLOCKS = {"list_item_open", "tr_open", "heading_open", "paragraph_open", "blockquote_open", "fence", "code_block"}
_TOP_LEVEL_ONLY = {"paragraph_open", "blockquote_open", "fence", "code_block"}


def markdown_parser() -> MarkdownIt:
    """The parser: CommonMark with tables, raw HTML disabled, images disabled."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


def render_file(file: Mapping[str, Any], items: Sequence[Mapping[str, Any]], skill_files: Sequence[str]) -> Markup:
    """HTML of one skill file (its body; the frontmatter is shown apart by the template).

    Args:
        file: a file model of :func:`skillforge.report.skill.skill_model`.
        items: the skill's items (only those of this file are used).
        skill_files: paths of all files of the skill (links between them become in-page anchors).

    Returns:
        Safe HTML (markdown files rendered; any other file as one escaped ``<pre>``).
    """
    if not file["markdown"]:
        return Markup("<pre class='plain'>{}</pre>").format(file["body"])
    parser = markdown_parser()
    tokens = parser.parse(file["body"])
    own = [item for item in items if item["file"] == file["path"]]
    added, changed = set(file["added_lines"]), set(file["changed_lines"])
    offset = file["body_offset"]
    stack: list[int | None] = []
    for token in tokens:
        if token.nesting == -1:
            if stack:
                stack.pop()
            continue
        if token.type == "inline":
            _rewrite_links(token, file["path"], skill_files)
            continue
        attached: int | None = None
        if token.type in _BLOCKS and token.map and (token.level == 0 or token.type not in _TOP_LEVEL_ONLY):
            first, last = token.map[0] + 1 + offset, token.map[1] + offset
            item = _item_at(own, first)
            inherited = next((i for i in reversed(stack) if i is not None), None)
            if item is not None and item != inherited:
                token.attrJoin("class", "item")
                token.attrSet("data-item", str(item))
                attached = item
            lines = set(range(first, max(first, last) + 1))
            if lines & changed:
                token.attrSet("data-change", "changed")
            elif lines & added:
                token.attrSet("data-change", "added")
        if token.nesting == 1:
            stack.append(attached if attached is not None else (stack[-1] if stack else None))
    return Markup(parser.renderer.render(tokens, parser.options, {}))


def render_frontmatter(text: str) -> Markup:
    """The frontmatter as an escaped ``<pre>`` (empty when there is none)."""
    return Markup("<pre class='frontmatter'>{}</pre>").format(text) if text else Markup("")


def _item_at(items: Sequence[Mapping[str, Any]], line: int) -> int | None:
    for item in items:
        if item["start"] <= line <= item["end"]:
            return int(item["id"])
    return None


def _rewrite_links(inline: Token, path: str, skill_files: Sequence[str]) -> None:
    for child in inline.children or []:
        if child.type != "link_open":
            continue
        href = str(child.attrGet("href") or "")
        target = (
            posixpath.normpath(posixpath.join(posixpath.dirname(path), href.split("#", 1)[0]))
            if href and "://" not in href and not href.startswith(("#", "mailto:"))
            else ""
        )
        if target in skill_files:
            child.attrSet("href", "#" + anchor(target))
        else:
            child.attrSet("rel", "noopener noreferrer")
