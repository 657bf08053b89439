"""Prompt templates (``templates/prompts/*.md.j2``), versioned by the hash of their text.

Every LLM call of every stage (the analysts, propose, merge, translate, fix) renders its messages
from one of these templates, kept as files beside the code after Trace2Skill's ``prompts/`` folder
(DESIGN §6). A template is a Jinja2 file with a ``system`` and/or a ``user`` block, rendered into
the chat messages of a call. Shared parts live in files starting with ``_`` and are pulled in
with ``{% include %}``. A template's version (:attr:`PromptTemplate.hash`) is the sha256 of its own
source and of every template it includes (found with :func:`jinja2.meta.find_referenced_templates`),
so editing a shared part changes the version of every prompt that uses it. The version keys the
response cache (``LLMClient.complete_json(template_hash=...)``) and the run folder's saved steps,
and is written to the run manifest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, meta

from skillforge.errors import SkillforgeError
from skillforge.resources import data_dir

BLOCKS = ("system", "user")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(data_dir("templates") / "prompts")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,  # the templates ship with the package: no stat of the file per prompt
    )
    environment.filters["json"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False)
    return environment


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt template.

    Attributes:
        name: file name without ``.md.j2`` (``failure``, ``propose``, ``merge``…).
        hash: 16 hex digits of sha256 over the template's source and its includes.
    """

    name: str
    hash: str

    @property
    def version(self) -> str:
        """``<name>@<hash>``, as written to the manifest."""
        return f"{self.name}@{self.hash}"

    def messages(self, **context: Any) -> list[dict[str, str]]:
        """Render the ``system`` and ``user`` blocks into chat messages.

        Raises:
            jinja2.UndefinedError: a variable the template uses was not given.
        """
        template = _environment().get_template(f"{self.name}.md.j2")
        out = []
        for block in BLOCKS:
            render = template.blocks.get(block)
            if render is None:
                continue
            text = "".join(render(template.new_context(context))).strip()
            if text:
                out.append({"role": block, "content": text})
        return out


@cache
def prompt_template(name: str) -> PromptTemplate:
    """Load ``templates/prompts/<name>.md.j2`` and compute its version hash.

    Raises:
        SkillforgeError: the template is missing (a broken install).
    """
    environment = _environment()
    digest = hashlib.sha256()
    pending, done = [f"{name}.md.j2"], set()
    while pending:
        file_name = pending.pop()
        if file_name in done:
            continue
        done.add(file_name)
        try:
            source, _, _ = environment.loader.get_source(environment, file_name)  # type: ignore[union-attr]
        except Exception as exc:  # jinja2.TemplateNotFound
            raise SkillforgeError(
                f"prompt template {file_name} is missing from templates/prompts/; reinstall skillforge"
            ) from exc
        digest.update(file_name.encode() + b"\0" + source.encode() + b"\0")
        pending.extend(sorted(ref for ref in meta.find_referenced_templates(environment.parse(source)) if ref))
    return PromptTemplate(name, digest.hexdigest()[:16])


def skill_files(doc) -> list[dict[str, Any]]:
    """The text files of a skill (a :class:`skillforge.skill.document.SkillDoc`) as the prompts
    show them: ``[{path, lines, text}]``, SKILL.md first."""
    names = sorted(doc.files, key=lambda name: (name != "SKILL.md", name))
    return [{"path": name, "lines": len(doc.files[name]), "text": doc.text(name).rstrip("\n")} for name in names]
