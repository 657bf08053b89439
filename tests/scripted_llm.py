"""A scripted model behind litellm: a custom provider (``scripted/<anything>``) for tests.

The LLM path under test is the real one (``litellm.acompletion`` called from skillforge.llm);
only the provider at the end is replaced. A test sets a *responder*, a function
``(messages, call_index) -> str | Exception``; strings become the reply, exceptions are raised
(use :func:`rate_limited`, :func:`timed_out`, :func:`server_error` for realistic faults, and
:class:`Truncated` for a reply cut at ``max_tokens``).
Registered once per process through ``litellm.custom_provider_map``.

:func:`lesson_responder` is a rule-made analyst: it reads the rendered trajectories in the
prompt (``## Trajectory <id>`` / ``### step N · source`` blocks) and answers with a lesson that
cites a step shown there and quotes a line of it, in the reply shape the prompt's analyst asks
for. A ``fault`` hook lets a test replace any answer with an error or a broken reply.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from skillforge.llm.lib import litellm

Responder = Callable[[list[dict[str, Any]], int], "str | Exception"]


@dataclass
class ScriptedCall:
    model: str
    messages: list[dict[str, Any]]
    optional_params: dict[str, Any]
    started: float = 0.0  # time.monotonic() when the call reached the model
    ended: float | None = None  # ... and when the model answered it (None: no answer)


@dataclass
class ScriptState:
    responder: Responder | None = None
    calls: list[ScriptedCall] = field(default_factory=list)
    latency_s: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    hang_from: int | None = None  # calls with this index or later never answer (for kill tests)
    hang_signal: str | None = None  # a file that gets one line per call that starts hanging (the test waits for it)
    bucket: TokenBucket | None = None  # a rate limit: calls past it get a 429 with Retry-After
    rejected: int = 0  # calls answered with that 429
    responder_cpu_s: float = 0.0  # CPU seconds spent in the responder (the model's side, not skillforge's)


class TokenBucket:
    """A provider's rate limit: ``rate_per_s`` requests per second, up to ``burst`` at once.

    :meth:`take` returns None when a request may go through, else the seconds until one may
    (the ``Retry-After`` a provider sends with its 429).
    """

    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        self.rate = rate_per_s
        self.capacity = burst if burst is not None else max(1.0, rate_per_s)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> float | None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


STATE = ScriptState()
_registered = False


def install(
    responder: Responder,
    latency_s: float = 0.0,
    hang_from: int | None = None,
    rate_per_s: float | None = None,
    burst: float | None = None,
    hang_signal: str | None = None,
) -> ScriptState:
    """Register the provider (once) and reset the script; returns the shared state.

    Args:
        responder: ``(messages, call_index) -> reply text | exception``.
        latency_s: seconds each call takes.
        hang_from: calls from this index on wait forever (a run to kill from outside).
        hang_signal: a file; each call that starts waiting forever appends ``hang <index>`` to it,
            so that a test interrupting the run waits for that, not for time.
        rate_per_s: a rate limit (requests per second, a token bucket of ``burst`` requests,
            default one second's worth); a call past it is answered at once with a 429 carrying
            the seconds until the next request may go (``Retry-After``). Rejected calls are
            counted in ``rejected``, not in ``calls``.
    """
    global _registered
    lib = litellm()
    if not _registered:
        lib.custom_provider_map = [
            *lib.custom_provider_map,
            {"provider": "scripted", "custom_handler": _handler_class(lib)()},
        ]
        _registered = True
    STATE.responder = responder
    STATE.calls = []
    STATE.latency_s = latency_s
    STATE.in_flight = STATE.max_in_flight = 0
    STATE.hang_from = hang_from
    STATE.hang_signal = hang_signal
    STATE.bucket = TokenBucket(rate_per_s, burst) if rate_per_s else None
    STATE.rejected = 0
    STATE.responder_cpu_s = 0.0
    return STATE


def _respond(responder: Responder, messages: list[dict[str, Any]], index: int) -> str | Exception:
    clock = time.thread_time()
    try:
        return responder(messages, index)
    finally:
        STATE.responder_cpu_s += time.thread_time() - clock


def _handler_class(lib):
    class ScriptedLLM(lib.CustomLLM):
        async def acompletion(self, model, messages, *args, **kwargs):  # noqa: D401 - litellm signature
            if STATE.bucket is not None and (wait := STATE.bucket.take()) is not None:
                STATE.rejected += 1
                raise rate_limited(retry_after=round(wait, 3))
            index = len(STATE.calls)
            call = ScriptedCall(model, messages, dict(kwargs.get("optional_params") or {}), time.monotonic())
            STATE.calls.append(call)
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
            try:
                assert STATE.responder is not None, "no responder installed"
                if STATE.latency_s:
                    await asyncio.sleep(STATE.latency_s)
                if STATE.hang_from is not None and index >= STATE.hang_from:
                    if STATE.hang_signal:
                        with open(STATE.hang_signal, "a", encoding="utf-8") as signal:
                            signal.write(f"hang {index}\n")
                    await asyncio.sleep(3600)
                out = _respond(STATE.responder, messages, index)
                call.ended = time.monotonic()
            finally:
                STATE.in_flight -= 1
            if isinstance(out, Exception):
                raise out
            finish = "stop"
            if isinstance(out, Truncated):
                out, finish = str(out), "length"
            prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4
            return lib.ModelResponse(
                model=model,
                choices=[{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": out}}],
                usage={
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(out) // 4,
                    "total_tokens": prompt_tokens + len(out) // 4,
                },
            )

        def completion(self, *args, **kwargs):
            raise NotImplementedError("the scripted provider is async only")

    return ScriptedLLM


PRICED_MODEL = "scripted/priced"
"""A scripted model with a price (USD per token) and a context size in litellm's model map."""
INPUT_USD_PER_TOKEN = 1e-6
OUTPUT_USD_PER_TOKEN = 2e-6
PRICED_CONTEXT_TOKENS = 16000


def register_price() -> str:
    """Give :data:`PRICED_MODEL` a price and a context size in litellm's local map; return its name."""
    litellm().register_model(
        {
            PRICED_MODEL: {
                "input_cost_per_token": INPUT_USD_PER_TOKEN,
                "output_cost_per_token": OUTPUT_USD_PER_TOKEN,
                "litellm_provider": "scripted",
                "mode": "chat",
                "max_input_tokens": PRICED_CONTEXT_TOKENS,
                "max_tokens": PRICED_CONTEXT_TOKENS,
            }
        }
    )
    return PRICED_MODEL


class Truncated(str):
    """A reply the provider cut at ``max_tokens`` (``finish_reason: "length"``): return one from a responder."""


def rate_limited(retry_after: float | None = 0.05) -> Exception:
    """A 429 as litellm raises it, with a Retry-After header (seconds) when given."""
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    response = httpx.Response(
        429, headers=headers, request=httpx.Request("POST", "http://scripted.invalid/v1/chat/completions")
    )
    return litellm().RateLimitError(
        "rate limited (scripted)", llm_provider="scripted", model="scripted", response=response
    )


def timed_out() -> Exception:
    return litellm().Timeout("request timed out (scripted)", model="scripted", llm_provider="scripted")


def server_error() -> Exception:
    return litellm().InternalServerError("internal error (scripted)", llm_provider="scripted", model="scripted")


def unauthorized() -> Exception:
    """A 401 as litellm raises it for a refused key."""
    return litellm().AuthenticationError(
        "Incorrect API key provided (scripted)", llm_provider="scripted", model="scripted"
    )


# --- a rule-made analyst -----------------------------------------------------------------------

_ANALYSTS = {
    "# Failure analyst": "failure",
    "# Success analyst": "success",
    "# Outcome judge and analyst": "judge",
    "# Comparative analyst": "comparative",
}
_TRAJECTORY = re.compile(r"^## Trajectory (.+)$", re.MULTILINE)
_STEP = re.compile(r"^### step (\d+) · (\w+)$", re.MULTILINE)


@dataclass
class PromptView:
    """What :func:`lesson_responder` reads from a prompt.

    Attributes:
        analyst: ``failure``, ``success``, ``judge`` or ``comparative`` (from the system message).
        repair: ``grounding`` or ``json`` when the last message asks for a repair, else None.
        sessions: session id → step id → (source, quotable lines, has an error, tools called).
        messages: the messages as sent.
    """

    analyst: str
    repair: str | None
    sessions: dict[str, dict[int, tuple[str, list[str], bool, list[str]]]]
    messages: list[dict[str, Any]]

    def steps(self, session: str) -> list[int]:
        return sorted(self.sessions[session])


def read_prompt(messages: list[dict[str, Any]]) -> PromptView:
    """Parse an analyst prompt (system + user messages, maybe followed by a repair exchange)."""
    system = str(messages[0]["content"])
    analyst = next((name for head, name in _ANALYSTS.items() if system.startswith(head)), "unknown")
    last = str(messages[-1]["content"])
    repair = (
        "grounding"
        if last.startswith("Some of your lessons failed")
        else "json"
        if last.startswith("Your reply was not valid")
        else None
    )
    sessions: dict[str, dict[int, tuple[str, list[str], bool, list[str]]]] = {}
    user = str(messages[1]["content"])
    heads = list(_TRAJECTORY.finditer(user))
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(user)
        body = user[head.end() : end]
        steps = list(_STEP.finditer(body))
        table = sessions.setdefault(head.group(1).strip(), {})
        for s_index, step in enumerate(steps):
            s_end = steps[s_index + 1].start() if s_index + 1 < len(steps) else len(body)
            lines = body[step.end() : s_end].splitlines()
            tools = [line.split()[2] for line in lines if line.startswith("→ call ")]
            quotable = [line.strip() for line in lines if _quotable(line)]
            table[int(step.group(1))] = (
                step.group(2),
                quotable,
                any(" ERROR" in line for line in lines if line.startswith("←")),
                tools,
            )
    return PromptView(analyst, repair, sessions, messages)


def _quotable(line: str) -> bool:
    line = line.strip()
    if line.startswith("[REDACTED_TEXT"):  # logs whose owner replaced all text (codex/localpush): still step text
        return True
    return len(line.split()) >= 4 and not line.startswith(("→", "←", "[", "(", "#", "{"))


def grounded_lesson(
    view: PromptView,
    session: str,
    kind: str,
    *,
    step_id: int | None = None,
    quote: str | None = None,
    shared_title: bool = False,
) -> dict[str, Any]:
    """A lesson citing a step of ``session`` shown in the prompt, quoting a line of it.

    The step is the last one with an error for failures, the first agent step with a quotable
    line for successes (falling back to any step with one). ``step_id``/``quote`` override the
    citation (to inject ungrounded evidence). The title names the step and session, or with
    ``shared_title`` only the kind and the tool called at the step, so lessons of different
    trajectories about one tool say the same thing (and merge into one item with their support).
    """
    steps = view.sessions[session]
    with_lines = [sid for sid in sorted(steps) if steps[sid][1]]
    errors = [sid for sid in with_lines if steps[sid][2]]
    agent = [sid for sid in with_lines if steps[sid][0] == "agent"]
    chosen = (errors[-1:] if kind == "failure" else []) or agent[:1] or with_lines[:1] or sorted(steps)[:1]
    cited = chosen[0]
    lines = steps[cited][1]
    text = quote if quote is not None else (" ".join(lines[0].split()[:12]) if lines else "step")
    tools = steps[cited][3]
    if shared_title:
        title = (
            f"{kind.capitalize()} pattern with {tools[0]}"
            if tools
            else f"{kind.capitalize()} pattern in this kind of task"
        )
    else:
        title = f"{kind.capitalize()} pattern at step {cited} of {session}"
    return {
        "kind": kind,
        "title": title[:200],
        "when": "A task of the same kind as this one",
        "guidance": "Do what the cited step shows, checking the result before going on.",
        "rationale": f"Step {cited} shows it.",
        "evidence": [{"session_id": session, "step_ids": [step_id if step_id is not None else cited], "quote": text}],
        "tags": [f"tool:{tool}" for tool in dict.fromkeys(tools)],
        "confidence": 0.6,
    }


def analyst_reply(view: PromptView, shared_title: bool = False, **citation: Any) -> dict[str, Any]:
    """The reply the prompt's analyst asks for, with one grounded lesson (see :func:`grounded_lesson`)."""
    sessions = list(view.sessions)
    first = sessions[0]
    citation["shared_title"] = shared_title
    if view.analyst == "failure":
        lesson = grounded_lesson(view, first, "failure", **citation)
        return {
            "root_cause": {
                "step_id": lesson["evidence"][0]["step_ids"][0],
                "description": "The agent went on without checking.",
            },
            "lessons": [lesson],
        }
    if view.analyst == "success":
        return {
            "lean_path": ["Read the request", "Call the tools in order", "Confirm"],
            "lessons": [grounded_lesson(view, first, "success", **citation)],
        }
    if view.analyst == "judge":
        status = "failure" if any(step[2] for step in view.sessions[first].values()) else "success"
        lesson = grounded_lesson(view, first, status, **citation)
        return {"outcome": {"status": status, "reason": "judged from the errors shown"}, "lessons": [lesson]}
    if view.analyst == "comparative":
        lesson = grounded_lesson(view, first, "success", **citation)
        if len(sessions) > 1 and set(citation) == {"shared_title"}:
            other = grounded_lesson(view, sessions[-1], "failure")
            lesson["evidence"].append(other["evidence"][0])
        return {"difference": "The successful run checked before acting.", "lessons": [lesson]}
    raise AssertionError(f"not an analyst prompt: {view.messages[0]['content'][:80]!r}")


Fault = Callable[[PromptView, int], "str | Exception | None"]


def lesson_responder(fault: Fault | None = None, shared_title: bool = False) -> Responder:
    """A responder answering every analyst prompt with one grounded lesson.

    Repair requests are answered too: a JSON repair with the normal reply, a grounding repair with
    ``{"lessons": [grounded lesson]}``. ``fault(view, call_index)`` runs first; when it returns
    a string or an exception, that is the answer instead. ``shared_title``: see :func:`grounded_lesson`.
    """

    def respond(messages: list[dict[str, Any]], index: int) -> str | Exception:
        view = read_prompt(messages)
        if fault is not None:
            out = fault(view, index)
            if out is not None:
                return out
        reply = analyst_reply(view, shared_title)
        if view.repair == "grounding":
            return json.dumps({"lessons": reply["lessons"]})
        return json.dumps(reply)

    return respond


def is_analyst_prompt(messages: list[dict[str, Any]]) -> bool:
    """True for an analyst pass's prompt (its system message opens with an analyst's heading)."""
    return messages[0].get("role") == "system" and str(messages[0]["content"]).startswith(tuple(_ANALYSTS))


def pipeline_responder(
    fault: Fault | None = None, build: Responder | None = None, log: list[str] | None = None
) -> Responder:
    """A responder for a whole ``distill``: analyst prompts get :func:`lesson_responder`'s grounded
    lessons (with ``fault``; titles shared by lessons about one tool), the build's prompts (propose, merge, translate, fix) the rule-made
    replies of ``tests/merge/skill_model.py`` (or ``build``). ``log`` collects each call's kind
    (``analyst``, ``propose``, ``merge``…)."""
    from tests.merge.skill_model import responder

    analysts = lesson_responder(fault, shared_title=True)
    builder = build or responder(log=log)

    def respond(messages: list[dict[str, Any]], index: int) -> str | Exception:
        if is_analyst_prompt(messages):
            if log is not None:
                log.append("analyst")
            return analysts(messages, index)
        return builder(messages, index)

    return respond
