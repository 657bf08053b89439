"""The held-out split: by task where there is one, deterministic, recorded in the run folder."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.eval.split import (
    HELD_OUT_FILE,
    SPLIT_FILE,
    key_position,
    load_split,
    save_split,
    split_holdout,
    split_key,
)
from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport


def read(path: Path):
    return list(ingest([path], IngestReport()))


@cache
def _read_cached(path: Path) -> tuple:
    return tuple(read(path))


@pytest.fixture
def tau_bench(shared_traces) -> list:
    """The 200 tau-bench runs of ../shared/traces (50 tasks x 4 trials), read once per session."""
    return list(_read_cached(shared_traces / "tau-bench"))


def test_tau_bench_split_is_by_task_and_keeps_tasks_whole(tau_bench):
    split = split_holdout(tau_bench, 0.2)
    assert split.by == "task"
    held_tasks = {t.task_id for t in split.held_out}
    kept_tasks = {t.task_id for t in split.kept}
    assert held_tasks and kept_tasks and not held_tasks & kept_tasks
    # every trial of a held-out task is held out (4 trials per task in this file)
    per_task = Counter(t.task_id for t in split.held_out)
    assert set(per_task.values()) == {4}
    assert len(split.held_out) + len(split.kept) == len(tau_bench) == 200
    # the choice is the hash threshold: a task is held out exactly when its position is below 0.2
    for trajectory in tau_bench:
        assert (trajectory in split.held_out) == (key_position(split_key(trajectory)) < 0.2)
    assert sorted(f"task:{t}" for t in held_tasks) == split.held_out_keys


def test_split_is_deterministic_and_independent_of_order_and_company(tau_bench):
    first = split_holdout(tau_bench, 0.2)
    again = split_holdout(list(reversed(tau_bench)), 0.2)
    assert first.held_out_keys == again.held_out_keys
    assert set(first.held_out_sessions) == set(again.held_out_sessions)
    # a task's side does not depend on the other tasks: half the corpus splits the same way
    half = [t for t in tau_bench if int(t.task_id.rsplit(":", 1)[1]) % 2 == 0]
    assert set(split_holdout(half, 0.2).held_out_keys) == {
        k for k in first.held_out_keys if int(k.rsplit(":", 1)[1]) % 2 == 0
    }
    other = split_holdout(tau_bench, 0.2, salt="another")
    assert other.held_out_keys != first.held_out_keys


def test_split_is_recorded_and_read_back(tau_bench, tmp_path):
    split = split_holdout(tau_bench, 0.2)
    save_split(tmp_path, split)
    record, trajectories = load_split(tmp_path)
    assert (tmp_path / SPLIT_FILE).is_file() and (tmp_path / HELD_OUT_FILE).is_file()
    assert record["by"] == "task" and record["fraction"] == 0.2
    assert record["held_out_sessions"] == split.held_out_sessions
    assert record["counts"] == {
        "held_out": len(split.held_out),
        "kept": len(split.kept),
        "held_out_keys": len(split.held_out_keys),
    }
    assert [t.to_dict() for t in trajectories] == [t.to_dict() for t in split.held_out]


def test_logs_without_task_ids_split_by_session(sample_traces):
    trajectories = read(sample_traces / "claude-code")
    assert len(trajectories) >= 2 and all(t.task_id is None for t in trajectories)
    split = split_holdout(trajectories, 0.5)
    assert split.by == "session"
    assert split.held_out_keys == sorted(f"session:{t.session_id}" for t in split.held_out)
    # a small corpus still has both sides when the fraction is strictly between 0 and 1
    assert split.held_out and split.kept


def test_fraction_bounds_and_extremes(sample_traces):
    trajectories = read(sample_traces / "tau-bench")
    assert split_holdout(trajectories, 0.0).held_out == []
    assert split_holdout(trajectories, 1.0).kept == []
    with pytest.raises(SkillforgeError, match="between 0 and 1"):
        split_holdout(trajectories, 1.5)


def test_load_split_names_a_missing_split_and_a_bad_line(tmp_path):
    with pytest.raises(SkillforgeError, match="no held-out split recorded"):
        load_split(tmp_path)
    (tmp_path / SPLIT_FILE).write_text("{}", encoding="utf-8")
    (tmp_path / HELD_OUT_FILE).write_text('{"session_id": "x"}\n', encoding="utf-8")
    with pytest.raises(SkillforgeError, match=rf"{HELD_OUT_FILE}:1: not a trajectory"):
        load_split(tmp_path)
