"""A rule-made retrospective judge for the scripted model (``tests/scripted_llm.py``).

It reads the judge's prompt (``templates/prompts/retro_judge.md.j2``): the numbered skill lines
(``### File: …`` blocks of ``  N | text``) and the rendered steps (through
:func:`tests.scripted_llm.read_prompt`), and answers by rule:

* failure: the root cause is the last step with an error result (else the last agent step); the
  skill *addresses* it when one of its body lines names a tool called at that step, and that line is
  cited;
* success: the skill *contradicts* the run when one of its lines starts with ``Never`` and names a
  tool the run called; that line and the first step calling the tool are cited.

``fault(kind, reply, call_index)`` may return another reply (a string or an exception) to test the
citation checks and the repair round. A repair request (the last message starts with "Some of your
citations") is answered with the rule's reply unless the fault says otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.scripted_llm import read_prompt

SYSTEM_HEAD = "# Retrospective skill judge"
_FILE = re.compile(r"^### File: (\S+) \(\d+ lines\)$", re.MULTILINE)
_LINE = re.compile(r"^\s*(\d+) \| (.*)$")


def is_judge_prompt(messages: list[dict[str, Any]]) -> bool:
    """True for a retrospective judge prompt."""
    return str(messages[0]["content"]).startswith(SYSTEM_HEAD)


def skill_lines(user: str) -> dict[str, list[tuple[int, str]]]:
    """``file -> [(line number, text)]`` of the skill shown in the prompt (body lines only)."""
    files: dict[str, list[tuple[int, str]]] = {}
    heads = list(_FILE.finditer(user))
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else user.find("## Trajectory")
        block = user[head.end() : end]
        lines = [(int(m.group(1)), m.group(2)) for m in map(_LINE.match, block.splitlines()) if m]
        fences = [n for n, text in lines if text.strip() == "---"]
        body_from = fences[1] if len(fences) >= 2 and fences[0] == 1 else 0
        files[head.group(1)] = [(n, text) for n, text in lines if n > body_from]
    return files


def rule_reply(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule's reply to a judge prompt (see the module docstring)."""
    failure = "This run FAILED" in str(messages[0]["content"])
    view = read_prompt(messages)
    session = next(iter(view.sessions))
    steps = view.sessions[session]
    files = skill_lines(str(messages[1]["content"]))
    if failure:
        with_error = [sid for sid in sorted(steps) if steps[sid][2]]
        agent = [sid for sid in sorted(steps) if steps[sid][0] == "agent"]
        cause = (with_error or agent or sorted(steps))[-1]
        source, quotable, _, tools = steps[cause]
        quote = " ".join(quotable[0].split()[:12]) if quotable else (tools[0] if tools else source)
        cited = [
            {"file": file, "line": n, "text": text}
            for file, lines in files.items()
            for n, text in lines
            if any(tool in text for tool in tools)
        ][:1]
        return {
            "root_cause": {"step_id": cause, "quote": quote, "description": f"The agent went wrong at step {cause}."},
            "addressed": bool(cited),
            "skill_lines": cited,
            "explanation": "The cited line speaks to the tool used at the root cause."
            if cited
            else "No line bears on it.",
        }
    called = {tool: sid for sid in sorted(steps, reverse=True) for tool in steps[sid][3]}
    for file, lines in files.items():
        for n, text in lines:
            hit = next((tool for tool in called if text.lstrip("-* ").startswith("Never") and tool in text), None)
            if hit:
                return {
                    "contradicted": True,
                    "step": {"step_id": called[hit], "quote": hit},
                    "skill_lines": [{"file": file, "line": n, "text": text}],
                    "explanation": f"The run needed {hit}, which the line forbids.",
                }
    return {
        "contradicted": False,
        "step": None,
        "skill_lines": [],
        "explanation": "Nothing in the skill goes against this run.",
    }


Fault = Callable[[str, dict[str, Any], int], "str | Exception | None"]


def judge_responder(fault: Fault | None = None, log: list[str] | None = None):
    """A responder for :func:`tests.scripted_llm.install` answering judge prompts by rule.

    ``log`` collects ``judge`` or ``repair`` per call.
    """

    def respond(messages: list[dict[str, Any]], index: int) -> str | Exception:
        assert is_judge_prompt(messages), f"not a judge prompt: {str(messages[0]['content'])[:80]!r}"
        repair = str(messages[-1]["content"]).startswith("Some of your citations")
        if log is not None:
            log.append("repair" if repair else "judge")
        reply = rule_reply(messages[:2])
        kind = "failure" if "root_cause" in reply else "success"
        if fault is not None:
            out = fault("repair" if repair else kind, reply, index)
            if out is not None:
                return out
        return json.dumps(reply)

    return respond
