"""Prompt templates (Jinja2 files in ``templates/prompts/``) rendered into chat messages.

Prompts live beside the code as files, after Trace2Skill's ``prompts/`` folder (DESIGN §6); each
template's hash is part of the key of every saved step it produced (:mod:`skillforge.merge.runstate`),
so editing a prompt makes a rerun ask again.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from skillforge.resources import data_dir
from skillforge.skill.document import SkillDoc
from skillforge.skill.render import template_environment


def render_prompt(name: str, **context: Any) -> list[dict[str, str]]:
    """Render ``templates/prompts/<name>`` with ``context``; return it as one user message.

    Raises:
        jinja2.TemplateNotFound, jinja2.UndefinedError: a missing template or context variable (bugs).
    """
    text = template_environment().get_template(f"prompts/{name}").render(**context)
    return [{"role": "user", "content": text}]


@cache
def template_digest(name: str) -> str:
    """sha256 (hex) of ``templates/prompts/<name>`` and the partials it includes (files starting with ``_``)."""
    folder = data_dir("templates") / "prompts"
    hasher = hashlib.sha256()
    for path in [folder / name, *sorted(folder.glob("_*.j2"))]:
        hasher.update(path.name.encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()


def skill_files(doc: SkillDoc) -> list[dict[str, Any]]:
    """The text files of a skill for a prompt: ``[{path, lines, text}]``, SKILL.md first."""
    names = sorted(doc.files, key=lambda name: (name != "SKILL.md", name))
    return [{"path": name, "lines": len(doc.files[name]), "text": doc.text(name).rstrip("\n")} for name in names]


def skill_digest(folder: Path) -> str:
    """sha256 (hex) of a skill folder's files (paths and bytes), to key steps on the snapshot."""
    hasher = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        hasher.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()
