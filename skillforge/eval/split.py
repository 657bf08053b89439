"""The held-out split: a deterministic, hash-based share of the trajectories kept out of distillation.

Trajectories are grouped by *key*: ``task:<task id>`` where the log names a task (all trials of a
task share it, so no task is on both sides), else ``session:<session id>``. Each key is placed by
its own hash, ``sha256(salt, key)`` read as a number in [0, 1): a key whose number is below the
fraction is held out. The choice of one key never depends on the other trajectories, so a task held
out today stays held out when more logs arrive, and a task whose trajectories taught a skill never
judges it later (issue 17). One exception keeps a small corpus usable: when the fraction is
strictly between 0 and 1 and there are at least two keys, at least one key is held out and at
least one kept (the keys with the lowest, resp. highest, numbers).

The split is recorded in the run folder (:func:`save_split`): ``holdout.json`` (fraction, salt,
the keys and session ids held out) and ``holdout.jsonl`` (the held-out trajectories, one
``Trajectory.to_dict()`` per line), which ``skillforge eval`` reads by default (:func:`load_split`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from skillforge.errors import SkillforgeError
from skillforge.fsutil import write_atomic
from skillforge.trajectory import Trajectory, read_trajectories

SPLIT_FILE = "holdout.json"
HELD_OUT_FILE = "holdout.jsonl"
SplitBy = Literal["task", "session", "mixed", "none"]


def split_key(trajectory: Trajectory) -> str:
    """``task:<task id>`` when the trajectory names its task, else ``session:<session id>``."""
    task = trajectory.task_id
    return f"task:{task}" if task else f"session:{trajectory.session_id}"


def key_position(key: str, salt: str = "") -> float:
    """Where ``key`` falls in [0, 1): the first 8 bytes of ``sha256(salt \\x1f key)`` over 2**64."""
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class HoldoutSplit:
    """A split of trajectories into kept (for distillation) and held out (for evaluation).

    Attributes:
        fraction: the share of keys asked for, in [0, 1].
        salt: mixed into the hash (``""`` by default; another salt gives another split).
        by: ``task`` (every trajectory names a task), ``session`` (none does), ``mixed``, or
            ``none`` (no trajectories).
        held_out_keys: the keys held out, sorted.
        held_out: the held-out trajectories, in input order.
        kept: the others, in input order.
    """

    fraction: float
    salt: str = ""
    by: SplitBy = "none"
    held_out_keys: list[str] = field(default_factory=list)
    held_out: list[Trajectory] = field(default_factory=list)
    kept: list[Trajectory] = field(default_factory=list)

    @property
    def held_out_sessions(self) -> list[str]:
        """Session ids of the held-out trajectories, in input order."""
        return [t.session_id for t in self.held_out]

    def to_dict(self) -> dict[str, Any]:
        """The record written to ``holdout.json``: fraction, salt, by, counts, keys and session ids."""
        return {
            "fraction": self.fraction,
            "salt": self.salt,
            "by": self.by,
            "held_out_keys": self.held_out_keys,
            "held_out_sessions": self.held_out_sessions,
            "counts": {
                "held_out": len(self.held_out),
                "kept": len(self.kept),
                "held_out_keys": len(self.held_out_keys),
            },
        }


def split_holdout(trajectories: Iterable[Trajectory], fraction: float, salt: str = "") -> HoldoutSplit:
    """Split ``trajectories`` by key hash (see the module docstring).

    Args:
        trajectories: the trajectories read for a run.
        fraction: share of keys to hold out, in [0, 1]; 0 keeps everything.
        salt: changes the split (same salt, same split).

    Returns:
        A :class:`HoldoutSplit`.

    Raises:
        SkillforgeError: ``fraction`` outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise SkillforgeError(f"the held-out fraction must be between 0 and 1, got {fraction}")
    trajectories = list(trajectories)
    keys = [split_key(t) for t in trajectories]
    distinct = sorted(set(keys), key=lambda k: (key_position(k, salt), k))
    chosen = {k for k in distinct if key_position(k, salt) < fraction}
    if 0.0 < fraction < 1.0 and len(distinct) >= 2:
        if not chosen:
            chosen = {distinct[0]}
        elif len(chosen) == len(distinct):
            chosen.discard(distinct[-1])
    with_task = sum(1 for k in keys if k.startswith("task:"))
    by: SplitBy = "none" if not keys else "task" if with_task == len(keys) else "session" if with_task == 0 else "mixed"
    split = HoldoutSplit(fraction, salt, by, sorted(chosen))
    for trajectory, key in zip(trajectories, keys, strict=True):
        (split.held_out if key in chosen else split.kept).append(trajectory)
    return split


def save_split(run_root: Path, split: HoldoutSplit) -> None:
    """Record ``split`` in the run folder ``run_root``: ``holdout.json`` and ``holdout.jsonl``.

    Both are written to a temporary name and renamed.

    Raises:
        OSError: the folder cannot be written.
    """
    run_root = Path(run_root)
    run_root.mkdir(parents=True, exist_ok=True)
    lines = b"".join(orjson.dumps(t.to_dict()) + b"\n" for t in split.held_out)
    write_atomic(run_root / HELD_OUT_FILE, lines)
    write_atomic(run_root / SPLIT_FILE, orjson.dumps(split.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")


def load_split(run_root: Path) -> tuple[dict[str, Any], list[Trajectory]]:
    """The split recorded in ``run_root``: the ``holdout.json`` record and the held-out trajectories.

    Raises:
        SkillforgeError: no split recorded there, or a file that does not parse (the message names
            the file and line).
    """
    run_root = Path(run_root)
    record_path = run_root / SPLIT_FILE
    if not record_path.is_file():
        raise SkillforgeError(
            f"{run_root}: no held-out split recorded (no {SPLIT_FILE}); "
            "distill with --holdout, or give logs to evaluate on"
        )
    try:
        record = orjson.loads(record_path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SkillforgeError(f"{record_path}: cannot read the held-out split ({exc})") from exc
    data_path = run_root / HELD_OUT_FILE
    return record, read_trajectories(data_path) if data_path.is_file() else []
