"""Validate a skill folder: the strict union of the Agent Skills rules, skillforge's structural
limits, and a safety scan (:mod:`skillforge.skill.safety`).

Every rule is in :data:`RULES` with its id, default severity and source; ``skillforge validate
--rules`` prints the table. Sources (DESIGN §3 and ``shared/docs/skill-format-and-hosts.md`` §2):

* **spec** — the Agent Skills specification, https://agentskills.io/specification
  (``docs/specification.mdx`` in agentskills/agentskills);
* **skills-ref** — the reference validator, agentskills/agentskills
  ``skills-ref/src/skills_ref/validator.py`` (and its strictyaml ``parser.py``);
* **quick_validate** — Anthropic's anthropics/skills ``skills/skill-creator/scripts/quick_validate.py``
  (run by ``package_skill.py`` before packaging);
* **anthropic-docs** — Anthropic's Agent Skills platform docs (reserved words, no XML tags) and
  skill-authoring best practices (table of contents past 100 lines, one-level references);
* **trace2skill** — Qwen-Applications/Trace2Skill editor constraints (``apply_constraints.txt``:
  references under 300 lines) and its released skills' failure modes (empty ``## New Section``);
* **skillforge** — DESIGN §2–§3 (links resolve, references linked from SKILL.md) and issue 6
  (the safety scan).

Where the sources disagree the stricter rule wins; where the newest spec is looser than the other
validators (a YAML list for ``allowed-tools``) the looser form is a warning, not an error.
Frontmatter types and lengths are in ``schemas/skill-frontmatter.schema.json``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal
from urllib.parse import unquote

import yaml

from skillforge.resources import schema_validator

MAX_SKILL_LINES = 500
MAX_SKILL_TOKENS = 5000
MAX_REFERENCE_LINES = 300
TOC_AFTER_LINES = 100
RESERVED_WORDS = ("anthropic", "claude")
ALLOWED_KEYS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")

Severity = Literal["error", "warning"]

_FRONTMATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+[\"'(].*)?$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TOP_KEY = re.compile(r"^([\w-]+)\s*:")


@dataclass(frozen=True)
class Rule:
    """One validation rule.

    Attributes:
        id: the id reported in :attr:`Violation.rule`.
        severity: the default severity (a check may report a specific case as a warning).
        summary: what the rule demands.
        source: where the rule comes from (see the module docstring for the keys).
    """

    id: str
    severity: Severity
    summary: str
    source: str


_RULE_LIST = (
    # folder and file format
    Rule("structure.skill-md", "error", "the folder holds a file named exactly SKILL.md", "spec (directory structure); quick_validate ('SKILL.md not found'); skills-ref also accepts skill.md, the others do not"),
    Rule("format.encoding", "error", "SKILL.md and reference files are UTF-8", "skills-ref and quick_validate (Path.read_text, UTF-8)"),
    Rule("format.line-endings", "error", "SKILL.md uses LF line endings", "quick_validate (frontmatter regex ^---\\n(.*?)\\n---)"),
    # frontmatter
    Rule("frontmatter.missing", "error", "SKILL.md starts with a YAML frontmatter block between --- lines", "spec (SKILL.md format); quick_validate ('No YAML frontmatter found')"),
    Rule("frontmatter.yaml", "error", "the frontmatter is valid YAML", "quick_validate (yaml.safe_load); skills-ref (strictyaml parser)"),
    Rule("frontmatter.mapping", "error", "the frontmatter is a YAML mapping", "quick_validate ('Frontmatter must be a YAML dictionary')"),
    Rule("frontmatter.duplicate-key", "error", "no frontmatter key appears twice", "skills-ref (strictyaml rejects duplicate keys)"),
    Rule("frontmatter.keys", "error", f"only the keys {', '.join(ALLOWED_KEYS)}", "spec (frontmatter table); skills-ref ALLOWED_FIELDS; quick_validate ALLOWED_PROPERTIES"),
    Rule("frontmatter.required", "error", "name and description are present", "spec; skills-ref; quick_validate"),
    Rule("frontmatter.name", "error", "name: 1-64 chars of a-z, 0-9 and single hyphens, not at either end", "spec (name field); quick_validate (^[a-z0-9-]+$, ASCII only); skills-ref (no --, no leading/trailing -)"),
    Rule("frontmatter.name-folder", "error", "name equals the folder name", "spec ('Must match the parent directory name'); skills-ref"),
    Rule("frontmatter.name-reserved", "error", "name contains neither 'anthropic' nor 'claude'", "anthropic-docs ('Cannot contain reserved words')"),
    Rule("frontmatter.description", "error", "description: a non-blank string of 1-1024 chars with no < or > (so no XML tags)", "spec (1-1024, non-empty); skills-ref (non-blank); quick_validate (no angle brackets); anthropic-docs (no XML tags)"),
    Rule("frontmatter.license", "error", "license, when present, is a non-empty string", "spec (license field)"),
    Rule("frontmatter.compatibility", "error", "compatibility, when present, is a string of 1-500 chars", "spec (compatibility 1-500); quick_validate; skills-ref"),
    Rule("frontmatter.metadata", "error", "metadata is a map from string keys to string values", "spec ('A map from string keys to string values')"),
    Rule("frontmatter.allowed-tools", "error", "allowed-tools is a space-delimited string (or a list of strings, see next rule)", "spec (allowed-tools); skills-ref (_validate_allowed_tools)"),
    Rule("frontmatter.allowed-tools-list", "warning", "allowed-tools as a YAML list is accepted by the newest spec only; a string is portable", "spec (newest: string or list); docs/skill-format-and-hosts.md §2 (string only at the pinned spec)"),
    # size
    Rule("size.skill-lines", "error", f"SKILL.md has at most {MAX_SKILL_LINES} lines", "spec ('Keep your main SKILL.md under 500 lines'); trace2skill (apply_constraints.txt)"),
    Rule("size.skill-tokens", "warning", f"the SKILL.md body is under about {MAX_SKILL_TOKENS} tokens (4 characters per token)", "spec (progressive disclosure: '< 5000 tokens recommended')"),
    Rule("size.reference-lines", "error", f"each references/*.md has at most {MAX_REFERENCE_LINES} lines", "trace2skill (apply_constraints.txt: each reference under 300 lines)"),
    # structure
    Rule("structure.references-depth", "error", "references/ has no sub-folders", "spec ('Keep file references one level deep'); trace2skill"),
    Rule("structure.reference-chain", "warning", "a reference file does not link on to another reference file", "spec ('Avoid deeply nested reference chains'); anthropic-docs (best practices: one level deep)"),
    Rule("structure.reference-toc", "error", f"a reference longer than {TOC_AFTER_LINES} lines starts with a table of contents", "anthropic-docs (best practices); trace2skill (apply_constraints.txt)"),
    Rule("structure.reference-unlinked", "warning", "every references/*.md is linked from SKILL.md", "skillforge (DESIGN §2: a new references/x.md comes with a link from SKILL.md; trace2skill create/link pairing)"),
    Rule("structure.empty-section", "error", "no heading without content", "skillforge (DESIGN §2); trace2skill released skills (empty '## New Section' headers)"),
    Rule("structure.placeholder-section", "error", "no placeholder headings (New Section, TODO, TBD)", "skillforge (DESIGN §2); trace2skill add_section fallback '## New Section'"),
    # links
    Rule("links.resolve", "error", "every relative link resolves to a file of the skill", "spec (file references are relative paths from the skill root); skillforge (DESIGN §3)"),
    Rule("links.outside", "error", "no relative link leaves the skill folder", "skillforge (DESIGN §3: a skill is exported as its folder alone)"),
    # safety scan (skillforge/skill/safety.py)
    Rule("safety.secret", "error", "no secret (API key, token, password, private key)", "skillforge (issue 6; the detector of ingest redaction, skillforge.secrets.find_secrets)"),
    Rule("safety.prompt-injection", "error", "no prompt-injection phrasing ('ignore previous instructions' and variants, role resets, chat-template tokens, hiding actions from the user); a quoted or negated mention is a warning", "skillforge (issue 6); OWASP Top 10 for LLM Applications LLM01 (prompt injection)"),
    Rule("safety.hidden-text", "error", "no invisible Unicode (tag characters, bidirectional controls); zero-width characters are a warning", "skillforge (issue 6); Trojan Source CVE-2021-42574 (bidi controls); Unicode tag 'ASCII smuggling'"),
    Rule("safety.remote-code", "error", "no fetch-and-run of remote code (curl | sh, bash <(curl …), iex (iwr …), eval of fetched text, reverse shells)", "skillforge (issue 6)"),
    Rule("safety.exfiltration", "error", "no sending of files, secrets or the environment to a remote host (curl -F/-d @file, --upload-file, nc < file, requests.post(files=…), 'send ~/.ssh to …')", "skillforge (issue 6)"),
    Rule("safety.destructive", "error", "no destructive command without a guard (rm -rf / ~ $VAR/, force push, mkfs, dd to a disk); negated advice ('never …') is fine; softer cases (git reset --hard, DROP TABLE) are warnings", "skillforge (issue 6)"),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULE_LIST}
"""Every rule the validator applies, by id."""


@dataclass
class Violation:
    """One broken rule.

    Attributes:
        file: path relative to the skill folder (``SKILL.md``, ``references/x.md``).
        line: 1-based line, or None when the rule is about the whole file or folder.
        rule: rule id, a key of :data:`RULES` (``frontmatter.name``, ``size.skill-lines``…).
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


def violation(rule: str, file: str, line: int | None, message: str, severity: Severity | None = None) -> Violation:
    """A :class:`Violation` of ``rule`` with the rule's default severity unless one is given.

    Raises:
        KeyError: ``rule`` is not in :data:`RULES` (every reported rule must cite a source).
    """
    return Violation(file, line, rule, message, severity or RULES[rule].severity)


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
        from skillforge.skill.safety import scan_skill

        report.violations.extend(scan_skill(folder))
    report.violations.sort(key=lambda v: (v.file != "SKILL.md", v.file, v.line or 0))
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
    match = _FRONTMATTER.match(text)
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
