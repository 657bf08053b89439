"""Translate inexact edit targets: one LLM call for the edits whose target did not match exactly.

After Trace2Skill's TRANSLATION step (``parallel_evolving_agent.py``, "Return ALL edits — do not drop
any"), with one difference: only the edits that failed to apply are sent, all in a single call. The
model returns new ``target_section`` / ``target_text`` / ``old_text`` / ``after_section`` values
copied from the file; content and lesson ids never change. The reply is saved in the run folder
(``translate.json``, keyed by its inputs) so a rerun reuses it.
"""

from __future__ import annotations

from typing import Any

from skillforge.llm.steps import StepJournal, StepReply, cached_step, digest
from skillforge.patch import Edit
from skillforge.prompts import prompt_template, skill_files
from skillforge.skill.apply import EditResult
from skillforge.skill.document import SkillDoc

TEMPLATE = "translate"
TARGET_FIELDS = ("target_section", "target_text", "old_text", "after_section")


def translate_schema(indexes: list[int]) -> dict[str, Any]:
    """Schema of the reply: ``{edits: [{index, target_section, target_text, old_text, after_section}]}``."""
    nullable = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["edits"],
        "properties": {
            "edits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index"],
                    "properties": {"index": {"enum": indexes}, **{name: nullable for name in TARGET_FIELDS}},
                },
            }
        },
    }


async def translate_unmatched(doc: SkillDoc, unmatched: list[EditResult], *, client, run: StepJournal) -> tuple[dict[int, Edit], StepReply]:
    """Ask once for exact targets of the ``unmatched`` edits.

    Args:
        doc: the skill as it is after the other edits were applied.
        unmatched: results with status ``unmatched``.
        client: a :class:`skillforge.llm.client.LLMClient`.
        run: the run folder (``translate.json``).

    Returns:
        (edit index → the edit with translated targets, for edits whose targets changed; the
        :class:`~skillforge.llm.steps.StepReply` of the call: status, usage, error). A failed call
        returns no translations (the edits stay unmatched and are reported).

    Raises:
        BudgetExceeded: the call would pass the budget (nothing was sent).
    """
    views = [{"index": r.index, "reason": r.reason, **r.edit.to_dict()} for r in unmatched]
    files = [f for f in skill_files(doc) if f["path"] in {r.edit.file for r in unmatched}]
    template = prompt_template(TEMPLATE)
    key = digest(client.settings.model, template.hash, views, files)
    step = await cached_step(
        run, "translate.json", key, client, lambda: template.messages(edits=views, files=files),
        translate_schema([r.index for r in unmatched]), schema_name="translation", template_hash=template.hash,
    )  # fmt: skip
    if step.status == "failed":  # the edits stay unmatched and are reported
        return {}, step
    by_index = {r.index: r.edit for r in unmatched}
    translated = {}
    for item in step.data.get("edits", []):
        original = by_index.get(item["index"])
        if original is None:
            continue
        changes = {name: item[name] for name in TARGET_FIELDS if name in item and item[name] != getattr(original, name)}
        if changes:
            translated[item["index"]] = Edit.from_dict({**original.to_dict(), **{k: v for k, v in changes.items()}})
    return translated, step
