"""``skillforge blame``: each line of a stored skill file → the lessons behind it → the
trajectories and steps those lessons cite.

Reads the provenance committed with the version (:mod:`skillforge.provenance`); nothing is
recomputed, so the answer is the one recorded when the version was stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skillforge.errors import SkillforgeError
from skillforge.store.git_store import SkillStore
from skillforge.store.version_info import VersionInfo


@dataclass
class Citation:
    """One trajectory a lesson cites: ``session_id`` and the ``step_ids`` in it."""

    session_id: str
    step_ids: list[int]


@dataclass
class BlameLine:
    """One line of the file and where it comes from.

    Attributes:
        number: 1-based line number.
        text: the line (without its newline).
        lesson_ids: lessons of the provenance spans covering the line (empty: no lesson, e.g.
            frontmatter, headings, template text).
        citations: trajectories and steps cited by those lessons, merged per session, in order.
        support: the largest ``support`` (distinct trajectories) of the covering spans, 0 if none.
    """

    number: int
    text: str
    lesson_ids: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    support: int = 0


@dataclass
class Blame:
    """The result of :func:`blame`: the version, the file, its lines, and lesson titles by id."""

    version: VersionInfo
    file: str
    lines: list[BlameLine]
    titles: dict[str, str]

    @property
    def traced(self) -> int:
        """Number of lines backed by at least one lesson."""
        return sum(1 for line in self.lines if line.lesson_ids)


def blame(store: SkillStore, name: str, version: int | None = None, file: str = "SKILL.md") -> Blame:
    """Trace every line of ``file`` in a stored version back to lessons and trajectory steps.

    Args:
        store: the skill store.
        name: skill name.
        version: version number; the latest when None.
        file: path inside the skill folder (``SKILL.md``, ``references/pitfalls.md``…).

    Returns:
        A :class:`Blame` with one :class:`BlameLine` per line of the file.

    Raises:
        SkillforgeError: unknown skill, version or file, or the version has no provenance
            recorded (stored without it, e.g. by a pipeline that did not produce one).
    """
    info = store.version(name, version)
    text = store.read_file(name, info.version, file)
    provenance = store.provenance(name, info.version)
    if provenance is None:
        raise SkillforgeError(
            f"{name} v{info.version} has no provenance recorded, so its lines cannot be traced to lessons "
            f"(`skillforge show {name}@v{info.version}` still shows the text)"
        )
    lessons = provenance.lessons
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        spans = provenance.spans_for(file, number)
        lesson_ids = list(dict.fromkeys(lesson for span in spans for lesson in span.lesson_ids))
        lines.append(
            BlameLine(
                number=number,
                text=line,
                lesson_ids=lesson_ids,
                citations=_citations(lesson_ids, lessons),
                support=max((span.support for span in spans), default=0),
            )
        )
    titles = {lesson_id: str(data.get("title", "")) for lesson_id, data in lessons.items()}
    return Blame(info, file, lines, titles)


def _citations(lesson_ids: list[str], lessons: dict[str, dict]) -> list[Citation]:
    steps: dict[str, list[int]] = {}
    for lesson_id in lesson_ids:
        for evidence in lessons.get(lesson_id, {}).get("evidence", []):
            session = str(evidence.get("session_id", ""))
            known = steps.setdefault(session, [])
            known.extend(step for step in evidence.get("step_ids", []) if step not in known)
    return [Citation(session, sorted(step_ids)) for session, step_ids in steps.items()]
