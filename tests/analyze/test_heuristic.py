"""Signals and the offline heuristic analyst on real trajectories."""

from __future__ import annotations

import re
from pathlib import Path

from skillforge.analyze import heuristic
from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.signals import compute_signals
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.lesson import Evidence, Lesson
from skillforge.resources import schema_validator


def _load(path: Path):
    return list(ingest([path], IngestReport()))


def _by_id(path: Path):
    return {t.session_id: t for t in _load(path)}


def test_a_fix_is_the_same_attempt_and_is_reported_as_the_difference(sample_traces: Path) -> None:
    trajectory = _by_id(sample_traces / "tau-bench")["tau-bench:gpt-4o-airline-sample:task26:trial0"]
    [failure] = compute_signals(trajectory).mistakes
    assert failure.error.line == "Error: payment method not found"
    assert failure.recovery is not None and (failure.failed.step_id, failure.recovery.step_id) == (18, 22)
    change = failure.change
    assert change.arguments == ["payment_id"] and change.values == {
        "payment_id": ("credit_card_7334", "credit_card_9074831")
    }
    # the new value was read from the user's profile in between
    assert change.sources == {"payment_id": "get_user_details"}


def test_a_different_command_after_a_failure_is_not_a_fix(shared_traces: Path) -> None:
    trajectory = _by_id(shared_traces / "openhands")["openhands:ponylang__ponyc-4595"]
    signals = compute_signals(trajectory)
    not_found = next(f for f in signals.failures if f.error.line == "bash: ponyc: command not found")
    # the next successful execute_bash ran other programs (make, ls…), never ponyc: no recovery
    assert not_found.recovery is None
    git = _by_id(shared_traces / "claude-code")["258c7280-ae70-4798-800f-63464d01a85d"]
    push = next(f for f in compute_signals(git).mistakes if f.failed.step_id == 44)
    assert push.change.words == [("", "--set-upstream origin spotter-gqc")]
    assert push.change.describe() == "added `--set-upstream origin spotter-gqc`"


def test_expected_failures_are_method_not_mistakes(shared_traces: Path) -> None:
    codex = _by_id(shared_traces / "codex")["019e1625-789d-76c0-80ab-3724b5ddb799"]
    reasons = {f.failed.step_id: f.expected for f in compute_signals(codex).failures}
    assert reasons[23] == "search-no-match"  # rg that matched nothing: exit 1, empty output
    assert (
        reasons[46] == "reproduction"
    )  # "…to confirm it fails for the intended reason before changing production code"
    pydicom = _by_id(shared_traces / "swe-agent")["swe-agent:pydicom__pydicom-1458"]
    assert {f.failed.step_id: f.expected for f in compute_signals(pydicom).failures}[5] == "reproduction"
    session = _by_id(shared_traces / "claude-code")["258c7280-ae70-4798-800f-63464d01a85d"]
    reasons = {f.failed.step_id: f.expected for f in compute_signals(session).failures}
    assert [reasons[s] for s in (77, 81, 85, 89)] == ["test-before-fix"] * 4  # mix test, fixed, passes at step 92
    ponyc = _by_id(shared_traces / "openhands")["openhands:ponylang__ponyc-4593"]
    assert {f.failed.step_id: f.expected for f in compute_signals(ponyc).failures}[10] == "search-no-match"
    # a reproduction script that only passed once rewritten was broken: a mistake, with its fix
    django = _by_id(shared_traces / "mini-swe-agent")["mini-swe-agent:django__django-10097"]
    [broken] = compute_signals(django).mistakes
    assert broken.error.line == "SyntaxError: invalid syntax" and broken.change.edits == [(9, "reproduce_issue.py")]


def test_loops_need_identical_calls_with_nothing_changed_between(shared_traces: Path, sample_traces: Path) -> None:
    task13 = _by_id(sample_traces / "tau-bench")["tau-bench:gpt-4o-airline-sample:task13:trial0"]
    [loop] = compute_signals(task13).loops
    assert loop.function_name == "update_reservation_flights" and loop.step_ids == [20, 23, 31]
    # the same failing test command, with edits in between, is a fix cycle, not a loop
    session = _by_id(shared_traces / "claude-code")["258c7280-ae70-4798-800f-63464d01a85d"]
    assert compute_signals(session).loops == []


