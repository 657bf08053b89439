"""The skill templates (``templates/skill/*.md.j2``) and the texts derived from a run's tools.

Two templates remain after the skill became a patched document (:mod:`skillforge.distill.build`):
``seed.md.j2``, the start version of a new skill (:func:`skillforge.distill.start.seed_start`), and
``item.md.j2``, one list item of the offline path's deterministic patch
(:func:`skillforge.merge.propose.offline_patch`). Everything else in a skill is written by patch
edits and by the layout rules (:mod:`skillforge.skill.layout`).
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from skillforge.resources import data_dir


@cache
def template_environment() -> Environment:
    """The Jinja2 environment over ``templates/`` (strict undefined, no autoescape) with the
    ``oneline`` (whitespace collapsed, trailing period dropped) and ``lowerfirst`` filters. Cached."""
    env = Environment(
        loader=FileSystemLoader(str(data_dir("templates"))),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["oneline"] = _oneline
    env.filters["lowerfirst"] = lambda text: text[:1].lower() + text[1:] if text and not text[:2].isupper() else text
    return env


def describe_skill(tools: list[str], trajectory_count: int, formats: list[str]) -> str:
    """The default frontmatter description: main tools and where the lessons come from.

    Args:
        tools: tool names, most used first (the first 6 are named).
        trajectory_count: how many trajectories the lessons come from.
        formats: their log formats.

    Returns:
        At most 1024 characters, without ``<`` or ``>`` (Agent Skills rules, DESIGN §3).
    """
    tool_text = ", ".join(tools[:6]) if tools else "their tools"
    source = f"{trajectory_count} real {'/'.join(formats)} trajectories" if trajectory_count else "agent trajectories"
    text = (
        f"Pitfalls to avoid and patterns that worked for agents using {tool_text}, distilled from "
        f"{source}. Use when an agent works with these tools or on similar tasks, especially after a tool call fails."
    )
    return re.sub(r"[<>]", "", text)[:1024]


def when_to_use_text(tools: list[str]) -> str:
    """The "When to use" paragraph naming up to 8 tools (most used first)."""
    tool_text = ", ".join(f"`{name}`" for name in tools[:8]) if tools else "the same tools"
    return (
        f"Use this skill on tasks like the ones these runs worked on, where the agent calls {tool_text} "
        "(most used first). Read the pitfalls before calling those tools, and follow the procedure "
        "where it applies."
    )


def _oneline(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")
