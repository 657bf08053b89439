"""Validate a skill folder: the strict union of the Agent Skills rules, skillforge's structural
limits, and a safety scan (:mod:`skillforge.skill.safety`).

Every rule is in :data:`skillforge.skill.rules.RULES` with its id, default severity and source
(the sources are listed there); ``skillforge validate --rules`` prints the table. Where the sources
disagree the stricter rule wins; where the newest spec is looser than the other validators (a YAML
list for ``allowed-tools``) the looser form is a warning, not an error. Frontmatter types and
lengths are in ``schemas/skill-frontmatter.schema.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from skillforge.resources import schema_validator
from skillforge.skill.frontmatter import FRONTMATTER
from skillforge.skill.rules import (
    ALLOWED_KEYS,
    MAX_REFERENCE_LINES,
    MAX_SKILL_LINES,
    MAX_SKILL_TOKENS,
    RESERVED_WORDS,
    RULES,
    TOC_AFTER_LINES,
    Violation,
    violation,
)
from skillforge.skill.safety import scan_skill

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+[\"'(].*)?$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TOP_KEY = re.compile(r"^([\w-]+)\s*:")


@dataclass
class ValidationReport:
    """The result of :func:`validate_skill`."""

    skill_dir: str
    violations: list[Violation] = field(default_factory=list)

    @property
    def errors(self) -> list[Violation]:
        """The violations that reject the skill."""
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        """The violations that do not reject the skill."""
        return [v for v in self.violations if v.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{skill_dir, ok, errors, warnings, violations: [{file, line, rule,
        message, severity, source}]}``."""
        return {
            "skill_dir": self.skill_dir,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "violations": [{**asdict(v), "source": RULES[v.rule].source if v.rule in RULES else ""} for v in self.violations],
        }


Add = Callable[[Violation], None]


def validate_skill(folder: Path, *, safety: bool = True) -> ValidationReport:
    """Check a skill folder against every rule of :data:`RULES`; never raises for bad content.

    Args:
        folder: the skill folder (the one holding ``SKILL.md``).
        safety: also run the safety scan (:func:`skillforge.skill.safety.scan_skill`).

    Returns:
        A :class:`ValidationReport` listing every violation with file and line, sorted by file
        (``SKILL.md`` first) and line.
    """
    folder = Path(folder)
    report = ValidationReport(str(folder))
    add = report.violations.append
    skill_md = folder / "SKILL.md"
    if not skill_md.is_file():
        lower = [p.name for p in folder.iterdir() if p.name.lower() == "skill.md"] if folder.is_dir() else []
        hint = f" (found {lower[0]!r}: rename it to SKILL.md)" if lower else ""
        add(violation("structure.skill-md", "SKILL.md", None, f"SKILL.md is missing{hint}"))
        return report
    text = _read_text("SKILL.md", skill_md, add)
    if "\r\n" in text:
        add(violation("format.line-endings", "SKILL.md", 1, "SKILL.md has CRLF line endings; quick_validate.py cannot read its frontmatter"))
    _, body_start = _check_frontmatter(text, folder, add)
    lines = text.splitlines()
    _check_skill_size(lines, body_start, add)
    _check_markdown("SKILL.md", lines, body_start, folder, add)
    _check_references(folder, lines, add)
    if safety:
        report.violations.extend(scan_skill(folder))
    report.violations.sort(key=lambda v: (v.file != "SKILL.md", v.file, v.line or 0))
    return report


def estimate_tokens(text: str) -> int:
    """Rough token count (1 token ≈ 4 characters), the heuristic the spec's guidance implies."""
    return (len(text) + 3) // 4




