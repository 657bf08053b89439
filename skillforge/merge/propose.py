"""Propose: one patch per batch of lessons, each against the same frozen snapshot of the skill.

Trace2Skill's MAP stage (``parallel_evolving_agent.py``; DESIGN §2): batches of ``propose_batch``
lessons, one LLM call each (``templates/prompts/propose.md.j2``), run in parallel through
:class:`skillforge.llm.client.LLMClient`. The reply
must match ``patch.schema.json`` narrowed so every edit cites at least one lesson of its batch
(:func:`skillforge.patch.patch_schema`); llm.py gives an invalid reply one repair round. A batch
whose call still fails gets the deterministic patch of its lessons (:func:`offline_patch`), so no
lesson is lost; that fallback is recorded and is not saved as finished (a rerun asks again).
:class:`~skillforge.llm.errors.BudgetExceeded` is not a failure: the calls in flight finish and are saved,
then it is raised, so the run stops cleanly and a resumed run asks only for what is left.

:func:`offline_patch` is also the whole consolidation of the offline path: lesson groups
(:func:`skillforge.merge.offline.group_lessons`) become one edit each, with the group's lesson ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillforge.lesson import Lesson
from skillforge.llm.errors import BudgetExceeded, FatalLLMError
from skillforge.llm.steps import StepJournal, cached_step, digest
from skillforge.merge.offline import LessonGroup, group_lessons
from skillforge.patch import Edit, Patch, patch_schema
from skillforge.prompts import prompt_template, skill_files
from skillforge.skill.document import SKILL_MD, SkillDoc, support_of
from skillforge.skill.templates import template_environment
from skillforge.usage import Usage

TEMPLATE = "propose"
PROCEDURE_HEADING = "## Procedure"
PITFALLS_HEADING = "## Pitfalls"


@dataclass
class Proposal:
    """The patch proposed for one batch.

    Attributes:
        index: batch number (0-based); lesson_ids: the batch's lessons.
        patch: the proposed patch.
        status: ``proposed`` (a call made now), ``reused`` (saved in the run folder) or ``fallback``
            (the call failed; the deterministic patch of the batch stands in).
        usage: tokens and USD of the call.
        error: the failure message for a fallback.
    """

    index: int
    lesson_ids: list[str]
    patch: Patch
    status: str
    usage: Usage = field(default_factory=Usage)
    error: str = ""


def batches(lessons: Sequence[Lesson], size: int) -> list[list[Lesson]]:
    """Split ``lessons`` into batches of at most ``size`` (≥ 1), similar lessons together: ordered by
    kind, then ``tool:`` tags, then title, so near-duplicates meet in one proposal."""
    ordered = sorted(lessons, key=lambda l: (l.kind, sorted(t for t in l.tags if t.startswith("tool:")), l.title, l.id))
    size = max(1, size)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def lesson_view(lesson: Lesson, lessons: dict[str, Lesson]) -> dict[str, Any]:
    """What a prompt shows of a lesson: id, kind, title, when, guidance, rationale, support, tags."""
    return {
        "id": lesson.id, "kind": lesson.kind, "title": lesson.title, "when": lesson.when, "guidance": lesson.guidance,
        "rationale": lesson.rationale, "support": support_of([lesson.id], lessons), "tags": lesson.tags,
    }


@dataclass
class ProposalCall:
    """One planned proposal call: what :func:`propose_all` sends and where it saves the answer.

    Attributes:
        index: batch number (0-based); batch: its lessons.
        key: the saved step's key (model, template hash, snapshot digest, lesson views).
        relative: where the step is saved in the run folder (``patches/patch_NNNN.json``).
        messages, schema, template_hash: the call.
    """

    index: int
    batch: list[Lesson]
    key: str
    relative: str
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    template_hash: str

    @property
    def lesson_ids(self) -> list[str]:
        return [lesson.id for lesson in self.batch]


def plan_proposals(lessons: Sequence[Lesson], snapshot: SkillDoc, snapshot_id: str, *, model: str, batch_size: int) -> list[ProposalCall]:
    """The proposal calls for ``lessons`` against ``snapshot``: one per batch (:func:`batches`), no call made.

    Args:
        lessons: all lessons to propose.
        snapshot: the frozen start version; snapshot_id: its digest.
        model: the model string (part of each step's key).
        batch_size: lessons per call.
    """
    by_id = {lesson.id: lesson for lesson in lessons}
    groups = batches(lessons, batch_size)
    files = skill_files(snapshot)
    template = prompt_template(TEMPLATE)
    calls = []
    for index, batch in enumerate(groups):
        views = [lesson_view(lesson, by_id) for lesson in batch]
        messages = template.messages(files=files, snapshot_id=snapshot_id[:12], lessons=views, batch_number=index + 1, batch_count=len(groups))
        calls.append(ProposalCall(
            index, batch, digest(model, template.hash, snapshot_id, views), f"patches/patch_{index:04d}.json",
            messages, patch_schema([lesson.id for lesson in batch]), template.hash,
        ))
    return calls


async def propose_all(
    lessons: Sequence[Lesson],
    snapshot: SkillDoc,
    snapshot_id: str,
    *,
    client,
    batch_size: int,
    run: StepJournal,
    on_done: Callable[[Proposal], None] | None = None,
) -> list[Proposal]:
    """Propose one patch per batch, in parallel (the client bounds concurrency).

    Args:
        lessons: all lessons of the run.
        snapshot: the frozen start version.
        snapshot_id: its digest (part of every saved proposal's key).
        client: a :class:`skillforge.llm.client.LLMClient`.
        batch_size: lessons per call.
        run: where finished proposals are saved (``patches/patch_NNNN.json``) and reused from.
        on_done: called after each proposal (progress).

    Returns:
        Proposals in batch order.

    Raises:
        BudgetExceeded: a call would pass the budget; raised after every other call in flight has
            finished (and been saved).
    """
    headings = [h.line for h in snapshot.headings(SKILL_MD)]

    async def one(call: ProposalCall) -> Proposal:
        ids = call.lesson_ids
        reply = await cached_step(
            run, call.relative, call.key, client, call.messages, call.schema,
            schema_name="patch", template_hash=call.template_hash, record={"lesson_ids": ids},
        )  # fmt: skip
        if reply.status == "failed":  # fall back, never lose the batch; the fallback is saved for the report
            fallback = offline_patch(group_lessons(call.batch), headings)
            proposal = Proposal(call.index, ids, fallback, "fallback", Usage(), reply.error)
            failed = {"key": call.key, "status": "failed", "lesson_ids": ids, "error": reply.error}
            run.save_step(call.relative, {**failed, "reply": fallback.to_dict()})
        else:
            status = "proposed" if reply.status == "done" else "reused"
            proposal = Proposal(call.index, ids, Patch.from_dict(reply.data), status, reply.usage)
        if on_done is not None:
            on_done(proposal)
        return proposal

    return await gather_all(one(call) for call in plan_proposals(lessons, snapshot, snapshot_id, model=client.settings.model, batch_size=batch_size))


async def gather_all(calls) -> list:
    """Await ``calls`` concurrently and return their results in order; when some raised, wait for
    all the others to finish (so their work is saved), then raise the first error (a
    :class:`~skillforge.llm.errors.BudgetExceeded` before any other)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise next((e for e in errors if isinstance(e, (BudgetExceeded, FatalLLMError))), errors[0])
    return list(results)


def offline_patch(groups: Sequence[LessonGroup], headings: Collection[str]) -> Patch:
    """The deterministic patch for lesson groups: one edit per group, with the group's lesson ids.

    Success groups go under ``## Procedure`` and failure groups under ``## Pitfalls``, most supported
    first (``group_lessons`` order), as list items rendered by ``templates/skill/item.md.j2``.
    A section missing from ``headings`` (the SKILL.md heading lines of the start version) is added
    by the first edit of its kind.
    """
    template = template_environment().get_template("skill/item.md.j2")
    edits = []
    for kind, heading in (("success", PROCEDURE_HEADING), ("failure", PITFALLS_HEADING)):
        exists = heading in headings
        for group in (g for g in groups if g.kind == kind):
            content = template.render(group=group, lesson=group.representative).strip()
            if exists:
                edits.append(Edit(file=SKILL_MD, op="append_to_section", target_section=heading, content=content, lesson_ids=group.lesson_ids))
            else:
                edits.append(Edit(file=SKILL_MD, op="add_section", content=f"{heading}\n\n{content}", lesson_ids=group.lesson_ids))
                exists = True
    support = {kind: sum(1 for g in groups if g.kind == kind) for kind in ("success", "failure")}
    return Patch(
        reasoning=f"Deterministic consolidation: {len(groups)} lesson groups ({support['success']} success, {support['failure']} failure), one edit each, most supported first.",
        edits=edits,
        changelog_entries=[f"Added {len(edits)} items from {sum(len(g.lessons) for g in groups)} lessons."] if edits else [],
    )
