"""Patches: edits to a skill folder, each carrying the lessons it comes from.

The shape is Trace2Skill's ``PatchEdit`` (Qwen-Applications/Trace2Skill,
``prompts/parallel_evolving_agent/map_output_format.txt``) with ``lesson_ids`` on every edit, so
that provenance survives every merge level (DESIGN §2-3). JSON Schema: ``schemas/patch.schema.json``.
The operations are applied by :mod:`skillforge.skill.apply` in plain code.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import orjson

from skillforge.resources import load_schema, schema_validator

Op = Literal[
    "insert_after", "insert_before", "append_to_section", "replace_in_section",
    "add_section", "delete_section", "create_file", "delete_file",
]
OPS: tuple[str, ...] = get_args(Op)
"""Every patch operation, in one place: the schema's ``op`` enum and the applier's table are tested
equal to it (tests/skill/test_patch.py)."""

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "insert_after": ("target_text", "content"),
    "insert_before": ("target_text", "content"),
    "append_to_section": ("target_section", "content"),
    "replace_in_section": ("old_text", "content"),
    "add_section": ("content",),
    "delete_section": ("target_section",),
    "create_file": ("content",),
    "delete_file": (),
}
"""Fields each operation needs beyond ``file`` and ``op`` (``content`` may be ``""`` for a replace)."""

_TEXT_FIELDS = ("target_section", "target_text", "old_text", "content", "after_section")


@dataclass
class Edit:
    """One edit of one file.

    Attributes:
        file: path relative to the skill folder (``SKILL.md``, ``references/x.md``).
        op: one of :data:`OPS`.
        lesson_ids: the lessons this edit comes from (provenance; may be empty only for fix edits).
        target_section: a heading line (``## Pitfalls``) the edit works in.
        target_text: exact text the edit is anchored to (insert_after / insert_before).
        old_text: exact text to replace (replace_in_section).
        content: new text (markdown).
        after_section: heading after whose section an ``add_section`` goes.
    """

    file: str
    op: str
    lesson_ids: list[str] = field(default_factory=list)
    target_section: str | None = None
    target_text: str | None = None
    old_text: str | None = None
    content: str | None = None
    after_section: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialize to the schema's edit object (fields that are None are left out)."""
        data: dict[str, Any] = {"file": self.file, "op": self.op}
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        data["lesson_ids"] = list(self.lesson_ids)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edit:
        """Build from a schema-valid edit object (not re-validated here; see :meth:`Patch.from_dict`)."""
        return cls(
            file=data["file"],
            op=data["op"],
            lesson_ids=list(dict.fromkeys(data.get("lesson_ids") or [])),
            **{name: data.get(name) for name in _TEXT_FIELDS},
        )

    def missing_fields(self) -> list[str]:
        """The fields :data:`REQUIRED_FIELDS` asks for that are absent or blank (``content`` of a replace may be empty)."""
        missing = []
        for name in REQUIRED_FIELDS.get(self.op, ()):
            value = getattr(self, name)
            if value is None or (not value.strip() and not (name == "content" and self.op == "replace_in_section")):
                missing.append(name)
        return missing

    def summary(self, width: int = 90) -> str:
        """One line describing the edit, for reports: ``op file [target]: first words of content``."""
        target = self.target_section or self.target_text or self.old_text or self.after_section or ""
        text = " ".join((self.content or "").split())
        head = f"{self.op} {self.file}" + (f" [{' '.join(target.split())[:40]}]" if target else "")
        line = f"{head}: {text}" if text else head
        return line if len(line) <= width else line[: width - 1] + "…"


@dataclass
class Patch:
    """A set of edits plus the model's reasoning and change-log lines.

    Attributes:
        reasoning: why (2-3 sentences from the model, or a note from code).
        edits: the edits, applied in order.
        changelog_entries: one line per user-visible change.
    """

    reasoning: str = ""
    edits: list[Edit] = field(default_factory=list)
    changelog_entries: list[str] = field(default_factory=list)

    @property
    def lesson_ids(self) -> list[str]:
        """Distinct lesson ids over all edits, in first-seen order."""
        return list(dict.fromkeys(i for edit in self.edits for i in edit.lesson_ids))

    def to_dict(self) -> dict[str, Any]:
        """Serialize to the shape of ``schemas/patch.schema.json``."""
        return {"reasoning": self.reasoning, "edits": [e.to_dict() for e in self.edits], "changelog_entries": list(self.changelog_entries)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Patch:
        """Build a Patch from a dict that validates against ``patch.schema.json``.

        Raises:
            jsonschema.ValidationError: when ``data`` does not match the schema.
        """
        schema_validator("patch").validate(data)
        return cls(
            reasoning=data.get("reasoning", ""),
            edits=[Edit.from_dict(e) for e in data.get("edits", [])],
            changelog_entries=list(data.get("changelog_entries") or []),
        )

    def digest(self) -> str:
        """sha256 (hex) of the canonical JSON: equal patches have equal digests."""
        return hashlib.sha256(orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)).hexdigest()


def patch_schema(lesson_ids: Iterable[str] | None = None) -> dict[str, Any]:
    """``patch.schema.json``, optionally narrowed so every edit must cite at least one of ``lesson_ids``.

    The narrowed schema is what propose and merge calls ask the model for: a reply whose edits cite
    no lesson, or a lesson outside its inputs, fails the schema check and gets llm.py's repair round.

    Returns:
        A new dict (the cached schema is not modified).
    """
    schema = copy.deepcopy(load_schema("patch"))
    schema.pop("$id", None)
    if lesson_ids is not None:
        allowed = sorted(set(lesson_ids))
        schema["properties"]["edits"]["items"]["properties"]["lesson_ids"] = {
            "type": "array", "minItems": 1, "items": {"enum": allowed},
        }
    return schema


def concatenate(patches: Iterable[Patch], reasoning: str) -> Patch:
    """One patch holding the edits of ``patches`` in order; identical edits are kept once with their
    ``lesson_ids`` united (used when a merge cannot be made by the model)."""
    out = Patch(reasoning=reasoning)
    seen: dict[str, Edit] = {}
    for patch in patches:
        for edit in patch.edits:
            key = orjson.dumps({**edit.to_dict(), "lesson_ids": []}, option=orjson.OPT_SORT_KEYS).decode()
            if key in seen:
                kept = seen[key]
                kept.lesson_ids = list(dict.fromkeys([*kept.lesson_ids, *edit.lesson_ids]))
                continue
            copied = Edit.from_dict(edit.to_dict())
            seen[key] = copied
            out.edits.append(copied)
        out.changelog_entries.extend(e for e in patch.changelog_entries if e not in out.changelog_entries)
    return out
