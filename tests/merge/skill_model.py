"""Rule-made model replies for the build's prompts (propose, merge, translate, fix), for the
scripted litellm provider of ``tests/scripted_llm.py``.

They read the JSON blocks the real prompts carry (the lessons of a batch, the patches to merge, the
edits to translate) and answer the way a careful model would: one edit per lesson citing its id,
merges that deduplicate equal edits and unite their lesson ids. Tests override pieces to inject
faults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def prompt_of(messages: list[dict[str, Any]]) -> str:
    return str(messages[0]["content"])


def block_after(prompt: str, heading: str) -> Any:
    """The first ```json block after ``heading`` in ``prompt``, parsed."""
    return json.loads(_JSON_BLOCK.search(prompt, prompt.index(heading)).group(1))


def kind_of(prompt: str) -> str:
    if "## Patches to merge" in prompt:
        return "merge"
    if "## Edits that did not apply" in prompt:
        return "translate"
    if "## Violations" in prompt:
        return "fix"
    if "## Lessons (batch" in prompt:
        return "propose"
    raise AssertionError("unknown prompt: " + prompt[:200])


def propose_reply(prompt: str) -> dict[str, Any]:
    """One append_to_section per lesson (failure → ## Pitfalls, success → ## Procedure)."""
    lessons = block_after(prompt, "## Lessons (batch")
    edits = [
        {
            "file": "SKILL.md",
            "op": "append_to_section",
            "target_section": "## Pitfalls" if lesson["kind"] == "failure" else "## Procedure",
            "content": f"- **{lesson['title']}.** {lesson['guidance']}",
            "lesson_ids": [lesson["id"]],
        }
        for lesson in lessons
    ]
    return {"reasoning": "one edit per lesson", "edits": edits, "changelog_entries": [f"{len(edits)} lessons added"]}


def merge_reply(prompt: str) -> dict[str, Any]:
    """Edits with the same op, target and content become one, with the union of lesson ids."""
    patches = block_after(prompt, "## Patches to merge")
    merged: dict[tuple, dict[str, Any]] = {}
    for patch in patches:
        for edit in patch["edits"]:
            edit = {k: v for k, v in edit.items() if k != "support"}
            key = (edit["op"], edit.get("file"), edit.get("target_section"), edit.get("content"))
            if key in merged:
                merged[key]["lesson_ids"] = list(dict.fromkeys(merged[key]["lesson_ids"] + edit["lesson_ids"]))
            else:
                merged[key] = edit
    return {"patch": {"reasoning": "deduplicated", "edits": list(merged.values()), "changelog_entries": []}, "dropped": [], "contradictions": []}


def translate_reply(prompt: str, fixes: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Returns every edit; ``fixes(edit) -> changed fields`` supplies corrected targets (default: none)."""
    edits = block_after(prompt, "## Edits that did not apply")
    out = []
    for edit in edits:
        fields = {k: edit.get(k) for k in ("target_section", "target_text", "old_text", "after_section")}
        if fixes:
            fields.update(fixes(edit))
        out.append({"index": edit["index"], **fields})
    return {"edits": out}


def propose_with_broken_link(prompt: str) -> dict[str, Any]:
    """:func:`propose_reply` whose first edit links to a reference that does not exist (a fix-loop case)."""
    reply = propose_reply(prompt)
    reply["edits"][0]["content"] += " See [details](references/missing.md)."
    return reply


def useless_fix(prompt: str) -> dict[str, Any]:
    """A fix reply that changes something but fixes nothing."""
    return {"reasoning": "?", "edits": [{"file": "SKILL.md", "op": "append_to_section", "target_section": "## Pitfalls", "content": "- still broken", "lesson_ids": []}]}


def responder(overrides: dict[str, Callable[[str], Any]] | None = None, log: list[str] | None = None):
    """A scripted-provider responder answering all four prompts; ``overrides`` maps a prompt kind to
    ``prompt -> reply`` (a dict is sent as JSON, a str as is, an Exception raised); ``log`` collects
    the kinds of the calls in order."""
    handlers: dict[str, Callable[[str], Any]] = {"propose": propose_reply, "merge": merge_reply, "translate": translate_reply}
    handlers.update(overrides or {})

    def respond(messages, index):
        prompt = prompt_of(messages)
        kind = kind_of(prompt) if "Your reply was not valid" not in str(messages[-1]["content"]) else kind_of(prompt) + "-repair"
        if log is not None:
            log.append(kind)
        handler = handlers.get(kind) or handlers[kind.removesuffix("-repair")]
        reply = handler(prompt)
        if isinstance(reply, Exception | str):
            return reply
        return json.dumps(reply)

    return respond


def heuristic_lessons(path):
    """(grounded heuristic lessons, trajectories) of the logs at ``path``."""
    from skillforge.analyze import heuristic
    from skillforge.analyze.grounding import grounding_problems
    from skillforge.analyze.signals import compute_signals
    from skillforge.ingest import ingest
    from skillforge.ingest.report import IngestReport

    trajectories = list(ingest([path], IngestReport()))
    lessons = [lesson for t in trajectories for lesson in heuristic.analyze(t, compute_signals(t))]
    lessons += heuristic.compare(trajectories)
    by_id = {t.session_id: t for t in trajectories}
    return [lesson for lesson in lessons if not grounding_problems(lesson, by_id)], trajectories
