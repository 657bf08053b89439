"""Validate a skill folder against the Agent Skills rules and skillforge's structural limits.

Sources of the rules (the strict union, DESIGN §3 and ``shared/docs/skill-format-and-hosts.md`` §2):

* Agent Skills specification, https://agentskills.io/specification (``docs/specification.mdx`` in
  agentskills/agentskills): allowed frontmatter keys, ``name`` form and length and equality with
  the folder name, ``description`` 1–1024, ``compatibility`` ≤ 500, ``metadata`` string→string,
  SKILL.md under 500 lines / ~5000 tokens, references one level deep;
* skills-ref (``skills-ref/src/skills_ref/validator.py``): unknown keys are errors;
* Anthropic's ``quick_validate.py`` (anthropics/skills ``skills/skill-creator/scripts/``):
  no angle brackets in ``description``;
* Anthropic platform docs: ``name`` must not contain the reserved words ``anthropic``/``claude``;
* Trace2Skill's editor constraints (``apply_constraints.txt``): references under 300 lines with a
  table of contents past 100 lines; and its failure modes: no empty sections
  (``## New Section`` stubs).

Frontmatter key rules are in ``schemas/skill-frontmatter.schema.json``; rules a schema cannot
express are checked here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import yaml

from skillforge.resources import schema_validator

MAX_SKILL_LINES = 500
MAX_SKILL_TOKENS = 5000
MAX_REFERENCE_LINES = 300
TOC_AFTER_LINES = 100
RESERVED_WORDS = ("anthropic", "claude")

Severity = Literal["error", "warning"]

_FRONTMATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class Violation:
    """One broken rule.

    Attributes:
        file: path relative to the skill folder (``SKILL.md``, ``references/x.md``).
        line: 1-based line, or None when the rule is about the whole file or folder.
        rule: short rule id (``frontmatter.name``, ``size.skill-lines``, ``links.resolve``…).
        message: what is wrong.
        severity: ``error`` (the skill is rejected) or ``warning``.
    """

    file: str
    line: int | None
    rule: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message} [{self.rule}]"


@dataclass
class ValidationReport:
    """The result of :func:`validate_skill`."""

    skill_dir: str
    violations: list[Violation] = field(default_factory=list)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{skill_dir, ok, violations: [...]}``."""
        return {"skill_dir": self.skill_dir, "ok": self.ok, "violations": [asdict(v) for v in self.violations]}