def _read_text(relative: str, path: Path, add: Add) -> str:
    """Read a file as UTF-8, reporting ``format.encoding`` (and decoding with replacement) if it is not."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        add(violation("format.encoding", relative, line, f"{relative} is not valid UTF-8 (byte {exc.start})"))
        return data.decode("utf-8", errors="replace")


def _check_frontmatter(text: str, folder: Path, add: Add) -> tuple[dict[str, Any] | None, int]:
    """Rules ``frontmatter.*``: spec field table, skills-ref ``validate_metadata``, quick_validate,
    Anthropic reserved words. Returns (frontmatter or None, index of the first body line)."""
    match = FRONTMATTER.match(text)
    if not match:
        add(violation("frontmatter.missing", "SKILL.md", 1, "SKILL.md must start with a YAML frontmatter block between '---' lines"))
        return None, 0
    raw = match.group(1)
    body_start = match.group(0).count("\n")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        add(violation("frontmatter.yaml", "SKILL.md", (line + 2) if line is not None else 1, f"frontmatter is not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None, body_start
    if not isinstance(data, dict):
        add(violation("frontmatter.mapping", "SKILL.md", 2, "frontmatter must be a YAML mapping"))
        return None, body_start
    key_lines: dict[str, int] = {}
    for index, line in enumerate(raw.splitlines()):
        if m := _TOP_KEY.match(line):
            if m.group(1) in key_lines:
                add(violation("frontmatter.duplicate-key", "SKILL.md", index + 2, f"frontmatter key {m.group(1)!r} appears twice (line {key_lines[m.group(1)]} too)"))
            key_lines.setdefault(m.group(1), index + 2)
    allowed_tools = data.get("allowed-tools")
    if isinstance(allowed_tools, list) and all(isinstance(item, str) for item in allowed_tools):
        add(violation("frontmatter.allowed-tools-list", "SKILL.md", key_lines.get("allowed-tools", 2), "allowed-tools is a YAML list; write it as one space-delimited string for hosts that follow the older spec"))
        data = {**data, "allowed-tools": " ".join(allowed_tools)}
    for error in sorted(schema_validator("skill-frontmatter").iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        key = str(error.path[0]) if error.path else None
        if error.validator == "additionalProperties" and not error.path:
            for extra in sorted(set(map(str, data)) - set(error.schema.get("properties", {}))):
                add(violation("frontmatter.keys", "SKILL.md", key_lines.get(extra, 2), f"unknown frontmatter key {extra!r} (allowed: {', '.join(ALLOWED_KEYS)})"))
            continue
        if error.validator == "required":
            add(violation("frontmatter.required", "SKILL.md", 2, error.message))
            continue
        add(violation(f"frontmatter.{key}" if key in ALLOWED_KEYS else "frontmatter.keys", "SKILL.md", key_lines.get(key or "", 2), _schema_message(key, error)))
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        for meta_key in metadata:
            if not isinstance(meta_key, str):
                add(violation("frontmatter.metadata", "SKILL.md", key_lines.get("metadata", 2), f"metadata key {meta_key!r} must be a string"))
    name = data.get("name")
    if isinstance(name, str):
        if name != folder.name:
            add(violation("frontmatter.name-folder", "SKILL.md", key_lines.get("name", 2), f"name {name!r} must equal the folder name {folder.name!r}"))
        for word in RESERVED_WORDS:
            if word in name.lower():
                add(violation("frontmatter.name-reserved", "SKILL.md", key_lines.get("name", 2), f"name must not contain the reserved word {word!r}"))
    description = data.get("description")
    if isinstance(description, str) and description and not description.strip():
        add(violation("frontmatter.description", "SKILL.md", key_lines.get("description", 2), "description must not be blank"))
    return data, body_start


def _schema_message(key: str | None, error) -> str:
    if key == "name" and error.validator == "pattern":
        return "name must be lowercase letters, digits and single hyphens, not starting or ending with a hyphen"
    if key == "description" and error.validator == "pattern":
        return "description must not contain angle brackets (< or >), so no XML tags"
    if key == "metadata" and len(error.path) > 1:
        return f"metadata value for {error.path[1]!r} must be a string (quote it: {error.path[1]}: \"{error.instance}\")"
    return f"{key}: {error.message}" if key else error.message


def _check_skill_size(lines: list[str], body_start: int, add: Add) -> None:
    """Rules ``size.skill-lines`` (spec, trace2skill) and ``size.skill-tokens`` (spec)."""
    if len(lines) > MAX_SKILL_LINES:
        add(violation("size.skill-lines", "SKILL.md", MAX_SKILL_LINES + 1, f"SKILL.md has {len(lines)} lines; the limit is {MAX_SKILL_LINES}"))
    tokens = estimate_tokens("\n".join(lines[body_start:]))
    if tokens > MAX_SKILL_TOKENS:
        add(violation("size.skill-tokens", "SKILL.md", None, f"the SKILL.md body is about {tokens} tokens; keep it under {MAX_SKILL_TOKENS}"))


def _check_references(folder: Path, skill_lines: list[str], add: Add) -> None:
    """Rules on ``references/``: depth and chains (spec), size and table of contents
    (trace2skill, anthropic-docs), linked from SKILL.md (skillforge)."""
    references = folder / "references"
    if not references.is_dir():
        return
    linked = {_normalise(target) for target in _link_targets(skill_lines)}
    for path in sorted(references.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir():
            add(violation("structure.references-depth", relative, None, "references/ must be one level deep (no sub-folders)"))
            continue
        if path.parent != references or path.suffix.lower() != ".md":
            continue
        ref_lines = _read_text(relative, path, add).splitlines()
        if relative not in linked:
            add(violation("structure.reference-unlinked", relative, None, f"{relative} is not linked from SKILL.md, so an agent will not find it"))
        if len(ref_lines) > MAX_REFERENCE_LINES:
            add(violation("size.reference-lines", relative, MAX_REFERENCE_LINES + 1, f"{len(ref_lines)} lines; the limit is {MAX_REFERENCE_LINES}"))
        if len(ref_lines) > TOC_AFTER_LINES and not _has_toc(ref_lines):
            add(violation("structure.reference-toc", relative, 1, f"{len(ref_lines)} lines and no table of contents (needed past {TOC_AFTER_LINES})"))
        _check_markdown(relative, ref_lines, 0, folder, add)
        for number, target in _link_targets_with_lines(ref_lines):
            resolved = _normalise(target, base=relative)
            if resolved.startswith("references/") and resolved.lower().endswith(".md") and resolved != relative:
                add(violation("structure.reference-chain", relative, number, f"links on to {resolved}; link every reference from SKILL.md instead (one level deep)"))


def _check_markdown(relative: str, lines: list[str], start: int, folder: Path, add: Add) -> None:
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
                add(violation("structure.placeholder-section", relative, index + 1, f"placeholder section header {heading.group(2)!r}"))
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
                add(violation("links.outside", relative, index + 1, f"link target {target!r} points outside the skill folder"))
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
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE) and not t.startswith("#") and t.split("#", 1)[0]]


def _link_targets_with_lines(lines: list[str]) -> list[tuple[int, str]]:
    found = []
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
