"""The skill under evaluation, as the judge sees it, and the checks of what the judge cites.

The retrospective judge's claims count only when their citations hold, checked here in code (as
:mod:`skillforge.analyze.grounding` checks a lesson's evidence):

* a skill line ``{file, line, text}`` must name a file of the skill, a line number inside it, and
  text that occurs in that line after whitespace normalisation; a text found verbatim on exactly
  one *other* line of the file is accepted with the line number corrected;
* a step ``{step_id, quote}`` must name a step of the trajectory whose text holds the quote
  (:func:`~skillforge.analyze.grounding.snap_quote` repairs a near-miss quote, and a quote found in
  exactly one other step moves the citation there, as :func:`~skillforge.analyze.grounding.snap_evidence`
  does for lessons).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillforge.analyze.grounding import normalize_whitespace, snap_quote
from skillforge.skill.document import SKILL_MD, SkillDoc
from skillforge.trajectory import Trajectory

MIN_CITED_CHARS = 3
"""Cited skill text shorter than this (normalised) matches too much to prove anything."""


@dataclass
class SkillUnderTest:
    """One version of a skill as the judge reads it.

    Attributes:
        name: the skill's name.
        label: how results name it (``v3``, ``candidate``, ``none``).
        files: relative path → lines (without line endings), SKILL.md first; empty for ``none``.
        folder: where it was read from (None for ``none``).
    """

    name: str
    label: str
    files: dict[str, list[str]] = field(default_factory=dict)
    folder: Path | None = None

    @classmethod
    def from_folder(cls, folder: Path, label: str, name: str | None = None) -> SkillUnderTest:
        """Read the UTF-8 text files of a skill folder (:meth:`SkillDoc.load`).

        Raises:
            SkillforgeError: the folder has no SKILL.md.
        """
        doc = SkillDoc.load(Path(folder))
        ordered = sorted(doc.files, key=lambda path: (path != SKILL_MD, path))
        files = {path: [line.bare for line in doc.files[path]] for path in ordered}
        return cls(name or Path(folder).name, label, files, Path(folder))

    @property
    def empty(self) -> bool:
        """True for the no-skill arm (nothing to judge)."""
        return not self.files

    def numbered(self) -> list[dict[str, Any]]:
        """The files as the judge's prompt shows them: ``[{path, lines, text}]`` with every line
        prefixed by its 1-based number and ``|``."""
        width = max((len(str(len(lines))) for lines in self.files.values()), default=1)
        return [
            {
                "path": path,
                "lines": len(lines),
                "text": "\n".join(f"{n:>{width}} | {line}" for n, line in enumerate(lines, 1)),
            }
            for path, lines in self.files.items()
        ]


def check_skill_line(skill: SkillUnderTest, cited: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Check one cited skill line (see the module docstring).

    Returns:
        ``(line, None)`` with ``{"file", "line", "text"}`` where ``text`` is the whole line as it is
        in the skill (the number corrected when the text was on another line), or ``(None, problem)``.
    """
    file, number, text = str(cited.get("file", "")), cited.get("line"), normalize_whitespace(str(cited.get("text", "")))
    lines = skill.files.get(file)
    if lines is None:
        known = ", ".join(skill.files) or "none"
        return None, f"skill line {file}:{number}: no file {file!r} in the skill (files: {known})"
    if len(text) < MIN_CITED_CHARS:
        return None, f"skill line {file}:{number}: the cited text {text!r} is too short to check"
    if isinstance(number, int) and 1 <= number <= len(lines) and text in normalize_whitespace(lines[number - 1]):
        return {"file": file, "line": number, "text": lines[number - 1]}, None
    found = [index for index, line in enumerate(lines, 1) if text in normalize_whitespace(line)]
    if len(found) == 1:
        return {"file": file, "line": found[0], "text": lines[found[0] - 1]}, None
    if not isinstance(number, int) or not 1 <= number <= len(lines):
        return None, f"skill line {file}:{number}: {file} has lines 1-{len(lines)}"
    where = f"found on {len(found)} lines" if found else "not found in the file"
    return None, f"skill line {file}:{number}: the cited text is not on that line ({where}): {text[:80]!r}"


def check_skill_lines(skill: SkillUnderTest, cited: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Check every cited skill line; returns the lines that hold (one per file and line) and the problems."""
    held: dict[tuple[str, int], dict[str, Any]] = {}
    problems = []
    for item in cited:
        line, problem = check_skill_line(skill, item)
        if line is not None:
            held.setdefault((line["file"], line["line"]), line)
        if problem is not None:
            problems.append(problem)
    return list(held.values()), problems


def check_step(trajectory: Trajectory, step_id: Any, quote: str) -> tuple[dict[str, Any] | None, str | None]:
    """Check a cited step and its quote (see the module docstring).

    Returns:
        ``({"step_id", "quote"}, None)`` with the quote as the step has it (and the step moved when
        the quote is in exactly one other step), or ``(None, problem)``.
    """
    step = trajectory.step(step_id) if isinstance(step_id, int) else None
    if step is None:
        return None, f"step {step_id}: {trajectory.session_id} has no such step (steps 1-{len(trajectory.steps)})"
    if len(normalize_whitespace(quote)) < MIN_CITED_CHARS:
        return None, f"step {step_id}: the quote {quote!r} is too short to check"
    snapped = snap_quote(quote, step.text())
    if snapped:
        return {"step_id": step.step_id, "quote": snapped}, None
    needle = normalize_whitespace(quote)
    others = [s for s in trajectory.steps if s is not step]
    elsewhere = [(s, needle) for s in others if needle in normalize_whitespace(s.text())]
    if not elsewhere:
        elsewhere = [(s, found) for s in others if (found := snap_quote(quote, s.text()))]
    if len(elsewhere) == 1:
        return {"step_id": elsewhere[0][0].step_id, "quote": elsewhere[0][1]}, None
    return None, f"step {step_id}: quote not found in the step: {needle[:80]!r}"
