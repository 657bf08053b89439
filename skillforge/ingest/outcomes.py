"""Outcomes that do not come from the log itself: a labels file, and SWE-bench ``report.json``.

Order of precedence for one trajectory (the first that gives success or failure wins):

1. the log's own verdict, set by the format module (tau-bench ``reward``, tau2 ``reward_info``,
   Inspect ``scores``, an OpenHands eval ``error``, a mini-swe-agent exit status other than
   ``Submitted``…), origin ``log``;
2. a labels file given with ``--outcomes FILE``, origin ``labels``;
3. a SWE-bench harness ``report.json`` in the trajectory file's folder, origin ``labels``;
4. otherwise ``unknown``.

A labels entry that disagrees with the log's verdict is reported as a warning; the log is kept.

**Labels file** (:func:`load_labels`): CSV with a header row, or JSONL with one object per line.
The key column/field is one of ``session_id``, ``id``, ``instance_id``, ``task_id``, ``file``,
``path``; the label is one of ``outcome``, ``status``, ``label``, ``result``, ``success``,
``resolved``, ``reward``, ``score``. Labels: ``success``/``pass``/``passed``/``resolved``/
``true``/``yes``/``correct``/``1`` → success; ``failure``/``fail``/``failed``/``unresolved``/
``false``/``no``/``incorrect``/``0`` → failure; a number is a reward (success when ≥ 1.0, as in
tau-bench). A key matches a trajectory's ``session_id``, its ``task_id``, or its file (full path,
path as given, file name or file stem).

**report.json** (written by the SWE-bench evaluation harness): either ``{"<instance_id>":
{"resolved": bool, …}}``, the same object stored flat (``{"resolved": bool, …}``, as some
published result folders keep it), or a run summary with ``resolved_ids`` / ``unresolved_ids``.
It is matched on the trajectory's ``task_id`` (the SWE-bench instance id).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from skillforge.errors import SkillforgeError
from skillforge.trajectory import Outcome, Trajectory

KEY_FIELDS = ("session_id", "id", "instance_id", "task_id", "file", "path")
"""Column or field names that hold the key of a labels entry, in order of preference."""

LABEL_FIELDS = ("outcome", "status", "label", "result", "success", "resolved", "reward", "score")
"""Column or field names that hold the label, in order of preference."""

_SUCCESS = {"success", "succeeded", "pass", "passed", "resolved", "true", "yes", "correct", "c", "1", "ok"}
_FAILURE = {"failure", "failed", "fail", "unresolved", "false", "no", "incorrect", "i", "0", "error"}


SAMPLE_IDS = 3
"""How many ids of each side a warning about unmatched labels shows."""


@dataclass
class Labels:
    """Outcomes from a labels file, keyed by session id, task id or file."""

    source: str
    by_key: dict[str, Outcome] = field(default_factory=dict)

    def find(self, trajectory: Trajectory) -> Outcome | None:
        """The labelled outcome of ``trajectory``, or None."""
        path = Path(trajectory.source.path)
        candidates = [trajectory.session_id, trajectory.task_id, str(path), trajectory.source.path, path.name, path.stem]
        if path.name.endswith(".traj.json"):
            candidates.append(path.name[: -len(".traj.json")])
        try:
            candidates.append(str(path.resolve()))
        except OSError:
            pass
        for key in candidates:
            if key and key in self.by_key:
                return self.by_key[key]
        return None


def load_labels(path: Path) -> Labels:
    """Read a labels file (CSV or JSONL, see the module docstring).

    Raises:
        SkillforgeError: when the file cannot be read, has no key or label column, or holds a label
            that is neither success, failure nor a number (the message names the line).
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillforgeError(f"{path}: cannot read the outcomes file ({exc})") from exc
    rows = list(_rows(path, text))
    labels = Labels(str(path))
    for number, row in rows:
        key_field = next((f for f in KEY_FIELDS if row.get(f) not in (None, "")), None)
        label_field = next((f for f in LABEL_FIELDS if row.get(f) not in (None, "")), None)
        if key_field is None or label_field is None:
            raise SkillforgeError(
                f"{path}:{number}: needs a key ({', '.join(KEY_FIELDS)}) and a label ({', '.join(LABEL_FIELDS)})"
            )
        outcome = outcome_from_label(row[label_field], origin="labels", detail=f"{label_field}={row[label_field]} in {Path(path).name}")
        if outcome is None:
            raise SkillforgeError(f"{path}:{number}: label {row[label_field]!r} is not success, failure or a number")
        labels.by_key[str(row[key_field])] = outcome
    return labels


