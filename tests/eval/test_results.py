"""Evaluation records in the store: where they live, what a rewrite commits, the one-line summary."""

from __future__ import annotations

import git
import pytest

from skillforge.errors import SkillforgeError
from skillforge.eval.results import eval_record_path, load_eval, save_eval, summary_line
from tests.eval.conftest import BASE, store_versions


def test_records_are_committed_beside_the_skill_and_merged_by_kind(tmp_path):
    store = store_versions(tmp_path / "skills", tmp_path / "stage", (BASE,), (BASE, "- Confirm before booking."))
    retro = {"label": "v1", "failures": 4, "addressed": 1, "coverage": 0.25, "successes": 5, "harmful": 0, "harm": 0.0}
    save_eval(store, "airline", 1, "retro", retro, {"promote": True})
    ab = {"arms": [{"arm": "v1", "rate": 0.5, "ci_low": 0.2, "ci_high": 0.8, "trials": 10}], "comparisons": []}
    record = save_eval(store, "airline", 1, "ab", ab)
    assert record["retro"] == retro and record["ab"] == ab and record["gate"] == {"retro": {"promote": True}}
    assert load_eval(store, "airline", 1) == record and load_eval(store, "airline", 2) is None
    repo = git.Repo(tmp_path / "skills")
    assert repo.head.commit.message.startswith("eval airline v1: ab")
    assert eval_record_path("airline", 1) in repo.git.ls_files()
    assert [v.version for v in store.versions("airline")] == [1, 2]  # no version was added
    assert (
        summary_line(record)
        == "retro: coverage 1/4 (25 %), harm 0/5 (0 %); ab: 50 % [20-80] over 10 trials; retro gate passed"
    )
    with pytest.raises(SkillforgeError, match="has no v7"):
        save_eval(store, "airline", 7, "retro", retro)
    with pytest.raises(SkillforgeError, match="unknown evaluation kind"):
        save_eval(store, "airline", 1, "live", retro)


def test_store_records_stay_out_of_skill_folders(tmp_path):
    store = store_versions(tmp_path / "skills", tmp_path / "stage", (BASE,))
    for bad in ("airline/eval.json", "../x.json", "/tmp/x.json", ".eval"):
        with pytest.raises(SkillforgeError, match="starting with '.'"):
            store.commit_record(bad, b"{}", "no")
    assert store.commit_record(".eval/airline/v1.json", b"{}\n", "first") is not None
    assert store.commit_record(".eval/airline/v1.json", b"{}\n", "same bytes") is None  # nothing to commit
    assert store.read_record(".eval/airline/v1.json") == b"{}\n" and store.read_record(".eval/none.json") is None


def test_summary_of_nothing_and_of_an_unjudged_side():
    assert summary_line(None) == "" and summary_line({}) == ""
    record = {
        "retro": {"failures": 0, "successes": 3, "harmful": 1, "harm": 1 / 3, "baseline": {"label": "v2", "harm": 0.0}}
    }
    assert summary_line(record) == "retro: coverage n/a (none judged), harm 1/3 (33 %, v2 0 %)"
