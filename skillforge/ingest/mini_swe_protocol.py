"""How mini-swe-agent's messages become steps: its own action rule, its own error messages.

Upstream (SWE-agent/mini-swe-agent):

* **v1 text protocol** — ``DefaultAgent.parse_action`` in ``minisweagent/agents/default.py``:
  ``re.findall(action_regex, content, re.DOTALL)``; exactly one match is the command, zero or
  several raise ``FormatError`` and the agent is sent ``format_error_template``. The regex is
  ``AgentConfig.action_regex`` (v1.16+, saved in ``info.config.agent``), hard-coded before that;
  both are :data:`V1_ACTION_REGEX`. The command's output comes back as the next user message
  (``action_observation_template``: ``<returncode>N</returncode><output>…``), or, when it ran too
  long, as ``timeout_template`` (``ExecutionTimeoutError``).
* **v2 text protocol** — ``minisweagent/models/utils/actions_text.py``: the same rule with the
  model's ``action_regex`` (``info.config.model``; default :data:`V2_TEXT_ACTION_REGEX` in
  ``models/litellm_textbased_model.py``); observations carry ``extra.returncode`` and
  ``extra.exception_info``, format errors ``extra.interrupt_type: "FormatError"``.
* **v2 tool calls** — ``minisweagent/models/utils/actions_toolcall.py``: ``tool_calls`` of the
  ``bash`` tool, answered by ``role: "tool"`` messages with the same ``extra``; a reply without a
  valid tool call is answered by a user message with ``interrupt_type: "FormatError"``.

A format error is recorded as what the agent was told: the agent step keeps its text, has no tool
call, is marked ``extra.format_error = {"actions": n}``, and the harness's reply is an error
result (kind ``format_error``) on that step. A timeout reply is an error of kind ``timeout``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from skillforge.ingest.coerce import as_dict, as_float, as_int, content_text
from skillforge.ingest.steps import StepBuilder
from skillforge.ingest.tool_errors import ErrorKind, add_result, mark
from skillforge.trajectory import Observation, ObservationResult, Step, StepMetrics

V1_ACTION_REGEX = r"```bash\s*\n(.*?)\n```"
"""``AgentConfig.action_regex`` default (``minisweagent/agents/default.py``, v1.0–v1.17)."""

V2_TEXT_ACTION_REGEX = r"```mswea_bash_command\s*\n(.*?)\n```"
"""``action_regex`` default of the v2 text-based models (``models/litellm_textbased_model.py``)."""

V1_TIMEOUT_TEMPLATE = (
    "The last command <command>{{action['action']}}</command> timed out and has been killed.\n"
    "The output of the command was:\n <output>\n{{output}}\n</output>\n"
    "Please try another command and make sure to avoid those requiring interactive input."
)
"""``AgentConfig.timeout_template`` default (``minisweagent/agents/default.py``, v1)."""

_RETURN_CODE = re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>")
_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass
class ActionRule:
    """The action rule and harness messages of one trajectory, from its saved config.

    Attributes:
        regex: the action regex (compiled with ``re.DOTALL``).
        timeout_parts: literal pieces of the timeout template, in order (a reply holding them all
            is the timeout message).
        source: ``"config"`` when the regex was saved in the trajectory, else ``"default"``.
    """

    regex: re.Pattern[str]
    timeout_parts: tuple[str, ...]
    source: str

    @classmethod
    def of(cls, info: dict[str, Any]) -> ActionRule:
        """The rule for a trajectory whose ``info`` is given (``info.config.agent/model``)."""
        config = as_dict(info.get("config"))
        agent = as_dict(config.get("agent"))
        model = as_dict(config.get("model"))
        saved = agent.get("action_regex") or model.get("action_regex")
        version = str(info.get("mini_version") or "")
        default = V2_TEXT_ACTION_REGEX if version[:1].isdigit() and int(version.split(".")[0]) >= 2 else V1_ACTION_REGEX
        regex, source = (saved, "config") if isinstance(saved, str) and saved else (default, "default")
        try:
            compiled = re.compile(regex, re.DOTALL)
        except re.error:
            compiled, source = re.compile(default, re.DOTALL), "default"
        saved_timeout = agent.get("timeout_template")
        timeout: str = saved_timeout if isinstance(saved_timeout, str) else V1_TIMEOUT_TEMPLATE
        return cls(compiled, _literal_parts(timeout), source)

    def actions(self, text: str) -> list[str]:
        """The commands in an assistant reply, as ``parse_action`` finds them (stripped)."""
        return [a.strip() if isinstance(a, str) else str(a[0]).strip() for a in self.regex.findall(text)]

    def is_timeout(self, text: str) -> bool:
        """True when ``text`` is the harness's timeout message."""
        if not self.timeout_parts:
            return False
        at = 0
        for part in self.timeout_parts:
            at = text.find(part, at)
            if at < 0:
                return False
            at += len(part)
        return True


