"""One JSON-able model of the HTML report page, from a run folder or from a stored version.

:func:`run_report_model` reads ``.skillforge/runs/<id>/`` (DESIGN §4): the staged skill
(``skill/<name>/``), the frozen start version (``start/``), ``provenance.json``, ``lessons.jsonl``,
``trajectories.jsonl`` and what :func:`skillforge.report.run.run_model` reads.
:func:`version_report_model` reads a version from the store (:class:`SkillStore`: its files and the
provenance committed with it, the lines → lessons → steps map ``skillforge blame`` uses) and, when
the run that made it is still in the folder of runs, that run's trajectories, lessons and figures.

Eval results are shown when ``<store>/.eval/<name>/v<N>.json`` exists (written by
``skillforge/eval/``); the page shows nothing for them otherwise.

Bad input never stops the report: a line of ``trajectories.jsonl`` or ``lessons.jsonl`` that
cannot be read is named (file and line) in ``notes`` and skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from skillforge import __version__
from skillforge.distill.runfolder import LESSONS, TRAJECTORIES, RunFolder
from skillforge.provenance import Provenance
from skillforge.report.evidence import cited_sessions, compact_trajectory, lesson_entries, share_texts
from skillforge.report.run import run_model
from skillforge.report.skill import skill_model
from skillforge.store.git_store import SkillStore
from skillforge.trajectory import Trajectory

EVAL_DIR = ".eval"
"""Folder of the store where ``skillforge/eval/`` writes ``<name>/v<N>.json``."""


def run_report_model(run_dir: Path) -> dict[str, Any]:
    """The page model of one run.

    Args:
        run_dir: the run folder (``.skillforge/runs/<id>``).

    Returns:
        ``{"kind": "run", "title", "generated", "skillforge", "skill", "lessons", "trajectories",
        "texts", "run", "version", "eval", "notes"}``: ``skill`` is
        :func:`skillforge.report.skill.skill_model`'s dict plus ``name``, ``version``, ``start``
        (``{"mode", "label"}``) and ``behind`` (``{"lessons", "trajectories"}`` behind its items),
        or None when the run stopped before the skill was built; ``lessons`` is
        :func:`~skillforge.report.evidence.lesson_entries`' dict; ``trajectories`` the cited ones,
        compact (:func:`~skillforge.report.evidence.compact_trajectory`), their repeated long texts
        in ``texts`` (:func:`~skillforge.report.evidence.share_texts`); ``run`` is
        :func:`skillforge.report.run.run_model`'s dict; ``eval`` ``{"path", "data"}`` or None;
        ``notes`` what could not be read, by file and line.

    Raises:
        SkillforgeError: the folder is not a run folder (no manifest, no consolidation report).
    """
    run = RunFolder(Path(run_dir).resolve())
    notes: list[str] = []
    run_part = run_model(run)
    notes += run_part["notes"]
    manifest = _json(run.root / "manifest.json") or {}
    name = str((manifest.get("options") or {}).get("skill_name") or _only_folder(run.root / "skill") or "")
    provenance = _provenance(run.root / "provenance.json", notes)
    skill = None
    folder = run.root / "skill" / name
    if name and folder.is_dir():
        start_files, start_label = _run_start(run, name)
        skill = skill_model(_folder_files(folder, notes), start_files, provenance.spans if provenance else [])
        skill.update(name=name, version=(provenance.version if provenance else None), start=start_label)
    else:
        notes.append("the run stopped before the skill was built: no skill to show")
    trajectories = _read_trajectories(run.root / TRAJECTORIES, notes)
    lessons = {**(provenance.lessons if provenance else {}), **_read_lessons(run.root / LESSONS, notes)}
    stored = manifest.get("version") or {}
    evaluation = None
    if stored.get("name") and stored.get("version"):
        store_dir = _store_dir(run, str((manifest.get("options") or {}).get("store_dir") or "skills"))
        evaluation = _eval(store_dir, stored["name"], int(stored["version"]), notes) if store_dir else None
    title = f"{name or 'skill'} — run {run_part['id']}"
    return _page("run", title, skill, lessons, trajectories, run_part, None, evaluation, notes, base=_started_in(run))


def version_report_model(
    store_dir: Path, name: str, version: int | None = None, runs: Path | None = None
) -> dict[str, Any]:
    """The page model of one stored version.

    Args:
        store_dir: the skill store.
        name: the skill.
        version: the version number; None for the latest.
        runs: the folder of run folders (``.skillforge/runs``); the run that made the version
            (its id is in the version's commit info) gives the trajectories, lessons and figures.
            None, or a run no longer there: the page shows the citations without the steps.

    Returns:
        As :func:`run_report_model`, with ``kind`` ``version`` and ``version`` the version's
        ``{"name", "version", "tag", "commit", "date", "info"}``.

    Raises:
        SkillforgeError: unknown store, skill or version.
    """
    store = SkillStore(Path(store_dir))
    info = store.version(name, version)
    notes: list[str] = []
    files = {}
    for path in store.files(name, info.version):
        text = store.read_file(name, info.version, path)
        if "\0" in text:
            notes.append(f"{name}/{path}: not a text file; not shown")
            continue
        files[path] = text
    provenance = store.provenance(name, info.version)
    if provenance is None:
        notes.append(f"{name} v{info.version} has no provenance recorded: its lines cannot be traced to lessons")
    made_by = _version_runs(store, name, info.version, runs, notes)
    run = made_by.get(str(info.info.get("run") or ""))
    start_files, start_label = (None, {"mode": "none", "label": "nothing (every line counts as added)"})
    if run is not None and (run.root / "start" / name).is_dir():
        start_files, start_label = _run_start(run, name)
    elif info.version > 1 and any(v.version < info.version for v in store.versions(name)):
        previous = [v for v in store.versions(name) if v.version < info.version][-1]
        start_files = {
            path: store.read_file(name, previous.version, path) for path in store.files(name, previous.version)
        }
        start_label = {"mode": "store", "label": f"the stored {name} v{previous.version}"}
    skill = skill_model(files, start_files, provenance.spans if provenance else [])
    skill.update(name=name, version=info.version, start=start_label)
    lessons: dict[str, dict[str, Any]] = dict(provenance.lessons) if provenance else {}
    trajectories: dict[str, Trajectory] = {}
    for folder in made_by.values():  # oldest first: a later run's copy of a trajectory wins
        trajectories.update(_read_trajectories(folder.root / TRAJECTORIES, notes))
        recorded = _read_lessons(folder.root / LESSONS, notes)
        lessons.update({key: value for key, value in recorded.items() if key in lessons or folder is run})
    run_part = None
    if run is not None:
        run_part = run_model(run)
        notes += run_part["notes"]
    version_part = {
        "name": info.name,
        "version": info.version,
        "tag": info.tag,
        "commit": info.commit,
        "date": info.date,
        "info": info.info,
    }
    evaluation = _eval(Path(store_dir), name, info.version, notes)
    base = _started_from(Path(runs)) if runs is not None else None
    return _page(
        "version",
        f"{name} v{info.version}",
        skill,
        lessons,
        trajectories,
        run_part,
        version_part,
        evaluation,
        notes,
        base=base,
    )


def _version_runs(
    store: SkillStore, name: str, version: int, runs: Path | None, notes: list[str]
) -> dict[str, RunFolder]:
    """The run folders of the versions up to ``version`` (oldest first) still in ``runs``: a
    deepened version keeps items whose lessons cite the trajectories of earlier runs."""
    found: dict[str, RunFolder] = {}
    for stored in store.versions(name):
        run_id = str(stored.info.get("run") or "")
        if stored.version > version or not run_id or run_id in found:
            continue
        folder = Path(runs) / run_id if runs is not None else None
        if folder is not None and folder.is_dir():
            found[run_id] = RunFolder(folder)
        else:
            where = f"not in {runs}" if runs is not None else "not looked for (no folder of runs given)"
            notes.append(
                f"the run {run_id} that made v{stored.version} is {where}: "
                "its citations are shown without their trajectory steps"
            )
    return found


def _page(
    kind, title, skill, lessons, trajectories, run_part, version_part, evaluation, notes, *, base: Path | None
) -> dict[str, Any]:
    entries = lesson_entries(lessons, trajectories)
    embedded = {
        session: compact_trajectory(trajectories[session], base)
        for session in sorted(cited_sessions(entries))
        if session in trajectories
    }
    texts = share_texts(embedded)  # long texts repeated across trajectories, stored once
    if skill is not None:
        behind = {lesson for item in skill["items"] for lesson in item["lessons"] if lesson in entries}
        sessions = {e["session"] for lesson in behind for e in entries[lesson]["evidence"]}
        skill["behind"] = {"lessons": len(behind), "trajectories": len(sessions)}
    return {
        "kind": kind,
        "title": title,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "skillforge": __version__,
        "skill": skill,
        "lessons": entries,
        "trajectories": embedded,
        "texts": texts,
        "run": run_part,
        "version": version_part,
        "eval": evaluation,
        "notes": notes,
    }


def _run_start(run: RunFolder, name: str) -> tuple[dict[str, str] | None, dict[str, str]]:
    """The frozen start version of ``run`` (files, label), or ``(None, label)`` when it was not frozen."""
    record = _json(run.root / "start" / "start.json") or {}
    folder = run.root / "start" / name
    if not folder.is_dir():
        return None, {"mode": "none", "label": "nothing (the run froze no start version)"}
    mode, source = str(record.get("mode", "?")), str(record.get("source", ""))
    label = "a new seed" if mode == "seed" else f"{mode} {source}".strip()
    return _folder_files(folder, []), {"mode": mode, "label": label}


def _folder_files(folder: Path, notes: list[str]) -> dict[str, str]:
    """Text files of a skill folder by relative path, ``SKILL.md`` first."""
    files = {}
    for path in sorted(
        (p for p in folder.rglob("*") if p.is_file()),
        key=lambda p: (p.relative_to(folder).as_posix() != "SKILL.md", p.relative_to(folder).as_posix()),
    ):
        relative = path.relative_to(folder).as_posix()
        try:
            files[relative] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            notes.append(f"{path}: not a UTF-8 text file; not shown")
    return files


def _read_trajectories(path: Path, notes: list[str]) -> dict[str, Trajectory]:
    out: dict[str, Trajectory] = {}
    for number, record in _jsonl(path, notes):
        try:
            trajectory = Trajectory.from_dict(record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            notes.append(f"{path}:{number}: not a trajectory ({exc}); skipped")
            continue
        out[trajectory.session_id] = trajectory
    return out


def _read_lessons(path: Path, notes: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for number, record in _jsonl(path, notes):
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("id"), str)
            or not isinstance(record.get("evidence"), list)
        ):
            notes.append(f"{path}:{number}: not a lesson; skipped")
            continue
        out[record["id"]] = record
    return out


def _jsonl(path: Path, notes: list[str]):
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return
    except OSError as exc:
        notes.append(f"{path}: cannot be read ({exc.strerror or exc})")
        return
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            notes.append(f"{path}:{number}: not JSON ({exc}); skipped")


def _provenance(path: Path, notes: list[str]) -> Provenance | None:
    try:
        return Provenance.from_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        notes.append(f"{path}: not a readable provenance file ({exc}); items are shown without evidence")
        return None


def _eval(store_dir: Path, name: str, version: int, notes: list[str]) -> dict[str, Any] | None:
    """The eval results of ``name`` v``version`` (``<store>/.eval/<name>/v<N>.json``), or None."""
    path = Path(store_dir) / EVAL_DIR / name / f"v{version}.json"
    if not path.is_file():
        return None
    data = _json(path)
    if data is None:
        notes.append(f"{path}: not readable JSON; eval results not shown")
        return None
    return {"path": str(path), "data": data}


def _store_dir(run: RunFolder, store_dir: str) -> Path | None:
    """The store a run wrote to: its ``store_dir`` option, absolute or relative to the folder the
    run was started in (the workspace's parent; else the current folder)."""
    candidates = (
        [Path(store_dir)] if Path(store_dir).is_absolute() else [_started_in(run) / store_dir, Path.cwd() / store_dir]
    )
    return next((c for c in candidates if c.is_dir()), None)


def _started_from(runs: Path) -> Path:
    """The folder ``distill`` ran in, for a folder of runs: ``<here>/.skillforge/runs`` gives
    ``<here>``; a folder of runs placed elsewhere (``--runs``) gives the current folder."""
    runs = runs.resolve()
    return runs.parent.parent if runs.name == "runs" and runs.parent.name == ".skillforge" else Path.cwd()


def _started_in(run: RunFolder) -> Path:
    """The folder ``distill`` ran in: the parent of the workspace holding ``runs/<id>``."""
    parents = run.root.parents
    return parents[2] if len(parents) > 2 else run.root.parent


def _only_folder(folder: Path) -> str | None:
    names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    return names[0] if len(names) == 1 else None


def _json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
