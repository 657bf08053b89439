"""The start version of a build: the skill every proposal edits, frozen for the whole run.

Trace2Skill proposes every patch against the same frozen snapshot of the skill (DESIGN §2), so
proposals are independent and can run in parallel. Three ways to start:

* :func:`seed_start` — creating: a seed skill rendered from ``templates/skill/seed.md.j2`` (name,
  description, a "When to use" paragraph and one-line ``## Procedure`` / ``## Pitfalls`` sections
  that edits fill; the validator forbids empty sections, so the seed sections hold one sentence
  and are pruned after the build when no edit landed in them);
* :func:`folder_start` — deepening any skill folder (``--from PATH``, e.g. one a person wrote);
* :func:`store_start` — deepening the latest (or a given) version in the store, with its provenance.

The snapshot is copied to ``<run>/start/<name>/`` with ``start.json`` beside it; a resumed run
reuses it (:func:`saved_start`). The evidence table skillforge generated for an earlier version is
removed from the snapshot (it is regenerated from provenance at the end of the build).

:func:`check_skill_name` checks a name against the validator's name rules (the frontmatter schema
and the reserved words) so that ``distill`` can refuse a bad name before any analysis.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from skillforge import __version__
from skillforge.distill.runfolder import RunFolder
from skillforge.errors import SkillforgeError
from skillforge.provenance import Provenance
from skillforge.skill.document import SKILL_MD, SkillDoc
from skillforge.skill.evidence_table import remove_evidence
from skillforge.skill.frontmatter import name_problems, parse_frontmatter
from skillforge.skill.templates import describe_skill, template_environment, when_to_use_text
from skillforge.store.git_store import SkillStore

START_DIR = "start"
SEED_SECTIONS = ("## Procedure", "## Pitfalls")
"""Seed headings edits fill; pruned after the build when no edit landed in them."""


@dataclass
class StartVersion:
    """A frozen start version.

    Attributes:
        name: the skill name (frontmatter ``name``; never changed by the build).
        folder: the frozen snapshot, ``<run_dir>/start/<name>/``.
        mode: ``seed`` (creating), ``folder`` (``--from PATH``) or ``store`` (latest store version).
        source: where it came from (``seed``, a path, or ``<store>:<name>@v<N>``).
        seed_sections: headings of the seed that are pruned when no edit lands in them.
        provenance: provenance of the start version (store mode), spans relative to the snapshot.
    """

    name: str
    folder: Path
    mode: str
    source: str
    seed_sections: list[str] = field(default_factory=list)
    provenance: Provenance | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the provenance is saved separately)."""
        return {"name": self.name, "mode": self.mode, "source": self.source, "seed_sections": self.seed_sections}

    def digest(self) -> str:
        """sha256 (hex) of the snapshot's files (paths and bytes): the id proposals are keyed on."""
        hasher = hashlib.sha256()
        for path in sorted(p for p in Path(self.folder).rglob("*") if p.is_file()):
            hasher.update(path.relative_to(self.folder).as_posix().encode() + b"\0" + path.read_bytes())
        return hasher.hexdigest()

    @property
    def lesson_ids(self) -> set[str]:
        """Lessons the start version already weighed (from its provenance; empty without one): those
        behind its lines and those its builds dropped by a rule."""
        if self.provenance is None:
            return set()
        return {i for span in self.provenance.spans for i in span.lesson_ids} | set(self.provenance.dropped)


def check_skill_name(name: str) -> None:
    """Refuse a skill name the validator would reject (:func:`skillforge.skill.frontmatter.name_problems`).

    Raises:
        SkillforgeError: one line saying what is wrong and suggesting ``--skill``.
    """
    problems = name_problems(name)
    if problems:
        raise SkillforgeError(
            f"skill name {name!r} is not valid: {'; '.join(problems)}; choose a name with --skill NAME"
        )