def fold_text(builder: StepBuilder, messages: list[Any], rule: ActionRule) -> None:
    """Steps of a text-protocol trajectory (v1, or v2 text-based).

    Raises:
        TypeError / ValueError: on a message that is not an object or has an unknown role.
    """
    task_given = False
    pending: tuple[str, Any] | None = None  # ("call", call id) or ("format", agent step)
    for message in messages:
        role, text, extra = _unpack(message)
        if role == "assistant":
            step = _agent_step(builder, message, text)
            actions = rule.actions(text)
            if len(actions) == 1:
                pending = ("call", builder.call(step, None, "bash", {"command": actions[0]}).tool_call_id)
            else:
                step.extra["format_error"] = {"actions": len(actions)}
                pending = ("format", step)
        elif role == "user":
            if not task_given:
                builder.step("user", text)
                task_given = True
            elif pending is not None and pending[0] == "call":
                add_result(builder, pending[1], text, _observation_error(text, extra, rule))
                pending = None
            elif pending is not None:
                _feedback(pending[1], text, "format_error")
                pending = None
            else:
                builder.step("user", text, extra={"environment_feedback": True})
        else:
            _other(builder, role, text)


def fold_tool_calls(builder: StepBuilder, messages: list[Any], rule: ActionRule) -> None:
    """Steps of a v2 tool-calling trajectory.

    Raises:
        TypeError / ValueError: on a message that is not an object or has an unknown role.
    """
    task_given = False
    last_agent: Step | None = None
    for message in messages:
        role, text, extra = _unpack(message)
        if role == "assistant":
            last_agent = _agent_step(builder, message, text)
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict):
                    function = as_dict(call.get("function"))
                    builder.call(last_agent, call.get("id"), function.get("name"), function.get("arguments"))
        elif role == "tool":
            add_result(builder, message.get("tool_call_id"), text, _observation_error(text, extra, rule))
        elif role == "user":
            if not task_given:
                builder.step("user", text)
                task_given = True
            elif extra.get("interrupt_type") == "FormatError" and last_agent is not None:
                last_agent.extra["format_error"] = {"actions": len(last_agent.tool_calls)}
                _feedback(last_agent, text, "format_error")
            else:
                builder.step("user", text, extra={"environment_feedback": True, **_interrupt(extra)})
        else:
            _other(builder, role, text)


def _unpack(message: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(message, dict):
        raise TypeError(f"a message is {type(message).__name__}, not an object")
    role = message.get("role")
    extra = as_dict(message.get("extra"))
    return str(role), content_text(message.get("content")), extra


def _other(builder: StepBuilder, role: str, text: str) -> None:
    if role == "system":
        builder.step("system", text)
    elif role == "exit":
        builder.step("system", text, extra={"exit": True})
    else:
        raise ValueError(f"unknown role {role!r}")


def _agent_step(builder: StepBuilder, message: dict[str, Any], text: str) -> Step:
    response = _response(message)
    step = builder.step("agent", text, reasoning_content=_reasoning(response, message))
    usage = response.get("usage") if isinstance(response.get("usage"), dict) else None
    if usage:
        cost = message["extra"].get("cost") if isinstance(message.get("extra"), dict) else None
        step.metrics = StepMetrics(
            as_int(usage.get("prompt_tokens")),
            as_int(usage.get("completion_tokens")),
            as_float(usage.get("cost", cost)),
        )
    return step


def _observation_error(text: str, extra: dict[str, Any], rule: ActionRule) -> ErrorKind | None:
    """Structured first (``extra.returncode``, ``exception_info``, ``interrupt_type``), then the
    ``<returncode>`` the observation template wrote, then the harness's timeout message."""
    code = extra.get("returncode")
    if isinstance(code, int) and not isinstance(code, bool):
        return "exit_code" if code != 0 else ("harness" if extra.get("exception_info") else None)
    if extra.get("interrupt_type") == "FormatError":
        return "format_error"
    match = _RETURN_CODE.search(text[:200])
    if match:
        return "exit_code" if int(match.group(1)) != 0 else None
    return "timeout" if rule.is_timeout(text) else None


def _feedback(step: Step, text: str, kind: ErrorKind) -> None:
    if step.observation is None:
        step.observation = Observation()
    result = ObservationResult(None, text, True)
    step.observation.results.append(result)
    mark(step, result, kind)


def _interrupt(extra: dict[str, Any]) -> dict[str, Any]:
    kind = extra.get("interrupt_type")
    return {"interrupt_type": kind} if isinstance(kind, str) else {}


def _response(message: dict[str, Any]) -> dict[str, Any]:
    extra = message.get("extra")
    response = extra.get("response") if isinstance(extra, dict) else None
    return response if isinstance(response, dict) else {}


def _reasoning(response: dict[str, Any], message: dict[str, Any]) -> str | None:
    candidates = [message]
    choices = response.get("choices")
    if (
        isinstance(choices, list)
        and choices
        and isinstance(choices[0], dict)
        and isinstance(choices[0].get("message"), dict)
    ):
        candidates.insert(0, choices[0]["message"])
    for candidate in candidates:
        for key in ("reasoning", "reasoning_content"):
            value = candidate.get(key)
            if isinstance(value, str) and value and not value.isspace():
                return value
    return None


def _literal_parts(template: str) -> tuple[str, ...]:
    """The template's literal text between tags, trimmed, keeping pieces long enough to be telling."""
    return tuple(p for p in (piece.strip() for piece in _TEMPLATE_TAG.split(template)) if len(p) >= 12)