def test_a_refusal_without_a_reason_gives_no_lesson(sample_traces: Path) -> None:
    [trajectory] = _load(sample_traces / "claude-code" / "short.jsonl")
    signals = compute_signals(trajectory)
    assert [r.name for r in signals.rejections] == ["Bash", "Glob"] and signals.interruptions == [3]
    assert signals.corrections == [] and heuristic.analyze(trajectory, signals) == []


def test_comparative_counts_are_over_the_comparison_set(sample_traces: Path, shared_traces: Path) -> None:
    lessons = [lesson for lesson in heuristic.compare(_load(sample_traces)) if "signal:comparative" in lesson.tags]
    by_tool = {lesson.tags[0]: lesson for lesson in lessons}
    user = by_tool["tool:get_user_details"]
    assert "5 of 7 successful runs called `get_user_details`, against 1 of 9 failed runs" in user.guidance
    assert "to complete the task" not in user.guidance and user.title.startswith(
        "After calling `get_reservation_details`"
    )
    # on the 200 runs, presence of a call tells successes from failures too little: no such lesson
    full = heuristic.compare(_load(shared_traces / "tau-bench"))
    assert not [lesson for lesson in full if "signal:comparative" in lesson.tags]
    endings = {lesson.tags[0]: lesson for lesson in full if "signal:failure-ending" in lesson.tags}
    assert endings["tool:cancel_reservation"].guidance.startswith("11 failed runs of 4 tasks had no tool error")


def test_procedure_of_successful_swe_runs(shared_traces: Path) -> None:
    [procedure] = [
        lesson
        for lesson in heuristic.compare(_load(shared_traces / "mini-swe-agent"))
        if "signal:procedure" in lesson.tags
    ]
    steps = procedure.guidance.splitlines()[1:]
    order = [re.match(r"\d+\. (.*?)(?: \(.*\))?: \d+ of \d+\.$", step).group(1) for step in steps]
    assert (
        order.index("reproduce the problem")
        < order.index("edit")
        < order.index("verify: run the tests")
        < order.index("submit")
    )
    assert all(step.endswith("3 of 3.") for step in steps)
    assert {e.session_id for e in procedure.evidence} == {
        "mini-swe-agent:django__django-10097",
        "mini-swe-agent:pallets__flask-5014",
        "mini-swe-agent:scikit-learn__scikit-learn-10844",
    }


def test_every_heuristic_lesson_is_grounded_and_schema_valid(shared_traces: Path, sample_traces: Path) -> None:
    trajectories = _load(shared_traces) + _load(sample_traces)
    by_id = {t.session_id: t for t in trajectories}
    lessons = [lesson for t in trajectories for lesson in heuristic.analyze(t, compute_signals(t))]
    lessons += heuristic.compare(trajectories)
    assert len(lessons) > 10
    for lesson in lessons:
        assert grounding_problems(lesson, by_id) == [], lesson.title
        schema_validator("lesson").validate(lesson.to_dict())
        assert Lesson.from_dict(lesson.to_dict()) == lesson
    assert len({lesson.id for lesson in lessons}) == len(lessons)


def test_grounding_flags_bad_evidence(sample_traces: Path) -> None:
    trajectories = _by_id(sample_traces / "tau-bench")
    good = next(lesson for lesson in heuristic.compare(trajectories.values()) if "signal:pitfall" in lesson.tags)
    assert grounding_problems(good, trajectories) == []
    session = good.evidence[0].session_id
    invented = Lesson(**{**good.__dict__, "evidence": [Evidence(session, [2], "the server crashed with SIGSEGV")]})
    assert "quote not found" in grounding_problems(invented, trajectories)[0]
    missing = Lesson(**{**good.__dict__, "evidence": [Evidence(session, [99], "x")]})
    assert grounding_problems(missing, trajectories) == [f"{session}: no step(s) [99]"]
    unknown = Lesson(**{**good.__dict__, "evidence": [Evidence("nope", [1], "x")]})
    assert grounding_problems(unknown, trajectories) == ["unknown session_id 'nope'"]


