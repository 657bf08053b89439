"""Building ATIF steps: the one place where messages, tool calls and tool results are folded into
:class:`~skillforge.trajectory.Step` objects, shared by every format module.
"""

from __future__ import annotations

from typing import Any

from skillforge.ingest.coerce import as_float, as_int, content_text, literal, parse_arguments
from skillforge.ingest.tool_errors import mark
from skillforge.trajectory import Observation, ObservationResult, Step, StepMetrics, StepSource, ToolCall


class StepBuilder:
    """Builds the ATIF steps of one trajectory from messages, tool calls and tool results.

    Results are attached to the step that holds their call (matched by call id); a result whose
    call is unknown becomes its own agent step marked ``extra.orphan_result``. Used by every format
    module so that this folding is written once.
    """

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._call_step: dict[str, Step] = {}
        self._pending: list[str] = []

    def step(
        self,
        source: StepSource,
        message: str = "",
        timestamp: str | None = None,
        reasoning_content: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Step:
        """Append a new step (``step_id`` is its 1-based position) and return it."""
        # every field given by position: keyword arguments and default factories cost a third of
        # the step's construction, and a log makes one step per message
        step = Step(
            len(self.steps) + 1,
            source,
            message or "",
            timestamp,
            reasoning_content,
            [],
            None,
            None,
            {} if extra is None else extra,
        )
        self.steps.append(step)
        return step

    def call(self, step: Step, call_id: Any, name: Any, arguments: Any) -> ToolCall:
        """Add a tool call to ``step``; ``arguments`` are parsed leniently (:func:`parse_arguments`)."""
        call_id = str(call_id) if call_id not in (None, "") else f"step{step.step_id}-call{len(step.tool_calls) + 1}"
        call = ToolCall(call_id, str(name) if name not in (None, "") else "?", parse_arguments(arguments))
        step.tool_calls.append(call)
        self._call_step[call_id] = step
        self._pending.append(call_id)
        return call

    def result(self, call_id: Any, content: Any, is_error: bool = False, **orphan_fields: Any) -> ObservationResult:
        """Attach a tool result to the step of call ``call_id``.

        With ``call_id`` None the result answers the oldest call still without one (formats that
        pair results by order). Returns the result added.
        """
        if call_id in (None, "") and self._pending:
            call_id = self._pending[0]
        call_id = None if call_id in (None, "") else str(call_id)
        step = self._call_step.get(call_id) if call_id is not None else None
        if step is None:
            step = self.step("agent", extra={"orphan_result": True}, **orphan_fields)
        if step.observation is None:
            step.observation = Observation([])
        result = ObservationResult(call_id, content_text(content), bool(is_error))
        step.observation.results.append(result)
        if call_id in self._pending:
            self._pending.remove(call_id)
        return result

    def step_of(self, call_id: str | None) -> Step | None:
        """The step holding call ``call_id``, or None."""
        return self._call_step.get(call_id) if call_id is not None else None

    def last(self, source: StepSource | None = None) -> Step | None:
        """The last step (of ``source``, if given), or None."""
        for step in reversed(self.steps):
            if source is None or step.source == source:
                return step
        return None


def add_chat_messages(builder: StepBuilder, messages: list[Any], error_of: Any = None, skip: Any = None) -> None:
    """Fold an OpenAI Chat Completions message list into ``builder``'s steps.

    Handles ``system``/``developer`` (system steps), ``user``, ``assistant`` (``tool_calls`` in the
    OpenAI shape ``{id, function{name, arguments}}`` or the flat ``{id, name|function, arguments}``
    of tau2 and Inspect, legacy ``function_call``), ``tool``/``function`` results
    (``tool_call_id``; ``error`` fields mark failures), and content given as a string or a list
    of parts. Reasoning parts go to ``reasoning_content``.

    Args:
        builder: where steps go.
        messages: the message list.
        error_of: optional ``(message, text) -> bool`` deciding whether a tool result is an error
            beyond the explicit ``error``/``is_error`` fields (tau-bench: text starts with ``Error``).
        skip: optional ``message -> bool``; messages it accepts are left out (demonstrations).

    Raises:
        TypeError / ValueError: on a message that is not an object or has an unknown role; the
        caller reports the trajectory as skipped.
    """
    for message in messages:
        if not isinstance(message, dict):
            raise TypeError(f"a message is {type(message).__name__}, not an object")
        if skip is not None and skip(message):
            continue
        get = message.get
        role = get("role")
        if not isinstance(role, str):
            role = repr(role)
        content = get("content")
        if role == "tool" or role == "function":
            if not isinstance(get("tool_call_id", get("id", "")), (str, int, type(None))):
                raise TypeError("a tool message's call id is not a string")
            text = content_text(content)
            error = get("error")
            is_error = bool(error) or bool(get("is_error"))
            if isinstance(error, dict) and error.get("message") and error["message"] not in text:
                text = f"{text}\n{error['message']}".strip()
            if not is_error and error_of is not None:
                is_error = bool(error_of(message, text))
            call_id = get("tool_call_id") or get("id") if role == "tool" else None
            timestamp = get("timestamp")
            stamp = timestamp if isinstance(timestamp, str) else None
            result = builder.result(call_id, text, is_error, timestamp=stamp)
            if is_error:  # the message's own error field, else the format's own rule (error_of)
                step = builder.step_of(result.source_call_id) or builder.last()
                if step is not None:
                    mark(step, result, "flag" if error or get("is_error") else "harness")
            continue
        source = _CHAT_SOURCE.get(role)
        if source is None:
            raise ValueError(f"unknown message role {role!r}")
        text, reasoning = (content, None) if isinstance(content, str) else _text_and_reasoning(content)
        reasoning = reasoning or get("reasoning_content") or get("reasoning") or None
        timestamp = get("timestamp")
        step = builder.step(
            source,
            text,
            timestamp=timestamp if isinstance(timestamp, str) else None,
            reasoning_content=reasoning if isinstance(reasoning, str) else None,
        )
        if role == "assistant":
            usage = get("usage")
            if isinstance(usage, dict):
                step.metrics = StepMetrics(
                    as_int(usage.get("prompt_tokens", usage.get("input_tokens"))),
                    as_int(usage.get("completion_tokens", usage.get("output_tokens"))),
                    as_float(get("cost")),
                )
        calls = get("tool_calls")
        if calls:
            if isinstance(calls, str):
                calls = literal(calls) or ()
            for call in calls:
                if not isinstance(call, dict):
                    continue
                function = call.get("function")
                if isinstance(function, dict):
                    name, arguments = function.get("name"), function.get("arguments")
                else:
                    name, arguments = call.get("name") or function, call.get("arguments")
                builder.call(step, call.get("id"), name, arguments)
                if call.get("requestor") == "user" or role == "user":
                    step.extra.setdefault("user_call_ids", []).append(step.tool_calls[-1].tool_call_id)
        legacy = get("function_call")
        if legacy is not None and isinstance(legacy, dict):
            builder.call(step, None, legacy.get("name"), legacy.get("arguments"))


_CHAT_SOURCE: dict[str, StepSource] = {"system": "system", "developer": "system", "user": "user", "assistant": "agent"}


def _text_and_reasoning(content: Any) -> tuple[str, str | None]:
    """Split content parts into visible text and reasoning (``reasoning``/``thinking`` parts)."""
    if not isinstance(content, list):
        return content_text(content), None
    texts, reasoning = [], []
    for part in content:
        if isinstance(part, dict) and part.get("type") in ("reasoning", "thinking"):
            value = part.get("reasoning") or part.get("thinking") or part.get("text") or part.get("summary")
            if isinstance(value, str) and value.strip():
                reasoning.append(value)
        else:
            texts.append(part)
    return content_text(texts), "\n\n".join(reasoning) or None
