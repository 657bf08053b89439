"""Evidence for the HTML report: lessons with their citations, and the cited trajectories in the
compact shape the page's viewer renders (``templates/report/viewer.js.j2``).

Every citation (``session_id``, ``step_ids``, ``quote``) is located here, in code, in the text the
viewer will show: the quote is searched in each field of each cited step (message, reasoning, a
call's name and arguments, a result) the way the grounding check reads it
(:func:`skillforge.analyze.grounding.grounding_problems`: whitespace runs are equal), and each hit
becomes a *mark* ``{"step", "field", "start", "end"}`` with offsets in UTF-16 code units, the unit of
JavaScript strings. The viewer only wraps those ranges; it never searches.

Field names of a compact step: ``m`` message, ``r`` reasoning, ``f<i>`` / ``a<i>`` the name and the
arguments (compact JSON, keys sorted, as ``Step.text`` writes them) of call ``i``, ``o<i>`` result ``i``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from skillforge.trajectory import Step, Trajectory


def step_fields(step: Step) -> dict[str, str]:
    """The texts of ``step`` the viewer shows, by field name (see the module docstring); empty ones left out."""
    fields: dict[str, str] = {}
    if step.message:
        fields["m"] = step.message
    if step.reasoning_content:
        fields["r"] = step.reasoning_content
    for index, call in enumerate(step.tool_calls):
        fields[f"f{index}"] = call.function_name
        fields[f"a{index}"] = _arguments_text(call.arguments)
    for index, result in enumerate(step.observation.results if step.observation else []):
        fields[f"o{index}"] = result.content
    return fields


def compact_trajectory(trajectory: Trajectory, base: Path | None = None) -> dict[str, Any]:
    """The trajectory as the viewer reads it (short keys keep a 200-trajectory page small).

    Args:
        trajectory: a trajectory of the run (already redacted by ingest).
        base: the folder relative source paths are resolved against (the run's working folder);
            None: the current folder.

    Returns:
        ``{"id", "agent", "task", "source": {"format", "path", "line", "href"}, "outcome": {...},
        "steps": [{"n", "src", "t", "m", "r", "c": [[name, arguments, call_id]],
        "o": [[content, is_error, call_id]]}]}``;
        ``href`` is a ``file://`` URL of the log when the file exists, else None.
    """
    steps = []
    for step in trajectory.steps:
        entry: dict[str, Any] = {"n": step.step_id, "src": step.source}
        if step.timestamp:
            entry["t"] = step.timestamp
        if step.message:
            entry["m"] = step.message
        if step.reasoning_content:
            entry["r"] = step.reasoning_content
        if step.tool_calls:
            entry["c"] = [
                [call.function_name, _arguments_text(call.arguments), call.tool_call_id] for call in step.tool_calls
            ]
        if step.observation and step.observation.results:
            entry["o"] = [
                [result.content, bool(result.is_error), result.source_call_id] for result in step.observation.results
            ]
        steps.append(entry)
    agent = " ".join(part for part in (trajectory.agent.name, trajectory.agent.model_name) if part)
    outcome = trajectory.outcome
    return {
        "id": trajectory.session_id,
        "agent": agent,
        "task": trajectory.task_id,
        "source": {
            "format": trajectory.source.format,
            "path": trajectory.source.path,
            "line": trajectory.source.line,
            "href": source_href(trajectory.source.path, base),
        },
        "outcome": {
            "status": outcome.status,
            "reward": outcome.reward,
            "origin": outcome.origin,
            "detail": outcome.detail,
        },
        "steps": steps,
    }


SHARED_TEXT_CHARS = 256
"""Texts at least this long that occur more than once (a system prompt repeated in every
trajectory of a benchmark) are stored once in the page (:func:`share_texts`)."""


def share_texts(trajectories: Mapping[str, dict[str, Any]]) -> list[str]:
    """Store repeated long texts once: in the compact ``trajectories`` (changed in place), a message,
    reasoning, arguments or result text of :data:`SHARED_TEXT_CHARS` or more characters that occurs
    more than once is replaced by its index in the returned list (the viewer looks it up). On 200
    tau-bench trajectories this halves the page (each repeats the airline policy).

    Returns:
        The shared texts, in first-seen order.
    """
    counts: dict[str, int] = {}
    for text in _texts(trajectories):
        if len(text) >= SHARED_TEXT_CHARS:
            counts[text] = counts.get(text, 0) + 1
    index: dict[str, int] = {}
    for text, count in counts.items():
        if count > 1:
            index[text] = len(index)

    def ref(text: Any) -> Any:
        return index.get(text, text) if isinstance(text, str) else text

    for trajectory in trajectories.values():
        for step in trajectory["steps"]:
            for key in ("m", "r"):
                if key in step:
                    step[key] = ref(step[key])
            for call in step.get("c", []):
                call[1] = ref(call[1])
            for result in step.get("o", []):
                result[0] = ref(result[0])
    return list(index)


def _texts(trajectories: Mapping[str, dict[str, Any]]) -> Iterable[str]:
    for trajectory in trajectories.values():
        for step in trajectory["steps"]:
            yield from (step[key] for key in ("m", "r") if key in step)
            yield from (call[1] for call in step.get("c", []))
            yield from (result[0] for result in step.get("o", []))


def source_href(path: str, base: Path | None = None) -> str | None:
    """A ``file://`` URL of the log ``path`` (relative paths resolved against ``base``), or None when it is
    not a file."""
    candidate = Path(path)
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    try:
        return candidate.resolve().as_uri() if candidate.is_file() else None
    except (OSError, ValueError):
        return None


def locate_quote(quote: str, steps: Iterable[Step]) -> list[dict[str, Any]]:
    """Where ``quote`` occurs in ``steps``: one mark per hit (see the module docstring).

    The quote matches when its words occur in order separated by any whitespace (the grounding
    check's rule); a field-exact match is looked for first, case-insensitively only when none is
    found. A quote that runs across two fields of a step (possible under the grounding rule, which
    joins them) yields no mark; the viewer then says the quote is not marked.

    Returns:
        ``[{"step": step_id, "field": name, "start": int, "end": int}]``, offsets in UTF-16 code units.
    """
    words = quote.split()
    if not words:
        return []
    pattern = r"\s+".join(re.escape(word) for word in words)
    steps = list(steps)
    for flags in (0, re.IGNORECASE):
        regex = re.compile(pattern, flags)
        marks = []
        for step in steps:
            for name, text in step_fields(step).items():
                for match in regex.finditer(text):
                    marks.append(
                        {
                            "step": step.step_id,
                            "field": name,
                            "start": _utf16(text, match.start()),
                            "end": _utf16(text, match.end()),
                        }
                    )
        if marks:
            return marks
    return []


def lesson_entries(
    lessons: Mapping[str, Mapping[str, Any]], trajectories: Mapping[str, Trajectory]
) -> dict[str, dict[str, Any]]:
    """Lessons as the viewer reads them, each citation located in its trajectory.

    Args:
        lessons: lesson id → lesson dict (``Lesson.to_dict()`` or a provenance entry: ``title``,
            ``kind``, ``evidence`` and, when known, ``when``, ``guidance``, ``rationale``).
        trajectories: the run's trajectories by session id (may be empty: a stored version whose run
            folder is gone).

    Returns:
        id → ``{"id", "title", "kind", "when", "guidance", "rationale", "support", "evidence":
        [{"session", "steps", "quote", "marks", "found"}]}``; ``support`` is the number of distinct
        sessions cited; ``found`` is False when the session is not in ``trajectories``.
    """
    out: dict[str, dict[str, Any]] = {}
    for lesson_id, lesson in lessons.items():
        evidence = []
        for item in lesson.get("evidence") or []:
            session = str(item.get("session_id", ""))
            step_ids = [int(step) for step in item.get("step_ids") or []]
            quote = str(item.get("quote", ""))
            trajectory = trajectories.get(session)
            marks: list[dict[str, Any]] = []
            if trajectory is not None:
                cited = [step for step in (trajectory.step(step_id) for step_id in step_ids) if step is not None]
                marks = locate_quote(quote, cited)
            evidence.append(
                {"session": session, "steps": step_ids, "quote": quote, "marks": marks, "found": trajectory is not None}
            )
        out[lesson_id] = {
            "id": lesson_id,
            "title": str(lesson.get("title", "")),
            "kind": str(lesson.get("kind", "")),
            "when": str(lesson.get("when", "") or ""),
            "guidance": str(lesson.get("guidance", "") or ""),
            "rationale": str(lesson.get("rationale", "") or ""),
            "support": len({e["session"] for e in evidence}),
            "evidence": evidence,
        }
    return out


def cited_sessions(lessons: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Session ids cited by any of ``lessons`` (the shape of :func:`lesson_entries`' output)."""
    return {e["session"] for lesson in lessons.values() for e in lesson["evidence"]}


def _arguments_text(arguments: Any) -> str:
    """A call's arguments as ``Step.text`` writes them (compact JSON, keys sorted), so quotes match."""
    try:
        return orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return str(arguments)


def _utf16(text: str, index: int) -> int:
    """The UTF-16 offset of code point ``index`` of ``text`` (what a JavaScript string index means)."""
    prefix = text[:index]
    return index + sum(1 for char in prefix if ord(char) > 0xFFFF)