def outcome_from_label(value: Any, origin: str, detail: str) -> Outcome | None:
    """Turn a label (``"success"``, ``"FAIL"``, ``True``, ``0.5``…) into an Outcome, or None."""
    if isinstance(value, bool):
        return Outcome("success" if value else "failure", 1.0 if value else 0.0, origin, detail)  # type: ignore[arg-type]
    if isinstance(value, (int, float)):
        return Outcome("success" if value >= 1.0 else "failure", float(value), origin, detail)  # type: ignore[arg-type]
    text = str(value).strip().lower()
    if text in _SUCCESS:
        return Outcome("success", None, origin, detail)  # type: ignore[arg-type]
    if text in _FAILURE:
        return Outcome("failure", None, origin, detail)  # type: ignore[arg-type]
    try:
        reward = float(text)
    except ValueError:
        return None
    return Outcome("success" if reward >= 1.0 else "failure", reward, origin, detail)  # type: ignore[arg-type]


def _rows(path: Path, text: str):
    stripped = text.lstrip()
    if stripped.startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise SkillforgeError(f"{path}:{number}: not a JSON object ({exc})") from exc
            if not isinstance(row, dict):
                raise SkillforgeError(f"{path}:{number}: not a JSON object")
            yield number, {str(k).lower(): v for k, v in row.items()}
        return
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise SkillforgeError(f"{path}: empty outcomes file")
    for number, row in enumerate(reader, start=2):
        yield number, {str(k).strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}


class OutcomeResolver:
    """Applies labels and ``report.json`` files to trajectories as they are ingested.

    Args:
        labels: from ``--outcomes FILE``, or None.
        report: problems go here (label conflicts, unreadable report files).
    """

    def __init__(self, labels: Labels | None, report: Any) -> None:
        self.labels = labels
        self.report = report
        self._reports: dict[Path, dict[str, bool] | None] = {}
        self._folders: dict[str, Path] = {}  # a trajectory file -> its folder (files hold many trajectories)
        self.matched = 0
        self.seen: list[str] = []  # the first session ids seen, for the warning of :meth:`finish`

    def apply(self, trajectory: Trajectory) -> None:
        """Set ``trajectory.outcome`` by the precedence of the module docstring."""
        logged = trajectory.outcome
        labelled = self.labels.find(trajectory) if self.labels else None
        self.matched += labelled is not None
        if len(self.seen) < SAMPLE_IDS:
            self.seen.append(trajectory.task_id or trajectory.session_id)
        if logged.status != "unknown":
            if labelled is not None and labelled.status != logged.status:
                self.report.problem(
                    trajectory.source.path,
                    trajectory.source.line,
                    f"{trajectory.session_id}: labels say {labelled.status}, the log says {logged.status}; the log is kept",
                    "warning",
                )
            return
        if labelled is not None:
            trajectory.outcome = labelled
            return
        verdict = self._swe_bench_verdict(trajectory)
        if verdict is not None:
            trajectory.outcome = verdict

    def finish(self) -> None:
        """After the last trajectory: warn when a labels file was given and none of its ids matched
        a trajectory (a wrong key column or id format), with a sample of both sides."""
        if self.labels is None or self.matched or not self.seen:
            return
        theirs = list(self.labels.by_key)[:SAMPLE_IDS]
        self.report.problem(
            self.labels.source,
            None,
            f"none of the {len(self.labels.by_key)} ids in this outcomes file matched a trajectory "
            f"(ids there: {', '.join(theirs)}; task or session ids here: {', '.join(self.seen)}); "
            f"keys are matched against {', '.join(KEY_FIELDS)}",
            "warning",
        )

    def _swe_bench_verdict(self, trajectory: Trajectory) -> Outcome | None:
        task = trajectory.task_id
        if not task:
            return None
        folder = self._folders.get(trajectory.source.path)
        if folder is None:
            folder = self._folders[trajectory.source.path] = Path(trajectory.source.path).parent
        if folder not in self._reports:
            self._reports[folder] = self._read_report(folder / "report.json")
        resolved = (self._reports[folder] or {}).get(task)
        if resolved is None:
            resolved = (self._reports[folder] or {}).get("")  # a flat report: the one instance of this folder
        if resolved is None:
            return None
        return Outcome("success" if resolved else "failure", 1.0 if resolved else 0.0, "labels", f"SWE-bench report.json: resolved={resolved}")

    def _read_report(self, path: Path) -> dict[str, bool] | None:
        if not path.is_file():
            return None
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            self.report.problem(path, None, f"SWE-bench report not readable ({exc}); outcomes left unknown", "warning")
            return None
        if not isinstance(data, dict):
            return None
        verdicts: dict[str, bool] = {}
        if isinstance(data.get("resolved"), bool):
            verdicts[""] = data["resolved"]
        for key in ("resolved_ids", "unresolved_ids"):
            for instance in data.get(key) or []:
                verdicts[str(instance)] = key == "resolved_ids"
        for instance, entry in data.items():
            if isinstance(entry, dict) and isinstance(entry.get("resolved"), bool):
                verdicts[str(instance)] = entry["resolved"]
        return verdicts
