"""Signals and the offline heuristic analyst on real trajectories."""

from __future__ import annotations

from pathlib import Path

from skillforge.analyze import heuristic
from skillforge.analyze.grounding import grounding_problems
from skillforge.analyze.signals import compute_signals, error_pattern, error_summary
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.lesson import Evidence, Lesson
from skillforge.resources import schema_validator


def _load(path: Path):
    return list(ingest([path], IngestReport()))


def test_error_then_changed_call_gives_recovery_lesson(shared_traces: Path) -> None:
    trajectories = {t.session_id: t for t in _load(shared_traces / "tau-bench")}
    trajectory = trajectories["tau-bench:gpt-4o-airline:task0:trial0"]
    signals = compute_signals(trajectory)
    failure = signals.failures[0]
    assert failure.failed.call.function_name == "book_reservation"
    assert failure.error.startswith("Error: payment amount does not add up")
    assert failure.recovery is not None and failure.recovery.call.function_name == "book_reservation"
    lessons = heuristic.analyze(trajectory, signals)
    recovery = next(lesson for lesson in lessons if "signal:error-recovery" in lesson.tags)
    assert recovery.title == (
        'When `book_reservation` fails with "error: payment amount does not add up, total price is {id}, '
        'but paid {id}", change `payment_methods` before retrying'
    )
    assert recovery.evidence[0].step_ids == [failure.failed.step_id, failure.recovery.step_id]


def test_repeated_failing_call_gives_loop_guardrail(shared_traces: Path) -> None:
    trajectories = {t.session_id: t for t in _load(shared_traces / "tau-bench")}
    trajectory = trajectories["tau-bench:gpt-4o-airline:task9:trial2"]
    signals = compute_signals(trajectory)
    [loop] = signals.loops
    assert loop.function_name == "book_reservation" and len(loop.step_ids) >= 3
    lessons = heuristic.analyze(trajectory, signals)
    assert lessons[0].title == "Stop retrying `book_reservation` with identical arguments"
    assert lessons[0].evidence[0].step_ids == loop.step_ids


def test_user_rejection_gives_ask_first_lesson(sample_traces: Path) -> None:
    [trajectory] = _load(sample_traces / "claude-code" / "short.jsonl")
    signals = compute_signals(trajectory)
    assert [r.call.function_name for r in signals.rejections] == ["Bash", "Glob"]
    assert signals.interruptions == [3]
    titles = [lesson.title for lesson in heuristic.analyze(trajectory, signals)]
    assert titles == ["Ask before `Bash` calls like `mix phx.server`", "Ask before `Glob` calls"]


def test_comparative_success_pattern(shared_traces: Path) -> None:
    trajectories = _load(shared_traces / "tau-bench")
    lessons = heuristic.compare(trajectories)
    by_title = {}
    for lesson in lessons:
        by_title.setdefault(lesson.title, []).append(lesson)
    user_details = by_title["Call `get_user_details` when the task calls for it"]
    tasks = {tag for lesson in user_details for tag in lesson.tags if tag.startswith("task:")}
    assert tasks == {"task:gpt-4o-airline:1", "task:gpt-4o-airline:16", "task:gpt-4o-airline:26", "task:gpt-4o-airline:44"}
    successes = {t.session_id for t in trajectories if t.outcome.status == "success"}
    assert all(e.session_id in successes for lesson in lessons for e in lesson.evidence)


def test_every_heuristic_lesson_is_grounded_and_schema_valid(shared_traces: Path) -> None:
    trajectories = _load(shared_traces / "tau-bench") + _load(shared_traces / "claude-code")
    by_id = {t.session_id: t for t in trajectories}
    lessons = [lesson for t in trajectories for lesson in heuristic.analyze(t, compute_signals(t))]
    lessons += heuristic.compare(trajectories)
    assert len(lessons) > 50
    for lesson in lessons:
        assert grounding_problems(lesson, by_id) == [], lesson.title
        schema_validator("lesson").validate(lesson.to_dict())
        assert Lesson.from_dict(lesson.to_dict()) == lesson
    assert len({lesson.id for lesson in lessons}) == len(lessons)


def test_grounding_flags_bad_evidence(sample_traces: Path) -> None:
    [trajectory] = _load(sample_traces / "claude-code" / "short.jsonl")
    by_id = {trajectory.session_id: trajectory}
    good = heuristic.analyze(trajectory, compute_signals(trajectory))[0]
    assert grounding_problems(good, by_id) == []
    invented = Lesson(**{**good.__dict__, "evidence": [Evidence(trajectory.session_id, [2], "the server crashed with SIGSEGV")]})
    assert "quote not found" in grounding_problems(invented, by_id)[0]
    missing = Lesson(**{**good.__dict__, "evidence": [Evidence(trajectory.session_id, [99], "x")]})
    assert grounding_problems(missing, by_id) == [f"{trajectory.session_id}: no step(s) [99]"]
    unknown = Lesson(**{**good.__dict__, "evidence": [Evidence("nope", [1], "x")]})
    assert grounding_problems(unknown, by_id) == ["unknown session_id 'nope'"]


def test_error_summary_and_pattern() -> None:
    text = "Exit code 1\nCompiling 4 files (.ex)\n** (CompileError) lib/a.ex:3: undefined function foo/0"
    assert error_summary(text) == "** (CompileError) lib/a.ex:3: undefined function foo/0"
    assert error_summary("<tool_use_error>File does not exist.</tool_use_error>") == "File does not exist."
    assert error_pattern("Error: flight HAT030 not available on date 2024-05-13") == "error: flight {id} not available on date {date}"
    assert error_pattern("cannot open '/home/me/x.txt'") == "cannot open {str}"


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
    lesson = Lesson("L-x", "failure", "t", "w", "g", evidence=[Evidence(trajectory.session_id, [step.step_id], paraphrased)])
    fixed, count = snap_evidence(lesson, trajectories)
    assert count == 1 and grounding_problems(fixed, trajectories) == []
    # cited the wrong step: the one step that holds the text is cited instead
    wrong = Lesson("L-y", "failure", "t", "w", "g", evidence=[Evidence(trajectory.session_id, [1], exact)])
    moved, count = snap_evidence(wrong, trajectories)
    assert count == 1 and moved.evidence[0].step_ids == [step.step_id]
    invented = Lesson("L-z", "failure", "t", "w", "g", evidence=[Evidence(trajectory.session_id, [1], "the agent refunded the ticket twice by mistake")])
    assert snap_evidence(invented, trajectories) == (invented, 0)
