"""The run folder ``.skillforge/runs/<run-id>/``: what one ``distill`` run read, did and produced (DESIGN §4).

One folder per run, shared by every stage. Files of the analysis:

* ``manifest.json`` — inputs and their sha256, options, model, prompt template hashes, status,
  counts, tokens, calls, cost (USD) and timings (seconds); rewritten as the run goes;
* ``trajectories.jsonl`` — the trajectories analysed, one ``Trajectory.to_dict()`` per line
  (outcomes judged by a model are written back with ``origin: judge``);
* ``passes.jsonl`` — the journal: one line per finished analyst pass (its lessons, counts, tokens
  and cost), appended and flushed as each pass ends, so a run interrupted by Ctrl-C or a kill
  resumes without repeating a finished pass (a torn last line is ignored);
* ``lessons.jsonl`` — the lessons kept, one per line, in the shape of ``schemas/lesson.schema.json``.

Files of the consolidation (:mod:`skillforge.distill.build`), each a *saved step* written as soon as the step
finishes (:meth:`RunFolder.save_step`) and keyed by what produced it (:func:`skillforge.llm.steps.digest` of the model, the
prompt template's hash and the inputs), so a resumed run reuses it instead of calling again:

* ``start/`` — the frozen start version (:mod:`skillforge.distill.start`);
* ``patches/patch_NNNN.json`` — one proposal per batch of lessons;
* ``merge_level_N/node_NNNN.json`` (+ ``level.json``) — every merge of every level;
* ``final_patch.json``, ``translate.json``, ``fix_round_N.json``;
* ``skill/<name>/`` (the staged skill), ``provenance.json``, ``validation.json`` and
  ``consolidation.json`` (the report ``skillforge report`` shows).

Whole-file writes go to a temporary file that is then renamed, so a killed run never leaves a
half-written file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from skillforge.errors import SkillforgeError
from skillforge.fsutil import write_atomic
from skillforge.lesson import Lesson
from skillforge.trajectory import Trajectory, read_trajectories

RUNS_DIR = "runs"
"""The folder of runs under the workspace (``.skillforge/runs``), unless configured elsewhere."""
FINISHED = ("done", "nothing-new", "invalid", "rejected")
"""Manifest statuses of a run that finished (anything else can be resumed)."""
MANIFEST = "manifest.json"
TRAJECTORIES = "trajectories.jsonl"
PASSES = "passes.jsonl"
LESSONS = "lessons.jsonl"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: ``YYYYmmdd-HHMMSS-<6 hex>`` (UTC)."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class RunFolder:
    """One run's folder. Create with :meth:`create`, reopen with :meth:`open`.

    Attributes:
        root: the folder (``<runs>/<run_id>``; ``<runs>`` is ``.skillforge/runs`` unless
            ``--runs``, ``SKILLFORGE_RUNS`` or ``skillforge.toml`` say otherwise).
        run_id: its name.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.run_id = self.root.name

    @classmethod
    def create(cls, runs: Path, run_id: str | None = None) -> RunFolder:
        """Make a new, empty run folder in the folder of runs ``runs``.

        Raises:
            SkillforgeError: the folder cannot be created (or already exists).
        """
        root = Path(runs) / (run_id or new_run_id())
        try:
            root.mkdir(parents=True, exist_ok=False)
        except OSError as exc:
            raise SkillforgeError(f"cannot create run folder {root}: {exc.strerror or exc}") from exc
        return cls(root)

    @classmethod
    def find(cls, runs: Path, run: str, *, also: tuple[str, ...] = (), unfinished: bool = False) -> RunFolder:
        """The run ``run`` (an id under ``runs``, a folder path, or ``latest``) holding a manifest
        (or, for a folder that has none, one of the files named in ``also``).

        ``latest`` is the newest run, or with ``unfinished`` the newest one that did not finish
        (its status is not one of :data:`FINISHED`): the one ``--resume latest`` means.

        Raises:
            SkillforgeError: no such run (one line: "no runs in …", "no unfinished run in …").
        """
        runs = Path(runs)
        if run == "latest":
            candidates = sorted(p for p in runs.glob("*") if (p / MANIFEST).is_file()) if runs.is_dir() else []
            if not candidates:
                raise SkillforgeError(f"no runs in {runs}")
            if unfinished:
                candidates = [p for p in candidates if _status(p) not in FINISHED]
                if not candidates:
                    raise SkillforgeError(f"no unfinished run in {runs}: every run there has finished")
            root = candidates[-1]
        else:
            root = Path(run) if Path(run).is_dir() else runs / run
        if not any((root / name).is_file() for name in (MANIFEST, *also)):
            known = ", ".join(sorted(p.name for p in runs.glob("*"))[-5:]) if runs.is_dir() else ""
            raise SkillforgeError(f"no run {run!r} in {runs}" + (f" (recent: {known})" if known else ""))
        return cls(root)

    # manifest -------------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any]:
        """The manifest as a dict.

        Raises:
            SkillforgeError: it is missing or not valid JSON.
        """
        try:
            return orjson.loads((self.root / MANIFEST).read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise SkillforgeError(f"{self.root / MANIFEST}: cannot read the run manifest ({exc})") from exc

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest (atomically), stamping ``updated`` (ISO-8601 UTC)."""
        manifest["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._write(MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))

    # trajectories ---------------------------------------------------------------------------

    def write_trajectories(self, trajectories: Iterable[Trajectory]) -> None:
        """Replace ``trajectories.jsonl`` with these trajectories."""
        self._write(TRAJECTORIES, b"".join(orjson.dumps(t.to_dict()) + b"\n" for t in trajectories))

    def read_trajectories(self) -> list[Trajectory]:
        """The trajectories of ``trajectories.jsonl``, in order.

        Raises:
            SkillforgeError: the file is missing or a line is not a trajectory.
        """
        try:
            return read_trajectories(self.root / TRAJECTORIES)
        except SkillforgeError as exc:
            raise SkillforgeError(f"{exc}; the run cannot be resumed") from exc

    # journal of finished passes -------------------------------------------------------------

    def append_pass(self, record: dict[str, Any]) -> None:
        """Append one finished pass to ``passes.jsonl`` and push it to disk (flush + fsync)."""
        with open(self.root / PASSES, "ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read_passes(self) -> dict[str, dict[str, Any]]:
        """Finished passes by ``pass_id`` (a later line wins); unparseable lines (a torn write) are skipped."""
        path = self.root / PASSES
        if not path.is_file():
            return {}
        passes: dict[str, dict[str, Any]] = {}
        for line in path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and "pass_id" in record:
                passes[record["pass_id"]] = record
        return passes

    # lessons --------------------------------------------------------------------------------

    def write_lessons(self, lessons: Iterable[Lesson]) -> None:
        """Replace ``lessons.jsonl`` with these lessons."""
        self._write(LESSONS, b"".join(orjson.dumps(lesson.to_dict()) + b"\n" for lesson in lessons))

    def read_lessons(self) -> list[Lesson]:
        """The lessons of ``lessons.jsonl`` (validated against the lesson schema)."""
        path = self.root / LESSONS
        if not path.is_file():
            return []
        return [Lesson.from_dict(orjson.loads(line)) for line in path.read_bytes().splitlines() if line.strip()]

    # saved steps of the consolidation ------------------------------------------------------

    def load_step(self, relative: str, key: str) -> dict[str, Any] | None:
        """The saved step at ``relative`` when it exists, parses, finished (``status`` is not
        ``failed``) and has ``key``; else None (a stale or broken file is simply redone)."""
        try:
            data = orjson.loads((self.root / relative).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or data.get("status") == "failed":
            return None
        return data

    def finished_steps(self, pattern: str) -> int:
        """How many saved steps matching the glob ``pattern`` finished (``status`` ``done``)."""
        count = 0
        for path in self.root.glob(pattern):
            try:
                count += orjson.loads(path.read_bytes()).get("status") == "done"
            except (OSError, orjson.JSONDecodeError, AttributeError):
                continue
        return count

    def save_step(self, relative: str, data: dict[str, Any]) -> Path:
        """Write ``data`` as indented JSON to ``relative`` (folders created) atomically; return the path."""
        return self.write_bytes(relative, orjson.dumps(data, option=orjson.OPT_INDENT_2))

    def write_bytes(self, relative: str, data: bytes) -> Path:
        """Write ``data`` to ``relative`` under the run folder atomically (temporary file, then rename)."""
        return write_atomic(self.root / relative, data)

    def _write(self, name: str, data: bytes) -> None:
        self.write_bytes(name, data)


def _status(root: Path) -> str:
    """The ``status`` in a run folder's manifest ('' when it cannot be read)."""
    try:
        manifest = orjson.loads((root / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return ""
    return str(manifest.get("status", "")) if isinstance(manifest, dict) else ""
