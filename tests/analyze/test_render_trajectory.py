"""Rendering trajectories for prompts: step ids kept, budget met, errors whole, base64 and repeats dropped."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from skillforge.analyze.grounding import normalize_whitespace
from skillforge.analyze.render_trajectory import BASE64_MARK, LazyBudget, render_trajectory
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.llm.tokens import count_tokens
from skillforge.trajectory import Agent, Observation, ObservationResult, SourceRef, Step, ToolCall, Trajectory


def count(text: str) -> int:
    return count_tokens("gpt-4o-mini", text=text)


def _trajectories(path: Path) -> dict[str, Trajectory]:
    return {t.session_id: t for t in ingest([path], IngestReport())}


def test_long_session_fits_the_budget_with_ids_and_markers(shared_traces: Path) -> None:
    session = _trajectories(shared_traces / "claude-code")["258c7280-ae70-4798-800f-63464d01a85d"]
    rendered = render_trajectory(session, 3000, count)
    assert rendered.fits and rendered.tokens <= 3000
    assert rendered.raw_tokens > 20 * rendered.tokens  # 159 steps, ~170k tokens raw
    assert abs(count(rendered.text) - rendered.tokens) < 0.05 * rendered.tokens
    shown = [s.step_id for s in session.steps if f"### step {s.step_id} · " in rendered.text]
    assert shown[0] == 1 and shown[-1] == session.steps[-1].step_id
    assert set(shown).isdisjoint(rendered.omitted_steps) and len(shown) + len(rendered.omitted_steps) == len(session.steps)
    assert "omitted to fit the token budget]" in rendered.text
    assert rendered.cut_blocks > 0 and "characters cut …]" in rendered.text


def test_small_trajectory_is_shown_whole(sample_traces: Path) -> None:
    trajectory = _trajectories(sample_traces / "tau-bench")["tau-bench:gpt-4o-airline-sample:task1:trial1"]
    rendered = render_trajectory(trajectory, 100_000, count)
    assert rendered.cut_blocks == 0 and not rendered.omitted_steps
    for step in trajectory.steps:
        assert f"### step {step.step_id} · {step.source}" in rendered.text
        assert normalize_whitespace(step.message) in normalize_whitespace(rendered.text)
    assert rendered.tokens <= rendered.raw_tokens


def test_lazy_budget_is_counted_only_when_the_size_does_not_settle_it(sample_traces: Path) -> None:
    trajectory = _trajectories(sample_traces / "tau-bench")["tau-bench:gpt-4o-airline-sample:task13:trial0"]
    size = len(render_trajectory(trajectory, 10**9, count).text.encode())
    asked: list[int] = []

    def exact(budget: int):
        return lambda: asked.append(budget) or budget

    whole = render_trajectory(trajectory, LazyBudget(size, exact(size)), count)
    assert asked == [] and whole.cut_blocks == 0 and not whole.in_parts
    budget = count(whole.text) * 2 // 3
    lazy = render_trajectory(trajectory, LazyBudget(size - 1, exact(budget)), count)
    assert asked == [budget] and lazy.in_parts and lazy.tokens <= budget
    assert lazy.text == render_trajectory(trajectory, budget, count).text


def test_errors_stay_whole_while_other_text_is_cut(sample_traces: Path) -> None:
    trajectory = _trajectories(sample_traces / "tau-bench")["tau-bench:gpt-4o-airline-sample:task13:trial0"]
    error_steps = [s for s in trajectory.steps if s.observation and any(r.is_error for r in s.observation.results)]
    assert error_steps
    budget = render_trajectory(trajectory, 100_000, count).tokens * 2 // 3
    rendered = render_trajectory(trajectory, budget, count)
    assert rendered.tokens <= budget and rendered.cut_blocks > 0
    for step in error_steps:
        if step.step_id not in rendered.omitted_steps:
            for result in step.observation.results:
                assert normalize_whitespace(result.content) in normalize_whitespace(rendered.text)


def _synthetic(session_id: str, steps: list[Step]) -> Trajectory:
    return Trajectory(session_id, Agent("test-agent"), steps, SourceRef("claude-code", "x.jsonl"))


def test_base64_payloads_are_dropped() -> None:
    payload = base64.b64encode(bytes(range(256)) * 40).decode()
    steps = [
        Step(1, "user", "Here is the screenshot you asked for: data:image/png;base64," + payload + " please look at it"),
        Step(
            2,
            "agent",
            "Reading the attachment",
            tool_calls=[ToolCall("c1", "Read", {"file_path": "/tmp/a.png"})],
            observation=Observation([ObservationResult("c1", "file content follows\n" + payload)]),
        ),
    ]
    rendered = render_trajectory(_synthetic("s1", steps), 10_000, count)
    assert payload[:64] not in rendered.text
    assert rendered.text.count(BASE64_MARK) == 2
    assert "please look at it" in rendered.text and "file content follows" in rendered.text


def test_repeated_context_is_shown_once_across_trajectories(shared_traces: Path) -> None:
    trajectories = _trajectories(shared_traces / "tau-bench")
    first, second = trajectories["tau-bench:gpt-4o-airline:task0:trial0"], trajectories["tau-bench:gpt-4o-airline:task0:trial1"]
    assert first.steps[0].message == second.steps[0].message  # the same policy prompt
    seen: dict[str, str] = {}
    one = render_trajectory(first, 100_000, count, seen=seen, label=first.session_id)
    two = render_trajectory(second, 100_000, count, seen=seen, label=second.session_id)
    assert "# Airline Agent Policy" in one.text
    assert "# Airline Agent Policy" not in two.text
    assert f"[same as {first.session_id} step 1]" in two.text
    assert two.tokens < one.tokens / 2


@pytest.mark.parametrize("budget", [50, 400])
def test_tiny_budget_keeps_two_steps_and_says_it_does_not_fit(sample_traces: Path, budget: int) -> None:
    trajectory = _trajectories(sample_traces / "tau-bench")["tau-bench:gpt-4o-airline-sample:task13:trial0"]
    rendered = render_trajectory(trajectory, budget, count)
    kept = len(trajectory.steps) - len(rendered.omitted_steps)
    assert kept >= 2
    assert rendered.fits == (rendered.tokens <= budget)
