"""The validation rules of a skill folder: every rule with its id, severity and source, and the
limits they name. Pure data and the :class:`Violation` type; the checks live in
:mod:`skillforge.skill.validate` and :mod:`skillforge.skill.safety`, which both import from here.

Sources (DESIGN §3 and ``shared/docs/skill-format-and-hosts.md`` §2):

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MAX_SKILL_LINES = 500
MAX_SKILL_TOKENS = 5000
MAX_REFERENCE_LINES = 300
TOC_AFTER_LINES = 100
RESERVED_WORDS = ("anthropic", "claude")
ALLOWED_KEYS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")

Severity = Literal["error", "warning"]


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
    Rule(
        "structure.skill-md",
        "error",
        "the folder holds a file named exactly SKILL.md",
        "spec (directory structure); quick_validate ('SKILL.md not found'); skills-ref also accepts skill.md, the "
        "others do not",
    ),
    Rule(
        "format.encoding",
        "error",
        "SKILL.md and reference files are UTF-8",
        "skills-ref and quick_validate (Path.read_text, UTF-8)",
    ),
    Rule(
        "format.line-endings",
        "error",
        "SKILL.md uses LF line endings",
        "quick_validate (frontmatter regex ^---\\n(.*?)\\n---)",
    ),
    # frontmatter
    Rule(
        "frontmatter.missing",
        "error",
        "SKILL.md starts with a YAML frontmatter block between --- lines",
        "spec (SKILL.md format); quick_validate ('No YAML frontmatter found')",
    ),
    Rule(
        "frontmatter.yaml",
        "error",
        "the frontmatter is valid YAML",
        "quick_validate (yaml.safe_load); skills-ref (strictyaml parser)",
    ),
    Rule(
        "frontmatter.mapping",
        "error",
        "the frontmatter is a YAML mapping",
        "quick_validate ('Frontmatter must be a YAML dictionary')",
    ),
    Rule(
        "frontmatter.duplicate-key",
        "error",
        "no frontmatter key appears twice",
        "skills-ref (strictyaml rejects duplicate keys)",
    ),
    Rule(
        "frontmatter.keys",
        "error",
        f"only the keys {', '.join(ALLOWED_KEYS)}",
        "spec (frontmatter table); skills-ref ALLOWED_FIELDS; quick_validate ALLOWED_PROPERTIES",
    ),
    Rule("frontmatter.required", "error", "name and description are present", "spec; skills-ref; quick_validate"),
    Rule(
        "frontmatter.name",
        "error",
        "name: 1-64 chars of a-z, 0-9 and single hyphens, not at either end",
        "spec (name field); quick_validate (^[a-z0-9-]+$, ASCII only); skills-ref (no --, no leading/trailing -)",
    ),
    Rule(
        "frontmatter.name-folder",
        "error",
        "name equals the folder name",
        "spec ('Must match the parent directory name'); skills-ref",
    ),
    Rule(
        "frontmatter.name-reserved",
        "error",
        "name contains neither 'anthropic' nor 'claude'",
        "anthropic-docs ('Cannot contain reserved words')",
    ),
    Rule(
        "frontmatter.description",
        "error",
        "description: a non-blank string of 1-1024 chars with no < or > (so no XML tags)",
        "spec (1-1024, non-empty); skills-ref (non-blank); quick_validate (no angle brackets); anthropic-docs (no "
        "XML tags)",
    ),
    Rule("frontmatter.license", "error", "license, when present, is a non-empty string", "spec (license field)"),
    Rule(
        "frontmatter.compatibility",
        "error",
        "compatibility, when present, is a string of 1-500 chars",
        "spec (compatibility 1-500); quick_validate; skills-ref",
    ),
    Rule(
        "frontmatter.metadata",
        "error",
        "metadata is a map from string keys to string values",
        "spec ('A map from string keys to string values')",
    ),
    Rule(
        "frontmatter.allowed-tools",
        "error",
        "allowed-tools is a space-delimited string (or a list of strings, see next rule)",
        "spec (allowed-tools); skills-ref (_validate_allowed_tools)",
    ),
    Rule(
        "frontmatter.allowed-tools-list",
        "warning",
        "allowed-tools as a YAML list is accepted by the newest spec only; a string is portable",
        "spec (newest: string or list); docs/skill-format-and-hosts.md §2 (string only at the pinned spec)",
    ),
    # size
    Rule(
        "size.skill-lines",
        "error",
        f"SKILL.md has at most {MAX_SKILL_LINES} lines",
        "spec ('Keep your main SKILL.md under 500 lines'); trace2skill (apply_constraints.txt)",
    ),
    Rule(
        "size.skill-tokens",
        "warning",
        f"the SKILL.md body is under about {MAX_SKILL_TOKENS} tokens (4 characters per token)",
        "spec (progressive disclosure: '< 5000 tokens recommended')",
    ),
    Rule(
        "size.reference-lines",
        "error",
        f"each references/*.md has at most {MAX_REFERENCE_LINES} lines",
        "trace2skill (apply_constraints.txt: each reference under 300 lines)",
    ),
    # structure
    Rule(
        "structure.references-depth",
        "error",
        "references/ has no sub-folders",
        "spec ('Keep file references one level deep'); trace2skill",
    ),
    Rule(
        "structure.reference-chain",
        "warning",
        "a reference file does not link on to another reference file",
        "spec ('Avoid deeply nested reference chains'); anthropic-docs (best practices: one level deep)",
    ),
    Rule(
        "structure.reference-toc",
        "error",
        f"a reference longer than {TOC_AFTER_LINES} lines starts with a table of contents",
        "anthropic-docs (best practices); trace2skill (apply_constraints.txt)",
    ),
    Rule(
        "structure.reference-unlinked",
        "warning",
        "every references/*.md is linked from SKILL.md",
        "skillforge (DESIGN §2: a new references/x.md comes with a link from SKILL.md; trace2skill create/link "
        "pairing)",
    ),
    Rule(
        "structure.empty-section",
        "error",
        "no heading without content",
        "skillforge (DESIGN §2); trace2skill released skills (empty '## New Section' headers)",
    ),
    Rule(
        "structure.placeholder-section",
        "error",
        "no placeholder headings (New Section, TODO, TBD)",
        "skillforge (DESIGN §2); trace2skill add_section fallback '## New Section'",
    ),
    # links
    Rule(
        "links.resolve",
        "error",
        "every relative link resolves to a file of the skill",
        "spec (file references are relative paths from the skill root); skillforge (DESIGN §3)",
    ),
    Rule(
        "links.outside",
        "error",
        "no relative link leaves the skill folder",
        "skillforge (DESIGN §3: a skill is exported as its folder alone)",
    ),
    # safety scan (skillforge/skill/safety.py)
    Rule(
        "safety.secret",
        "error",
        "no secret (API key, token, password, private key)",
        "skillforge (issue 6; the detector of ingest redaction, skillforge.secret_scan.find_secrets)",
    ),
    Rule(
        "safety.prompt-injection",
        "error",
        "no prompt-injection phrasing ('ignore previous instructions' and variants, role resets, chat-template "
        "tokens, hiding actions from the user); a quoted or negated mention is a warning",
        "skillforge (issue 6); OWASP Top 10 for LLM Applications LLM01 (prompt injection)",
    ),
    Rule(
        "safety.hidden-text",
        "error",
        "no invisible Unicode (tag characters, bidirectional controls); zero-width characters are a warning",
        "skillforge (issue 6); Trojan Source CVE-2021-42574 (bidi controls); Unicode tag 'ASCII smuggling'",
    ),
    Rule(
        "safety.remote-code",
        "error",
        "no fetch-and-run of remote code (curl | sh, bash <(curl …), iex (iwr …), eval of fetched text, reverse "
        "shells)",
        "skillforge (issue 6)",
    ),
    Rule(
        "safety.exfiltration",
        "error",
        "no sending of files, secrets or the environment to a remote host (curl -F/-d @file, --upload-file, nc < "
        "file, requests.post(files=…), 'send ~/.ssh to …')",
        "skillforge (issue 6)",
    ),
    Rule(
        "safety.destructive",
        "error",
        "no destructive command without a guard (rm -rf / ~ $VAR/, force push, mkfs, dd to a disk); negated advice "
        "('never …') is fine; softer cases (git reset --hard, DROP TABLE) are warnings",
        "skillforge (issue 6)",
    ),
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


Add = Callable[[Violation], None]
"""How a check reports a violation (the validator collects them)."""
