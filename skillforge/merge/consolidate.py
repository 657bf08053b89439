"""Consolidate: merge patches ``fan_in`` at a time, level by level, until one is left.

Trace2Skill's REDUCE stage (``run_reduce_phase`` in Qwen-Applications/Trace2Skill; DESIGN §2):

* each level splits its patches into ⌈n/k⌉ groups of as equal size as possible (k = ``fan_in``),
  one LLM call per group of two or more, in parallel; a group of one passes up without a call.
  So a run over p proposals has depth ⌈log_k p⌉ and Σ_level ⌈p/k^level⌉ merge calls (groups of one
  excepted) — :func:`expected_tree`;
* the reply must match the merge schema (:func:`merge_schema`: a patch whose edits cite only the
  inputs' lessons, plus ``dropped`` and ``contradictions``); llm.py retries transient errors and gives
  an invalid reply one repair round; a merge that still fails passes its inputs up unmerged
  (recorded). A level where every merge failed ends the tree: its patches are concatenated in code;
* lesson ids a merge leaves out without listing them under ``dropped`` are recorded as dropped
  "without a reason", so the report accounts for every lesson;
* every node is saved to ``<run>/merge_level_N/node_NNNN.json`` as soon as it finishes, keyed by
  the model, the template's hash and its inputs, so a resumed run reuses it
  (:func:`skillforge.llm.steps.cached_step`);
* :class:`~skillforge.llm.errors.BudgetExceeded` is not a failed merge: the level's other calls finish
  and are saved, then it is raised (the run stops; a resumed run reuses the saved nodes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillforge.lesson import Lesson
from skillforge.llm.steps import StepJournal, cached_step, digest
from skillforge.merge.contradictions import Contradiction, from_model
from skillforge.merge.propose import gather_all
from skillforge.merge.report import LevelReport
from skillforge.merge.support import DroppedEdit
from skillforge.patch import Patch, concatenate, patch_schema
from skillforge.prompts import prompt_template
from skillforge.skill.document import support_of
from skillforge.usage import Usage

TEMPLATE = "merge"


def balanced_groups(items: Sequence[Any], fan_in: int) -> list[list[Any]]:
    """Split ``items`` into ⌈n/k⌉ consecutive groups whose sizes differ by at most one (k = ``fan_in`` ≥ 2)."""
    fan_in = max(2, fan_in)
    count = math.ceil(len(items) / fan_in)
    if count == 0:
        return []
    size, extra = divmod(len(items), count)
    groups, start = [], 0
    for number in range(count):
        end = start + size + (1 if number < extra else 0)
        groups.append(list(items[start:end]))
        start = end
    return groups


def expected_tree(proposals: int, fan_in: int) -> tuple[int, int]:
    """(merge calls, depth) of a tree over ``proposals`` patches when every merge succeeds."""
    calls = depth = 0
    count = proposals
    while count > 1:
        groups = balanced_groups(range(count), fan_in)
        calls += sum(1 for g in groups if len(g) > 1)
        count = len(groups)
        depth += 1
    return calls, depth


def merge_schema(lesson_ids: Sequence[str]) -> dict[str, Any]:
    """JSON Schema of a merge reply: ``{patch, dropped: [{lesson_ids, reason}], contradictions:
    [{situation, lesson_ids_a, lesson_ids_b, note}]}``, lesson ids limited to ``lesson_ids``."""
    patch = patch_schema(lesson_ids)
    patch.pop("$schema", None)
    ids = {"type": "array", "items": {"enum": sorted(set(lesson_ids))}}
    return {
        "type": "object",
        "required": ["patch"],
        "additionalProperties": False,
        "properties": {
            "patch": patch,
            "dropped": {"type": "array", "items": {"type": "object", "required": ["lesson_ids", "reason"], "properties": {"lesson_ids": ids, "reason": {"type": "string"}}}},
            "contradictions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["situation", "lesson_ids_a", "lesson_ids_b"],
                    "properties": {"situation": {"type": "string"}, "lesson_ids_a": ids, "lesson_ids_b": ids, "note": {"type": "string"}},
                },
            },
        },
    }


@dataclass
class MergeNode:
    """One merge call (or pass-through) of one level.

    Attributes:
        level, index: where it sits in the tree; inputs: the input patches.
        outputs: one merged patch, or the inputs when the merge failed or there was one input.
        status: ``merged``, ``reused``, ``failed`` (inputs passed up) or ``single`` (no call needed).
        dropped: lessons the merge dropped, with reasons; contradictions: the ones it reported.
        usage: tokens and USD; error: the failure message.
    """

    level: int
    index: int
    inputs: list[Patch]
    outputs: list[Patch] = field(default_factory=list)
    status: str = "single"
    dropped: list[DroppedEdit] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    error: str = ""


@dataclass
class Tree:
    """The result of :func:`consolidate`: the final patch, the level reports and, per level, the
    lesson-id sets of its nodes' inputs (to place contradictions; level 0 = proposal batches)."""

    patch: Patch
    levels: list[LevelReport]
    node_inputs: list[list[set[str]]]
    depth: int = 0


