"""Render a skill folder (``SKILL.md`` + ``references/*.md``) from ranked lesson groups.

Templates are Jinja2 files in ``templates/skill/``. The folder follows the Agent Skills
specification (https://agentskills.io/specification): YAML frontmatter with ``name`` and
``description``; skillforge's version lives in ``metadata.version`` because the spec has no
top-level version key. Long lists are moved to ``references/`` and linked from ``SKILL.md`` so
that it stays under the size limits of DESIGN §3 (500 lines; references 300 lines, with a table
of contents past 100).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from skillforge import __version__
from skillforge.merge.offline import LessonGroup
from skillforge.resources import data_dir

MAX_PROCEDURE_IN_SKILL = 12
MAX_PITFALLS_IN_SKILL = 20
MAX_EVIDENCE_IN_SKILL = 20
MAX_REFERENCE_ITEMS = 240
"""Items per reference file, so that a reference stays under 300 lines with its table of contents."""
MAX_EVIDENCE_PER_ROW = 6


@dataclass
class SkillContent:
    """Everything :func:`render_skill` needs.

    Attributes:
        name: skill name (kebab-case; also the folder name).
        version: version number written to ``metadata.version``.
        groups: ranked lesson groups (see :func:`skillforge.merge.offline.group_lessons`).
        trajectory_count: how many trajectories were analysed.
        formats: the log formats they came from.
        tool_counts: tool name → number of calls across the trajectories.
        description: frontmatter description; derived from the tools when empty.
        metadata: extra ``metadata`` entries (string → string).
    """

    name: str
    version: int
    groups: list[LessonGroup]
    trajectory_count: int
    formats: list[str]
    tool_counts: Counter = field(default_factory=Counter)
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def render_skill(content: SkillContent, folder: Path) -> list[Path]:
    """Write the skill into ``folder`` (created if needed; existing files are overwritten).

    Returns:
        The files written, ``SKILL.md`` first.
    """
    env = template_environment()
    folder.mkdir(parents=True, exist_ok=True)
    procedure = [g for g in content.groups if g.kind == "success"]
    pitfalls = [g for g in content.groups if g.kind == "failure"]
    written = []
    skill_md = env.get_template("skill/SKILL.md.j2").render(
        frontmatter=_frontmatter(content),
        title=content.name.replace("-", " ").title(),
        trajectory_count=content.trajectory_count,
        formats=content.formats,
        when_to_use=_when_to_use(content),
        procedure=procedure[:MAX_PROCEDURE_IN_SKILL],
        procedure_overflow=len(procedure) > MAX_PROCEDURE_IN_SKILL,
        pitfalls=pitfalls[:MAX_PITFALLS_IN_SKILL],
        pitfalls_overflow=len(pitfalls) > MAX_PITFALLS_IN_SKILL,
        evidence=content.groups[:MAX_EVIDENCE_IN_SKILL],
        evidence_overflow=len(content.groups) > MAX_EVIDENCE_IN_SKILL,
    )
    path = folder / "SKILL.md"
    path.write_text(_tidy(skill_md), encoding="utf-8")
    written.append(path)
    references = folder / "references"
    if len(procedure) > MAX_PROCEDURE_IN_SKILL:
        written.append(_reference(env, references / "procedure.md", "Procedure: all patterns", procedure, table=False))
    if len(pitfalls) > MAX_PITFALLS_IN_SKILL:
        written.append(_reference(env, references / "pitfalls.md", "Pitfalls: all lessons", pitfalls, table=False))
    if len(content.groups) > MAX_EVIDENCE_IN_SKILL:
        written.append(_reference(env, references / "evidence.md", "Evidence: all lessons", content.groups, table=True))
    return written


def default_description(content: SkillContent) -> str:
    """A description naming the main tools and the source of the lessons (≤ 1024 chars, no ``<``/``>``)."""
    return describe_skill([name for name, _ in content.tool_counts.most_common(6)], content.trajectory_count, content.formats)


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


def _frontmatter(content: SkillContent) -> str:
    metadata = {"version": str(content.version), "generator": f"skillforge {__version__}", **content.metadata}
    data = {"name": content.name, "description": content.description or default_description(content), "metadata": metadata}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100000).strip()


def _when_to_use(content: SkillContent) -> str:
    return when_to_use_text([name for name, _ in content.tool_counts.most_common(8)])


def when_to_use_text(tools: list[str]) -> str:
    """The "When to use" paragraph naming up to 8 tools (most used first)."""
    tool_text = ", ".join(f"`{name}`" for name in tools[:8]) if tools else "the same tools"
    return (
        f"Use this skill on tasks like the ones these runs worked on, where the agent calls {tool_text} "
        "(most used first). Read the pitfalls before calling those tools, and follow the procedure "
        "where it applies."
    )


def _reference(env: Environment, path: Path, title: str, groups: list[LessonGroup], *, table: bool) -> Path:
    shown = groups[:MAX_REFERENCE_ITEMS]
    omitted = len(groups) - len(shown)
    sections = []
    for heading, low, high in (("Support 5 or more", 5, None), ("Support 2 to 4", 2, 4), ("Support 1", 1, 1)):
        members = [g for g in shown if g.support >= low and (high is None or g.support <= high)]
        if members:
            sections.append({"heading": heading, "groups": members, "table": table})
    intro = "All lessons of this version, most supported first."
    if omitted:
        intro += f" {omitted} lessons with the least support are not listed."
    text = env.get_template("skill/reference.md.j2").render(
        title=title,
        intro=intro,
        toc=[s["heading"] for s in sections] if len(shown) > 80 else [],
        sections=sections,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_tidy(text), encoding="utf-8")
    return path


@cache
def template_environment() -> Environment:
    """The Jinja2 environment over ``templates/`` (strict undefined, no autoescape, with the
    ``oneline``, ``cell``, ``lowerfirst``, ``anchor`` and ``evidence_cell`` filters). Cached."""
    env = Environment(
        loader=FileSystemLoader(str(data_dir("templates"))),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["oneline"] = _oneline
    env.filters["cell"] = lambda text: _oneline(text).replace("|", "\\|")
    env.filters["lowerfirst"] = lambda text: text[:1].lower() + text[1:] if text and not text[:2].isupper() else text
    env.filters["anchor"] = lambda heading: re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
    env.filters["evidence_cell"] = _evidence_cell
    env.filters["json"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False)
    return env


def _tidy(markdown: str) -> str:
    """At most one blank line in a row, one trailing newline (templates are easier to read this way)."""
    return re.sub(r"\n{3,}", "\n\n", markdown).rstrip("\n") + "\n"


def _oneline(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _evidence_cell(group: LessonGroup) -> str:
    items = group.evidence
    cells = [f"`{e.session_id}`: {', '.join(map(str, e.step_ids))}" for e in items[:MAX_EVIDENCE_PER_ROW]]
    if len(items) > MAX_EVIDENCE_PER_ROW:
        cells.append(f"+{len(items) - MAX_EVIDENCE_PER_ROW} more")
    return "; ".join(cells).replace("|", "\\|")