def folder_skill_name(path: Path) -> str:
    """The name of the skill folder at ``path`` (a folder or its SKILL.md): its frontmatter ``name``,
    else the folder's name.

    Raises:
        SkillforgeError: no SKILL.md, or its frontmatter is not readable.
    """
    path = Path(path)
    folder = path.parent if path.name == SKILL_MD else path
    skill_md = folder / SKILL_MD
    if not skill_md.is_file():
        raise SkillforgeError(f"{path}: not a skill folder (no SKILL.md)")
    try:
        frontmatter, _ = parse_frontmatter(skill_md.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SkillforgeError(f"{skill_md}: frontmatter is not readable: {str(exc).splitlines()[0]}") from exc
    return str((frontmatter or {}).get("name") or folder.resolve().name)


def saved_start(run: RunFolder) -> StartVersion | None:
    """The start version frozen earlier in ``run`` (a resumed run), or None when there is none yet."""
    record = run.root / START_DIR / "start.json"
    if not record.is_file():
        return None
    saved = orjson.loads(record.read_bytes())
    provenance = run.root / START_DIR / "provenance.json"
    return StartVersion(
        name=saved["name"],
        folder=run.root / START_DIR / saved["name"],
        mode=saved["mode"],
        source=saved["source"],
        seed_sections=list(saved.get("seed_sections", [])),
        provenance=Provenance.from_json(provenance.read_bytes()) if provenance.is_file() else None,
    )


def seed_start(
    run: RunFolder,
    name: str,
    *,
    description: str = "",
    tools: list[str] | None = None,
    trajectory_count: int = 0,
    formats: list[str] | None = None,
) -> StartVersion:
    """Render the seed skill and freeze it.

    Args:
        run: the run folder.
        name: skill name (kebab-case, at most 64 characters).
        description: frontmatter description; derived from ``tools`` and the counts when empty.
        tools: tool names, most used first (named in the description and "When to use").
        trajectory_count, formats: what the lessons come from (named in the intro).

    Raises:
        SkillforgeError: invalid name, or the run folder holds a different start version.
    """
    check_skill_name(name)
    tools = list(tools or [])
    formats = list(formats or [])
    metadata = {"version": "1", "generator": f"skillforge {__version__}"}
    frontmatter = {
        "name": name,
        "description": re.sub(r"[<>]", "", description)[:1024] or describe_skill(tools, trajectory_count, formats),
        "metadata": metadata,
    }
    source_text = (
        f"{trajectory_count} agent trajectories ({', '.join(formats)})" if trajectory_count else "agent trajectories"
    )
    text = (
        template_environment()
        .get_template("skill/seed.md.j2")
        .render(
            frontmatter=yaml.safe_dump(frontmatter, sort_keys=False, allow_unicode=True, width=100000).strip(),
            title=name.replace("-", " ").title(),
            intro=f"Distilled by skillforge from {source_text}. "
            "Each item cites the runs it comes from; the most widely supported come first.",
            when_to_use=when_to_use_text(tools),
        )
    )

    def write(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / SKILL_MD).write_text(text, encoding="utf-8")

    return _freeze(run, name, "seed", "seed", write, list(SEED_SECTIONS), None)


def folder_start(run: RunFolder, path: Path) -> StartVersion:
    """Freeze an existing skill folder (``--from PATH``).

    Raises:
        SkillforgeError: no SKILL.md, unreadable frontmatter, an invalid ``name``, or the run
            folder holds a different start version.
    """
    path = Path(path)
    folder = path.parent if path.name == SKILL_MD else path
    name = folder_skill_name(folder)
    check_skill_name(name)

    def write(target: Path) -> None:
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))

    return _freeze(run, name, "folder", str(folder.resolve()), write, [], None)


def store_start(run: RunFolder, store: SkillStore, name: str, version: int | None = None) -> StartVersion:
    """Freeze a version of ``name`` from the store (the latest when ``version`` is None), with its provenance.

    Raises:
        SkillforgeError: unknown skill or version, or the run folder holds a different start version.
    """
    info = store.version(name, version)
    provenance = store.provenance(name, info.version)

    def write(target: Path) -> None:
        scratch = target.parent / ".materialize"
        shutil.rmtree(scratch, ignore_errors=True)
        store.materialize(name, info.version, scratch)
        (scratch / name).rename(target)
        shutil.rmtree(scratch, ignore_errors=True)

    return _freeze(run, name, "store", f"{store.root}:{name}@v{info.version}", write, [], provenance)


def _freeze(
    run: RunFolder, name: str, mode: str, source: str, write, seed_sections: list[str], provenance: Provenance | None
) -> StartVersion:
    saved = saved_start(run)
    if saved is not None:
        if (saved.name, saved.mode, saved.source) != (name, mode, source):
            raise SkillforgeError(
                f"{run.root} was started from {saved.mode} {saved.source!r} ({saved.name}); "
                f"it cannot resume from {mode} {source!r}: use a new run folder"
            )
        return saved
    base = run.root / START_DIR
    record = base / "start.json"
    folder = base / name
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    write(folder)
    doc = SkillDoc.load(folder, provenance)
    if remove_evidence(doc):
        shutil.rmtree(folder)
        doc.write(folder)
    start = StartVersion(name=name, folder=folder, mode=mode, source=source, seed_sections=seed_sections)
    if provenance is not None:
        start.provenance = Provenance(
            skill=name,
            version=provenance.version,
            spans=doc.spans(provenance.lessons),
            lessons=provenance.lessons,
            dropped=provenance.dropped,
        )
        (base / "provenance.json").write_bytes(start.provenance.to_json())
    record.write_bytes(orjson.dumps(start.to_dict(), option=orjson.OPT_INDENT_2))
    return start