async def consolidate(
    patches: Sequence[Patch],
    *,
    client,
    lessons: Mapping[str, Lesson],
    fan_in: int,
    run: StepJournal,
    headings: Sequence[str],
    needed_support: int,
    on_level: Callable[[int, int], Callable[[], None]] | None = None,
) -> Tree:
    """Merge ``patches`` level by level into one.

    Args:
        patches: the proposals (level 0), in batch order.
        client: a :class:`skillforge.llm.client.LLMClient`.
        lessons: lesson id → lesson (support counts for the prompt, contradiction sides).
        fan_in: patches per merge call (k ≥ 2).
        run: the run folder (``merge_level_N/``).
        headings: SKILL.md heading lines of the snapshot (shown to the model).
        needed_support: the minimum support each side of a reported contradiction needs.
        on_level: progress hook ``(level, nodes) -> advance()``.

    Returns:
        A :class:`Tree`. No exception for a failed merge (its inputs pass up); an empty ``patches``
        gives an empty patch.
    """
    current = list(patches)
    levels: list[LevelReport] = []
    node_inputs: list[list[set[str]]] = []
    level = 0
    while len(current) > 1:
        level += 1
        groups = balanced_groups(current, fan_in)
        advance = on_level(level, len(groups)) if on_level else None
        nodes = await gather_all((
            _merge_node(level, index, group, client=client, lessons=lessons, run=run, headings=headings, needed_support=needed_support, advance=advance)
            for index, group in enumerate(groups)
        ))
        node_inputs.append([set(i for p in node.inputs for i in p.lesson_ids) for node in nodes])
        outputs = [p for node in nodes for p in node.outputs]
        report = LevelReport(level=level, stage="merge", inputs=len(current), input_edits=sum(len(p.edits) for p in current), outputs=len(outputs), output_edits=sum(len(p.edits) for p in outputs))
        for node in nodes:
            report.add_usage(node.usage)
            report.calls += node.status in ("merged", "failed")
            report.reused += node.status == "reused"
            report.failed += node.status == "failed"
            report.passed_up += len(node.outputs) if node.status in ("failed", "single") else 0
            report.dropped += [d.to_dict() for d in node.dropped]
            report.contradictions += [c.to_dict() for c in node.contradictions]
            if node.error:
                report.notes.append(f"node {node.index}: merge failed, {len(node.inputs)} inputs passed up: {node.error}")
        levels.append(report)
        run.save_step(f"merge_level_{level}/level.json", {"key": "", "status": "summary", "report": report.__dict__})
        if len(outputs) == len(current):
            merged = concatenate(outputs, f"Concatenated in code: every merge of level {level} failed.")
            report.notes.append(f"no merge of level {level} succeeded; the {len(outputs)} patches were concatenated in code (identical edits kept once)")
            report.outputs, report.output_edits = 1, len(merged.edits)
            current = [merged]
            break
        current = outputs
    final = current[0] if current else Patch(reasoning="No lessons to consolidate.")
    return Tree(final, levels, node_inputs, level)


async def _merge_node(level: int, index: int, inputs: list[Patch], *, client, lessons, run: StepJournal, headings, needed_support: int, advance) -> MergeNode:
    node = MergeNode(level, index, inputs)
    if len(inputs) == 1:
        node.outputs = list(inputs)
        if advance:
            advance()
        return node
    ids = list(dict.fromkeys(i for patch in inputs for i in patch.lesson_ids))
    template = prompt_template(TEMPLATE)
    key = digest(client.settings.model, template.hash, [p.digest() for p in inputs])
    relative = f"merge_level_{level}/node_{index:04d}.json"

    def messages() -> list[dict[str, str]]:
        views = [
            {
                "patch": number + 1,
                "reasoning": patch.reasoning,
                "edits": [{**edit.to_dict(), "support": support_of(edit.lesson_ids, lessons)} for edit in patch.edits],
            }
            for number, patch in enumerate(inputs)
        ]
        return template.messages(level=level, headings=list(headings), patches=views)

    record = {"inputs": [p.digest() for p in inputs]}
    reply = await cached_step(
        run, relative, key, client, messages, merge_schema(ids),
        schema_name="merge", template_hash=template.hash, record=record, save_failure=True,
    )  # fmt: skip
    if reply.status == "failed":  # pass the inputs up unmerged
        node.status, node.outputs, node.error = "failed", list(inputs), reply.error
        if advance:
            advance()
        return node
    node.status = "merged" if reply.status == "done" else "reused"
    data, node.usage = reply.data, reply.usage
    merged = Patch.from_dict(data["patch"])
    node.outputs = [merged]
    accounted = set(merged.lesson_ids)
    for item in data.get("dropped", []):
        dropped_ids = [i for i in item["lesson_ids"] if i not in accounted]
        if dropped_ids:
            node.dropped.append(DroppedEdit(dropped_ids, f"merge: {item['reason']}", support_of(dropped_ids, lessons)))
            accounted.update(dropped_ids)
    silent = [i for i in ids if i not in accounted]
    if silent:
        node.dropped.append(DroppedEdit(silent, "merge: left out without a reason", support_of(silent, lessons)))
    node.contradictions = from_model(data.get("contradictions", []), lessons, level, needed_support)
    if advance:
        advance()
    return node
