"""The retrospective judge through the scripted model: coverage, harm, checked citations, repair, cache."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from skillforge.analyze.grounding import normalize_whitespace
from skillforge.config import ModelConfig
from skillforge.eval.citations import SkillUnderTest, check_skill_line, check_step
from skillforge.eval.gate import GateThresholds, decide_retro
from skillforge.eval.judge_client import judge_client
from skillforge.eval.retro import RetroJudge, judge_versions
from skillforge.eval.split import split_holdout
from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from tests import scripted_llm
from tests.eval.conftest import BASE, write_skill
from tests.eval.judge_model import judge_responder

FLIGHTS = "- Before update_reservation_flights, read the fare rules and confirm the new itinerary with the user."
TRANSFER = "- Call transfer_to_human_agents only when the request is outside the policy, after saying why."
NEVER = "- Never call get_user_details before the user has given their user id."


@cache
def _held_out(path: Path) -> tuple:
    return tuple(split_holdout(list(ingest([path], IngestReport())), 0.2).held_out)


@pytest.fixture
def held_out(shared_traces) -> list:
    """The held-out trajectories of tau-bench (split 0.2 by task): about 60 runs of 15 tasks."""
    return list(_held_out(shared_traces / "tau-bench"))


def judge_for(tmp_path: Path, context: int = 16000) -> RetroJudge:
    client = judge_client(ModelConfig(model="scripted/judge", concurrency=8), tmp_path / ".skillforge")
    return RetroJudge(client, context)


def skill(tmp_path: Path, label: str, *body: str) -> SkillUnderTest:
    return SkillUnderTest.from_folder(write_skill(tmp_path / label, *body), label)


def assert_citations_hold(result, skill_under_test: SkillUnderTest, trajectories) -> None:
    by_id = {t.session_id: t for t in trajectories}
    for judgement in result.judgements:
        if judgement.verdict in ("addressed", "harmful"):
            assert judgement.skill_lines and judgement.step is not None
            for line in judgement.skill_lines:
                assert skill_under_test.files[line["file"]][line["line"] - 1] == line["text"]
            step = by_id[judgement.session_id].step(judgement.step["step_id"])
            assert normalize_whitespace(judgement.step["quote"]) in normalize_whitespace(step.text())


def test_coverage_and_harm_side_by_side(held_out, tmp_path):
    log: list[str] = []
    state = scripted_llm.install(judge_responder(log=log))
    old = skill(tmp_path, "v1", BASE)
    new = skill(tmp_path, "v2", BASE, FLIGHTS, TRANSFER)
    none = SkillUnderTest("airline", "none")
    results = judge_versions([new, old, none], held_out, judge_for(tmp_path))
    failures = sum(1 for t in held_out if t.outcome.status == "failure")
    successes = sum(1 for t in held_out if t.outcome.status == "success")
    assert failures and successes
    for result in results:
        assert (result.failures, result.successes) == (failures, successes)
    v2, v1, empty = results
    # only v2 names the tools the failures went wrong with; v1 and no skill address nothing
    assert v2.addressed > 0 and v1.addressed == 0 and empty.addressed == 0
    assert v2.coverage == v2.addressed / failures
    assert v2.harmful == v1.harmful == 0
    assert_citations_hold(v2, new, held_out)
    cited = {line["text"] for j in v2.judgements for line in j.skill_lines}
    assert cited <= {FLIGHTS, TRANSFER}
    # one call per judged trajectory per version with a skill; none for the no-skill arm
    assert len(state.calls) == 2 * (failures + successes) and log.count("repair") == 0
    assert empty.usage()["calls"] == 0 and v2.usage()["calls"] == failures + successes
    decision = decide_retro(v2, v1, GateThresholds())
    assert decision.promote, decision.reasons
    assert not decide_retro(v1, v2, GateThresholds()).promote  # v1 loses v2's coverage


def test_a_line_that_forbids_what_worked_is_harm_and_fails_the_gate(held_out, tmp_path):
    scripted_llm.install(judge_responder())
    safe = skill(tmp_path, "v1", BASE, FLIGHTS)
    harmful = skill(tmp_path, "v2", BASE, FLIGHTS, NEVER)
    v2, v1 = judge_versions([harmful, safe], held_out, judge_for(tmp_path))
    using = [
        t
        for t in held_out
        if t.outcome.status == "success"
        and any(c.function_name == "get_user_details" for s in t.steps for c in s.tool_calls)
    ]
    assert v2.harmful == len(using) > 0 and v1.harmful == 0
    assert {line["text"] for j in v2.judgements for line in j.skill_lines if j.kind == "success"} == {NEVER}
    assert_citations_hold(v2, harmful, held_out)
    decision = decide_retro(v2, v1, GateThresholds())
    assert not decision.promote and any(r.startswith("harm rose") for r in decision.reasons)
    assert decide_retro(v2, v1, GateThresholds(harm_rise=1.0)).promote


def test_a_wrong_line_number_is_corrected_and_invented_lines_get_one_repair(held_out, tmp_path):
    failed = [t for t in held_out if t.outcome.status == "failure"]
    new = skill(tmp_path, "v2", BASE, FLIGHTS, TRANSFER)

    def shifted(kind, reply, index):  # the right text under a wrong line number
        if kind == "failure" and reply["addressed"]:
            reply["skill_lines"][0]["line"] = 999
            return json.dumps(reply)
        return None

    scripted_llm.install(judge_responder(shifted))
    (corrected,) = judge_versions([new], failed, judge_for(tmp_path / "a"))
    scripted_llm.install(judge_responder())
    (plain,) = judge_versions([new], failed, judge_for(tmp_path / "b"))
    assert corrected.addressed == plain.addressed > 0
    assert [j.skill_lines for j in corrected.judgements] == [j.skill_lines for j in plain.judgements]

    def invented(kind, reply, index):  # a line the skill does not have, every time
        if kind in ("failure", "repair") and reply.get("addressed"):
            reply["skill_lines"] = [{"file": "SKILL.md", "line": 3, "text": "Always refund the full amount."}]
            return json.dumps(reply)
        return None

    log: list[str] = []
    scripted_llm.install(judge_responder(invented, log))
    (refused,) = judge_versions([new], failed, judge_for(tmp_path / "c"))
    assert refused.addressed == 0 and log.count("repair") == plain.addressed
    claimed = [j for j in refused.judgements if j.repaired]
    assert len(claimed) == plain.addressed and all(j.verdict == "missed" and j.problems for j in claimed)
    assert "not found in the file" in claimed[0].problems[0]

    def fixed_on_repair(kind, reply, index):
        return invented(kind, reply, index) if kind == "failure" else None

    log.clear()
    scripted_llm.install(judge_responder(fixed_on_repair, log))
    (repaired,) = judge_versions([new], failed, judge_for(tmp_path / "d"))
    assert repaired.addressed == plain.addressed and log.count("repair") == plain.addressed
    assert all(not j.problems for j in repaired.judgements if j.verdict == "addressed")


def test_failed_calls_are_errors_and_block_the_gate(held_out, tmp_path):
    trajectories = held_out[:6]

    def broken(kind, reply, index):
        return scripted_llm.server_error() if index == 0 else None

    scripted_llm.install(judge_responder(broken))
    judge = judge_for(tmp_path)
    judge.client.settings.max_attempts = 1
    (result,) = judge_versions([skill(tmp_path, "v1", BASE, FLIGHTS)], trajectories, judge)
    errors = [j for j in result.judgements if j.verdict == "error"]
    assert len(errors) == 1 and "internal error" in errors[0].error
    assert result.failures + result.successes == len(trajectories) - 1
    decision = decide_retro(result, None, GateThresholds())
    assert not decision.promote and "incomplete" in decision.reasons[0]


def test_a_rerun_is_answered_from_the_cache(held_out, tmp_path):
    trajectories = held_out[:8]
    new = skill(tmp_path, "v2", BASE, FLIGHTS)
    state = scripted_llm.install(judge_responder())
    (first,) = judge_versions([new], trajectories, judge_for(tmp_path))
    assert len(state.calls) == 8
    (second,) = judge_versions([new], trajectories, judge_for(tmp_path))
    assert len(state.calls) == 8 and second.usage()["cached"] == 8 and second.usage()["calls"] == 0
    assert [j.verdict for j in second.judgements] == [j.verdict for j in first.judgements]


def test_unknown_outcomes_are_skipped(sample_traces, tmp_path):
    trajectories = list(ingest([sample_traces / "claude-code"], IngestReport()))
    assert all(t.outcome.status == "unknown" for t in trajectories)
    state = scripted_llm.install(judge_responder())
    (result,) = judge_versions([skill(tmp_path, "v1", BASE)], trajectories, judge_for(tmp_path))
    assert result.judgements == [] and result.skipped_unknown == [t.session_id for t in trajectories]
    assert result.coverage is None and result.harm is None and state.calls == []


def test_the_prompt_fits_a_small_context(held_out, tmp_path):
    judge = judge_for(tmp_path, context=4096)
    longest = max(held_out, key=lambda t: len(json.dumps(t.to_dict())))
    messages, _ = judge.prompt(skill(tmp_path, "v1", BASE, FLIGHTS), longest)
    from skillforge.eval.judge_client import count_tokens

    assert count_tokens("scripted/judge", messages=messages) <= 4096 - judge.client.expected_completion_tokens
    assert "cut" in messages[1]["content"]


def test_citation_checks(tmp_path, sample_traces):
    under = skill(tmp_path, "v1", BASE, FLIGHTS)
    number = under.files["SKILL.md"].index(FLIGHTS) + 1
    ok, problem = check_skill_line(under, {"file": "SKILL.md", "line": number, "text": "read the fare rules"})
    assert ok == {"file": "SKILL.md", "line": number, "text": FLIGHTS} and problem is None
    moved, _ = check_skill_line(under, {"file": "SKILL.md", "line": 1, "text": "read  the fare\nrules"})
    assert moved["line"] == number
    assert "no file" in check_skill_line(under, {"file": "references/x.md", "line": 1, "text": "anything"})[1]
    assert "too short" in check_skill_line(under, {"file": "SKILL.md", "line": number, "text": "- "})[1]
    assert "lines 1-" in check_skill_line(under, {"file": "SKILL.md", "line": 400, "text": "no such words"})[1]
    trajectory = next(iter(ingest([sample_traces / "tau-bench"], IngestReport())))

    def unique(s) -> bool:
        needle = normalize_whitespace(" ".join(s.message.split()[:6]))
        return sum(needle in normalize_whitespace(o.text()) for o in trajectory.steps) == 1

    step = next(s for s in trajectory.steps[2:] if s.message and len(s.message.split()) > 6 and unique(s))
    quote = " ".join(step.message.split()[:6])
    assert check_step(trajectory, step.step_id, quote) == ({"step_id": step.step_id, "quote": quote}, None)
    assert check_step(trajectory, 1, quote) == ({"step_id": step.step_id, "quote": quote}, None)  # moved to its step
    assert "no such step" in check_step(trajectory, 10_000, quote)[1]


def test_the_budget_stops_the_judge_and_the_gate(held_out, tmp_path):
    scripted_llm.install(judge_responder())
    model = ModelConfig(model=scripted_llm.register_price(), concurrency=2)
    client = judge_client(model, tmp_path / ".skillforge", budget_usd=0.02)
    trajectories = held_out[:12]
    (result,) = judge_versions([skill(tmp_path, "v1", BASE, FLIGHTS)], trajectories, RetroJudge(client, 16000))
    not_run = [j for j in result.judgements if j.verdict == "not_run"]
    assert result.stopped == "budget" and 0 < len(not_run) < len(trajectories)
    assert client.totals.cost_usd <= 0.02 and result.failures + result.successes == len(trajectories) - len(not_run)
    decision = decide_retro(result, None, GateThresholds())
    assert not decision.promote and "budget stop" in decision.reasons[0]
