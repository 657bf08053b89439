"""A skill folder held as lines that remember the lessons behind them.

Every text file of the skill is a list of :class:`Line` objects. A line read from the start version
keeps its exact text (line ending included), so lines no edit touches are written back byte for
byte; a line an edit writes carries the edit's ``lesson_ids``. Provenance spans
(:class:`skillforge.provenance.Span`) are the runs of consecutive lines with the same lessons,
so they stay right however many edits, moves and fixes came after.

Sections follow Trace2Skill's applier (``run_apply_phase_programmatic`` in
Qwen-Applications/Trace2Skill): a section runs from its header to the next header of the same or
higher level. Headers inside fenced code blocks and the YAML frontmatter are not headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from skillforge.errors import SkillforgeError
from skillforge.provenance import Provenance, Span

SKILL_MD = "SKILL.md"

_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONTMATTER_END = re.compile(r"^---[ \t]*\r?\n?$")


@dataclass
class Line:
    """One line of a file.

    Attributes:
        text: the line with its ending (``\\n``, ``\\r\\n``, or none for a last line without one).
        lesson_ids: lessons behind the line (empty: text of the start version or written by code).
        origin: ``start`` (read from the start version), ``edit`` (written by a patch edit) or
            ``code`` (written by skillforge itself: separators, links, moved-section pointers).
    """

    text: str
    lesson_ids: tuple[str, ...] = ()
    origin: str = "start"

    @property
    def bare(self) -> str:
        """The text without its line ending."""
        return self.text.rstrip("\r\n")


@dataclass(frozen=True)
class Heading:
    """A markdown ATX heading: line index (0-based), level (1-6), the line as written and its title."""

    index: int
    level: int
    line: str
    title: str


@dataclass
class SkillDoc:
    """The files of a skill folder.

    Attributes:
        files: relative posix path → lines, for every UTF-8 text file.
        binary: relative posix path → bytes, for files that are not UTF-8 text (kept as they are).
    """

    files: dict[str, list[Line]] = field(default_factory=dict)
    binary: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path, provenance: Provenance | None = None) -> SkillDoc:
        """Read a skill folder; with ``provenance`` (of the version the folder holds), lines inside its
        spans get those spans' lesson ids back.

        Raises:
            SkillforgeError: when ``folder`` has no SKILL.md.
        """
        folder = Path(folder)
        if not (folder / SKILL_MD).is_file():
            raise SkillforgeError(f"{folder}: not a skill folder (no SKILL.md)")
        doc = cls()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = path.relative_to(folder).as_posix()
            if any(part.startswith(".") for part in PurePosixPath(relative).parts):
                continue
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                doc.binary[relative] = data
                continue
            doc.files[relative] = [Line(t) for t in text.splitlines(keepends=True)]
        if provenance is not None:
            for span in provenance.spans:
                lines = doc.files.get(span.file, [])
                for index in range(max(span.start - 1, 0), min(span.end, len(lines))):
                    lines[index].lesson_ids = tuple(span.lesson_ids)
        return doc

    def write(self, folder: Path) -> None:
        """Write every file under ``folder`` (created; files already there are overwritten)."""
        folder = Path(folder)
        for relative, lines in self.files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes("".join(line.text for line in lines).encode("utf-8"))
        for relative, data in self.binary.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def text(self, file: str) -> str:
        """The whole text of ``file`` (KeyError when absent)."""
        return "".join(line.text for line in self.files[file])

    def newline(self, file: str) -> str:
        """The line ending ``file`` uses (``\\r\\n`` when its first line ends so, else ``\\n``)."""
        lines = self.files.get(file) or []
        return "\r\n" if lines and lines[0].text.endswith("\r\n") else "\n"

    def body_start(self, file: str) -> int:
        """Index of the first line after the YAML frontmatter (0 for files without one)."""
        lines = self.files.get(file) or []
        if not lines or lines[0].bare.rstrip() != "---":
            return 0
        for index in range(1, len(lines)):
            if _FRONTMATTER_END.match(lines[index].text):
                return index + 1
        return 0

    def headings(self, file: str) -> list[Heading]:
        """The headings of ``file`` after its frontmatter, outside fenced code blocks."""
        found = []
        in_fence = False
        lines = self.files.get(file) or []
        for index in range(self.body_start(file), len(lines)):
            bare = lines[index].bare
            if _FENCE.match(bare):
                in_fence = not in_fence
                continue
            match = None if in_fence else _HEADING.match(bare)
            if match:
                found.append(Heading(index, len(match.group(1)), bare.rstrip(), match.group(2).strip()))
        return found

    def find_headings(self, file: str, target: str) -> list[Heading]:
        """Headings of ``file`` matching ``target`` exactly: the whole line (``## Pitfalls``) or, when
        ``target`` has no leading ``#``, the title (``Pitfalls``). Trailing blanks are ignored."""
        wanted = target.strip()
        if wanted.startswith("#"):
            return [h for h in self.headings(file) if h.line == wanted]
        return [h for h in self.headings(file) if h.title == wanted]

    def section_end(self, file: str, heading: Heading) -> int:
        """Index one past the section of ``heading``: the next heading of the same or higher level, or EOF."""
        for other in self.headings(file):
            if other.index > heading.index and other.level <= heading.level:
                return other.index
        return len(self.files[file])

    def own_body_end(self, file: str, heading: Heading) -> int:
        """Index one past the section's own text: its first sub-heading, or :meth:`section_end`."""
        end = self.section_end(file, heading)
        for other in self.headings(file):
            if heading.index < other.index < end:
                return other.index
        return end

    def section_of(self, file: str, index: int) -> str | None:
        """The heading line of the innermost section holding line ``index``, or None."""
        current = None
        for heading in self.headings(file):
            if heading.index > index:
                break
            current = heading.line
        return current

    def spans(self, lessons: Mapping[str, Any]) -> list[Span]:
        """Provenance spans: maximal runs of consecutive lines with the same non-empty lesson ids.

        Args:
            lessons: lesson id → lesson (:class:`skillforge.lesson.Lesson` or a provenance lesson
                dict with ``evidence``), used to count support (distinct trajectories).

        Returns:
            Spans with 1-based inclusive ``start``/``end``, in file then line order.
        """
        spans = []
        for file in sorted(self.files):
            lines = self.files[file]
            index = 0
            while index < len(lines):
                ids = lines[index].lesson_ids
                if not ids:
                    index += 1
                    continue
                end = index
                while end + 1 < len(lines) and lines[end + 1].lesson_ids == ids:
                    end += 1
                # a span does not end on blank lines
                last = end
                while last > index and not lines[last].bare.strip():
                    last -= 1
                spans.append(Span(file, index + 1, last + 1, list(ids), support_of(ids, lessons), self.section_of(file, index)))
                index = end + 1
        return spans


def support_of(lesson_ids, lessons: Mapping[str, Any]) -> int:
    """Distinct trajectories (evidence ``session_id``) behind ``lesson_ids``; unknown ids count nothing.

    ``lessons`` maps ids to :class:`skillforge.lesson.Lesson` objects or to provenance lesson dicts.
    """
    sessions = set()
    for lesson_id in lesson_ids:
        lesson = lessons.get(lesson_id)
        if lesson is None:
            continue
        evidence = lesson.get("evidence", []) if isinstance(lesson, dict) else lesson.evidence
        for item in evidence:
            sessions.add(item["session_id"] if isinstance(item, dict) else item.session_id)
    return len(sessions)


def provenance_lessons(lesson_ids, lessons: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``lessons`` map of a :class:`Provenance` for ``lesson_ids``: id → {title, kind, evidence}."""
    out = {}
    for lesson_id in sorted(set(lesson_ids)):
        lesson = lessons.get(lesson_id)
        if lesson is None:
            continue
        if isinstance(lesson, dict):
            out[lesson_id] = {k: lesson[k] for k in ("title", "kind", "evidence") if k in lesson}
        else:
            out[lesson_id] = {
                "title": lesson.title,
                "kind": lesson.kind,
                "evidence": [{"session_id": e.session_id, "step_ids": list(e.step_ids), "quote": e.quote} for e in lesson.evidence],
            }
    return out


def safe_relative_path(file: str) -> str | None:
    """``file`` normalised to a posix path inside the skill folder, or None when it is unsafe
    (empty, absolute, a drive or backslash path, ``..``, or a hidden component)."""
    if not file or "\\" in file or re.match(r"^[A-Za-z]:", file):
        return None
    path = PurePosixPath(file)
    if path.is_absolute() or any(part in ("..", "") or part.startswith(".") for part in path.parts):
        return None
    return path.as_posix()
