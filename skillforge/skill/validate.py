"""Validate a skill folder: the strict union of the Agent Skills rules, skillforge's structural
limits, and a safety scan (:mod:`skillforge.skill.safety`).

Every rule is in :data:`skillforge.skill.rules.RULES` with its id, default severity and source
(the sources are listed there); ``skillforge validate --rules`` prints the table. Where the sources
disagree the stricter rule wins; where the newest spec is looser than the other validators (a YAML
list for ``allowed-tools``) the looser form is a warning, not an error. Frontmatter types and
lengths are in ``schemas/skill-frontmatter.schema.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skillforge.skill.check_frontmatter import check_frontmatter
from skillforge.skill.check_links import (
    check_markdown,
    check_references,
    read_skill_text,
)
from skillforge.skill.rules import (
    MAX_SKILL_LINES,
    MAX_SKILL_TOKENS,
    RULES,
    Add,
    Violation,
    violation,
)
from skillforge.skill.safety import scan_skill


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
            "violations": [
                {**asdict(v), "source": RULES[v.rule].source if v.rule in RULES else ""} for v in self.violations
            ],
        }


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
    text = read_skill_text("SKILL.md", skill_md, add)
    if "\r\n" in text:
        add(
            violation(
                "format.line-endings",
                "SKILL.md",
                1,
                "SKILL.md has CRLF line endings; quick_validate.py cannot read its frontmatter",
            )
        )
    _, body_start = check_frontmatter(text, folder, add)
    lines = text.splitlines()
    _check_skill_size(lines, body_start, add)
    check_markdown("SKILL.md", lines, body_start, folder, add)
    check_references(folder, lines, add)
    if safety:
        report.violations.extend(scan_skill(folder))
    report.violations.sort(key=lambda v: (v.file != "SKILL.md", v.file, v.line or 0))
    return report


def estimate_tokens(text: str) -> int:
    """Rough token count (1 token ≈ 4 characters), the heuristic the spec's guidance implies."""
    return (len(text) + 3) // 4


def _check_skill_size(lines: list[str], body_start: int, add: Add) -> None:
    """Rules ``size.skill-lines`` (spec, trace2skill) and ``size.skill-tokens`` (spec)."""
    if len(lines) > MAX_SKILL_LINES:
        add(
            violation(
                "size.skill-lines",
                "SKILL.md",
                MAX_SKILL_LINES + 1,
                f"SKILL.md has {len(lines)} lines; the limit is {MAX_SKILL_LINES}",
            )
        )
    tokens = estimate_tokens("\n".join(lines[body_start:]))
    if tokens > MAX_SKILL_TOKENS:
        add(
            violation(
                "size.skill-tokens",
                "SKILL.md",
                None,
                f"the SKILL.md body is about {tokens} tokens; keep it under {MAX_SKILL_TOKENS}",
            )
        )