def test_near_miss_quotes_are_snapped_to_the_step_text(sample_traces: Path) -> None:
    from skillforge.analyze.grounding import snap_evidence, snap_quote

    trajectories = {t.session_id: t for t in _load(sample_traces / "tau-bench")}
    # an error result whose text occurs in exactly one step of its trajectory
    trajectory, step, exact = next(
        (t, s, r.content)
        for t in trajectories.values()
        for s in t.steps
        if s.observation
        for r in s.observation.results
        if r.is_error and s.step_id > 1 and sum(r.content in other.text() for other in t.steps) == 1
    )
    paraphrased = exact.replace("Error: ", "error ").replace("not", "isn't")  # what a small model writes
    assert snap_quote(paraphrased, step.text()) == " ".join(exact.split())
    assert snap_quote("the customer asked for a refund in cash", step.text()) is None
    lesson = Lesson(
        "L-x", "failure", "t", "w", "g", evidence=[Evidence(trajectory.session_id, [step.step_id], paraphrased)]
    )
    fixed, count = snap_evidence(lesson, trajectories)
    assert count == 1 and grounding_problems(fixed, trajectories) == []
    # cited the wrong step: the one step that holds the text is cited instead
    wrong = Lesson("L-y", "failure", "t", "w", "g", evidence=[Evidence(trajectory.session_id, [1], exact)])
    moved, count = snap_evidence(wrong, trajectories)
    assert count == 1 and moved.evidence[0].step_ids == [step.step_id]
    invented = Lesson(
        "L-z",
        "failure",
        "t",
        "w",
        "g",
        evidence=[Evidence(trajectory.session_id, [1], "the agent refunded the ticket twice by mistake")],
    )
    assert snap_evidence(invented, trajectories) == (invented, 0)


def test_look_ups_before_a_write_are_a_procedure_of_the_runs_that_ended_with_it(shared_traces: Path) -> None:
    trajectories = _load(shared_traces / "tau-bench")
    by_id = {t.session_id: t for t in trajectories}
    endings = {
        lesson.tags[-1]: lesson for lesson in heuristic.compare(trajectories) if "signal:procedure" in lesson.tags
    }
    cancel = endings["tool:cancel_reservation"]
    assert cancel.title == (
        "Before `cancel_reservation` in tau-bench tasks, call `get_user_details`, then call `get_reservation_details`"
    )
    assert cancel.guidance.splitlines()[1:] == [
        "1. call `get_user_details`: 7 of 7.",
        "2. call `get_reservation_details`: 7 of 7.",
        "3. call `cancel_reservation`: 7 of 7.",
    ]
    # the cited runs are the successful ones whose last call that did not fail was the write
    for session in {e.session_id for e in cancel.evidence}:
        trajectory = by_id[session]
        calls = [c for s in trajectory.steps for c in s.tool_calls]
        assert trajectory.outcome.status == "success" and calls[-1].function_name == "cancel_reservation"
    # helpers that name no record (calculate, think) and hand-offs (transfer_to_human_agents) end no procedure
    assert not {"tool:calculate", "tool:think", "tool:transfer_to_human_agents"} & set(endings)


def test_a_poll_of_a_parallel_command_is_not_a_retry(shared_traces: Path) -> None:
    """Codex polls commands with write_stdin: at step 24 the poll of `rg … node_modules/opencode-ai` fails
    (exit 2) and the next poll, of an `rg --files` started beside it at step 23, succeeds; that one was
    started before the failure was seen, so it is no fix. At step 10 the retry polls the failed call's own
    process (chars '\\x03' -> ''): the same attempt, a fix."""
    [session] = [t for t in _load(shared_traces / "codex") if t.session_id.startswith("019e1625")]
    failures = {f.failed.step_id: f for f in compute_signals(session).failures}
    assert failures[24].recovery is None
    recovery = failures[10].recovery
    assert recovery is not None and recovery.step_id == 11
    assert recovery.started_by is failures[10].failed.started_by
    assert "step 10: write_stdin failed: stdin is closed" in "\n".join(compute_signals(session).as_hints())


def test_a_bare_error_label_is_read_with_the_message_below_it(shared_traces: Path) -> None:
    """OpenHands' editor answers "ERROR:" and the message on the next lines; the message is the error,
    keyed whole (its code quote and path generalised), so the same mistake groups across runs."""
    failures = {
        (t.session_id, f.failed.step_id): f
        for t in _load(shared_traces / "openhands")
        for f in compute_signals(t).failures
    }
    verbatim = failures[("openhands:ponylang__ponyc-4595", 14)].error
    assert verbatim.line.startswith("ERROR: No replacement was performed, old_str `DEF(idseqsingle);")
    assert verbatim.key == "error: no replacement was performed, old_str {str} did not appear verbatim in {path}"
    assert failures[("openhands:ponylang__ponyc-4588", 12)].error.key == verbatim.key
    multiple = failures[("openhands:ponylang__ponyc-4588", 17)].error
    assert "Multiple occurrences of old_str" in multiple.line and multiple.key != verbatim.key
    assert not any(f.error.line.strip() == "ERROR:" for f in failures.values())
