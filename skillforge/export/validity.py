"""Only valid skills are exported or imported: the validator runs first, and its errors stop both."""

from __future__ import annotations

from pathlib import Path

from skillforge.errors import SkillforgeError
from skillforge.skill.validate import ValidationReport, validate_skill


class InvalidSkillError(SkillforgeError):
    """A skill that fails validation; ``report`` holds every violation (the CLI prints them)."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report


def require_valid(folder: Path, what: str, refused: str) -> ValidationReport:
    """Validate the skill folder ``folder``.

    Args:
        folder: the skill folder.
        what: how to name the skill in the message (``airline v3``, ``x.skill``).
        refused: what does not happen (``exported``, ``imported``).

    Returns:
        The report (warnings only).

    Raises:
        InvalidSkillError: when the validator finds errors; the message quotes the first three.
    """
    report = validate_skill(folder)
    if not report.ok:
        first = "; ".join(str(v) for v in report.errors[:3])
        raise InvalidSkillError(
            f"{what} is not a valid skill, so it is not {refused} ({len(report.errors)} errors: {first})", report
        )
    return report
