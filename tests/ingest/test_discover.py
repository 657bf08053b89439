"""``discover``: the files under the given paths, in the order ``sorted(folder.rglob("*"))`` gives
them, hidden entries skipped, symbolic links to files kept and to folders not followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.ingest import discover


def _tree(root: Path) -> Path:
    logs = root / "logs"
    for name in ("b/2.jsonl", "b/10.jsonl", "a/x/deep.json", "a/y.traj", "top.json", "B/upper.json", "b-c/dash.json"):
        (logs / name).parent.mkdir(parents=True, exist_ok=True)
        (logs / name).write_text("{}")
    (logs / ".hidden.json").write_text("{}")
    (logs / ".git").mkdir()
    (logs / ".git" / "inside.json").write_text("{}")
    (logs / "a" / ".cache").mkdir()
    (logs / "a" / ".cache" / "c.json").write_text("{}")
    outside = root / "outside"
    outside.mkdir()
    (outside / "o.json").write_text("{}")
    os.symlink(outside / "o.json", logs / "link-to-file.json")
    os.symlink(outside, logs / "link-to-folder")
    os.symlink(root / "missing.json", logs / "broken.json")
    (logs / "empty").mkdir()
    return logs


def test_files_come_in_rglob_order_hidden_skipped_links_to_folders_not_followed(tmp_path: Path) -> None:
    logs = _tree(tmp_path)
    expected = [
        p
        for p in sorted(logs.rglob("*"))
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(logs).parts)
        and "link-to-folder" not in p.relative_to(logs).parts
    ]
    found = discover([logs])
    assert found == expected
    names = [p.relative_to(logs).as_posix() for p in found]
    assert "link-to-file.json" in names and "broken.json" not in names
    assert not any(name.startswith(".") or "/." in name for name in names)
    assert all(type(p) is type(logs) for p in found)


def test_given_files_come_as_given_and_a_missing_path_is_an_error(tmp_path: Path) -> None:
    logs = _tree(tmp_path)
    single = logs / "a" / "y.traj"
    assert discover([single, logs / "top.json"]) == [single, logs / "top.json"]
    assert discover([str(logs / "b")]) == [logs / "b" / "10.jsonl", logs / "b" / "2.jsonl"]
    with pytest.raises(SkillforgeError, match="no such file or folder"):
        discover([tmp_path / "nope"])