def validate_skill(folder: Path) -> ValidationReport:
    """Check a skill folder; never raises for bad content, only reports.

    Args:
        folder: the skill folder (the one holding ``SKILL.md``).

    Returns:
        A :class:`ValidationReport` listing every violation with file and line.
    """
    folder = Path(folder)
    report = ValidationReport(str(folder))
    add = report.violations.append
    skill_md = folder / "SKILL.md"
    if not skill_md.is_file():
        add(Violation("SKILL.md", None, "structure.skill-md", "SKILL.md is missing"))
        return report
    text = skill_md.read_text(encoding="utf-8", errors="replace")
    _, body_start = _check_frontmatter(text, folder, add)
    lines = text.splitlines()
    if len(lines) > MAX_SKILL_LINES:
        add(Violation("SKILL.md", MAX_SKILL_LINES + 1, "size.skill-lines", f"SKILL.md has {len(lines)} lines; the limit is {MAX_SKILL_LINES}"))
    tokens = estimate_tokens(text)
    if tokens > MAX_SKILL_TOKENS:
        add(Violation("SKILL.md", None, "size.skill-tokens", f"SKILL.md is about {tokens} tokens; keep it under {MAX_SKILL_TOKENS}", "warning"))
    _check_markdown("SKILL.md", lines, body_start, folder, add)
    references = folder / "references"
    if references.is_dir():
        for path in sorted(references.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_dir():
                add(Violation(relative, None, "structure.references-depth", "references/ must be one level deep (no sub-folders)"))
                continue
            if path.parent != references:
                continue
            if path.suffix.lower() != ".md":
                continue
            ref_lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            if len(ref_lines) > MAX_REFERENCE_LINES:
                add(Violation(relative, MAX_REFERENCE_LINES + 1, "size.reference-lines", f"{len(ref_lines)} lines; the limit is {MAX_REFERENCE_LINES}"))
            if len(ref_lines) > TOC_AFTER_LINES and not _has_toc(ref_lines):
                add(Violation(relative, 1, "structure.reference-toc", f"{len(ref_lines)} lines and no table of contents (needed past {TOC_AFTER_LINES})"))
            _check_markdown(relative, ref_lines, 0, folder, add)
    return report


def estimate_tokens(text: str) -> int:
    """Rough token count (1 token ≈ 4 characters), the heuristic the spec's guidance implies."""
    return (len(text) + 3) // 4


def parse_frontmatter(text: str) -> tuple[dict[str, Any] | None, int]:
    """Split SKILL.md text into (frontmatter dict or None, index of the first body line).

    Raises:
        yaml.YAMLError: when the frontmatter block exists but is not valid YAML.
    """
    match = _FRONTMATTER.match(text)
    if not match:
        return None, 0
    data = yaml.safe_load(match.group(1))
    return (data if isinstance(data, dict) else None), match.group(0).count("\n")


def _check_frontmatter(text: str, folder: Path, add) -> tuple[dict[str, Any] | None, int]:
    match = _FRONTMATTER.match(text)
    if not match:
        add(Violation("SKILL.md", 1, "frontmatter.missing", "SKILL.md must start with a YAML frontmatter block between '---' lines"))
        return None, 0
    raw = match.group(1)
    body_start = match.group(0).count("\n")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        add(Violation("SKILL.md", (line + 2) if line is not None else 1, "frontmatter.yaml", f"frontmatter is not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None, body_start
    if not isinstance(data, dict):
        add(Violation("SKILL.md", 2, "frontmatter.mapping", "frontmatter must be a YAML mapping"))
        return None, body_start
    key_lines = {m.group(1): i + 2 for i, line in enumerate(raw.splitlines()) if (m := re.match(r"^([\w-]+)\s*:", line))}
    for error in sorted(schema_validator("skill-frontmatter").iter_errors(data), key=lambda e: list(e.path)):
        key = str(error.path[0]) if error.path else None
        if error.validator == "additionalProperties" and not error.path:
            for extra in sorted(set(data) - set(error.schema.get("properties", {}))):
                add(Violation("SKILL.md", key_lines.get(extra, 2), "frontmatter.keys", f"unknown frontmatter key {extra!r} (allowed: name, description, license, compatibility, metadata, allowed-tools)"))
            continue
        if error.validator == "required":
            add(Violation("SKILL.md", 2, "frontmatter.required", error.message))
            continue
        rule = f"frontmatter.{key}" if key else "frontmatter"
        add(Violation("SKILL.md", key_lines.get(key or "", 2), rule, _schema_message(key, error)))
    name = data.get("name")
    if isinstance(name, str):
        if name != folder.name:
            add(Violation("SKILL.md", key_lines.get("name", 2), "frontmatter.name-folder", f"name {name!r} must equal the folder name {folder.name!r}"))
        for word in RESERVED_WORDS:
            if word in name.lower():
                add(Violation("SKILL.md", key_lines.get("name", 2), "frontmatter.name-reserved", f"name must not contain the reserved word {word!r}"))
    description = data.get("description")
    if isinstance(description, str) and re.search(r"<[^>]*>", description):
        add(Violation("SKILL.md", key_lines.get("description", 2), "frontmatter.description-xml", "description must not contain XML tags"))
    return data, body_start


def _schema_message(key: str | None, error) -> str:
    if key == "name" and error.validator == "pattern":
        return "name must be lowercase letters, digits and single hyphens, not starting or ending with a hyphen"
    if key == "description" and error.validator == "pattern":
        return "description must not contain angle brackets (< or >)"
    if key == "metadata" and len(error.path) > 1:
        return f"metadata value for {error.path[1]!r} must be a string"
    return f"{key}: {error.message}" if key else error.message


def _check_markdown(relative: str, lines: list[str], start: int, folder: Path, add) -> None:
    """Empty sections, placeholder headers and unresolved relative links."""
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
                add(Violation(relative, index + 1, "structure.placeholder-section", f"placeholder section header {heading.group(2)!r}"))
            continue
        if line.strip():
            _mark_content(headings, content_after)
        if in_fence:
            continue
        for match in _LINK.finditer(line):
            target = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
                continue
            path_part = unquote(target.split("#", 1)[0])
            if not path_part:
                continue
            resolved = (base / path_part).resolve()
            if not resolved.exists():
                add(Violation(relative, index + 1, "links.resolve", f"link target {target!r} does not exist"))
            elif folder.resolve() not in (resolved, *resolved.parents):
                add(Violation(relative, index + 1, "links.outside", f"link target {target!r} points outside the skill folder"))
    for position, (index, level, text) in enumerate(headings):
        if content_after.get(index):
            continue
        # a heading with no text of its own is fine when sub-headings follow (they hold the content)
        next_heading = headings[position + 1] if position + 1 < len(headings) else None
        if next_heading and next_heading[1] > level:
            continue
        add(Violation(relative, index + 1, "structure.empty-section", f"section {text!r} is empty"))


def _mark_content(headings: list[tuple[int, int, str]], content_after: dict[int, bool]) -> None:
    if headings:
        content_after[headings[-1][0]] = True


def _has_toc(lines: list[str]) -> bool:
    head = "\n".join(lines[:40]).lower()
    return bool(re.search(r"^#+\s*(table of )?contents\b", head, re.MULTILINE)) or len(re.findall(r"\]\(#", head)) >= 2
