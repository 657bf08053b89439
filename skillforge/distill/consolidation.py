"""The consolidation half of a build: lessons → the kept patch, and the contradictions among them.

:func:`skillforge.distill.build.build_skill` calls :func:`consolidate_lessons` first: with an LLM
client, one proposal per batch of lessons against the frozen start version
(:mod:`skillforge.merge.propose`) and a k-way merge tree (:mod:`skillforge.merge.consolidate`);
without one (offline), the deterministic grouping (:func:`skillforge.merge.offline.group_lessons`)
turned into the same kind of patch (:func:`skillforge.merge.propose.offline_patch`). Both paths then
apply the drop rules (:mod:`skillforge.merge.support`) and save the kept patch as
``final_patch.json``. :func:`gather_contradictions` then files each contradiction at the merge level
where its sides first met, and :func:`dropped_by_rule` lists the lessons a merge or the drop rules
left out (for the provenance).

Files written to the run folder: ``patches/``, ``merge_level_N/`` (by the merge stage modules),
``final_patch.json`` and ``consolidation.json`` (the report, saved after each stage).
"""

from __future__ import annotations

import math
from typing import Any

from skillforge.distill.progress import StageBars
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.start import StartVersion
from skillforge.lesson import Lesson
from skillforge.merge.consolidate import consolidate, expected_tree
from skillforge.merge.contradictions import Contradiction, find_contradictions, meeting_level
from skillforge.merge.offline import group_lessons
from skillforge.merge.propose import offline_patch, propose_all
from skillforge.merge.report import ConsolidationReport, LevelReport
from skillforge.merge.support import filter_edits
from skillforge.patch import Patch
from skillforge.skill.document import SkillDoc


async def consolidate_lessons(
    unique: list[Lesson],
    by_id: dict[str, Lesson],
    start: StartVersion,
    snapshot: SkillDoc,
    headings: list[str],
    client,
    *,
    propose_batch: int,
    fan_in: int,
    run: RunFolder,
    report: ConsolidationReport,
    needed: int,
    bars: StageBars | None,
) -> tuple[Patch, list[list[set[str]]]]:
    """Propose + merge (or the deterministic grouping), then the drop rules; the kept patch is saved
    as ``final_patch.json``.

    Args:
        unique: the lessons to propose (each once, none the start version already weighed).
        by_id: lesson id → lesson, every lesson of the run (the merge and the drop rules look up support).
        start: the frozen start version; ``snapshot`` is its document, ``headings`` the heading lines
            of its ``SKILL.md`` (proposals and merges target them).
        client: a :class:`skillforge.llm.client.LLMClient`, or None for the offline path (no LLM call).
        propose_batch: lessons per proposal call (``BuildOptions.propose_batch``).
        fan_in: patches per merge call (``BuildOptions.fan_in``).
        run: the run folder (steps saved there by an earlier attempt are reused).
        report: the build's report; its levels and calls are filled in, and it is saved to ``run``.
        needed: the support an edit needs to stay.
        bars: progress bars to report on, or None.

    Returns:
        (the kept patch, per level the lesson-id sets of its nodes: level 0 the proposals).

    Raises:
        BudgetExceeded, FatalLLMError: from the proposal and merge calls (the caller records the stop).
    """
    if client is None:
        groups = group_lessons(unique)
        final = offline_patch(groups, headings)
        report.levels.append(
            LevelReport(
                level=1,
                stage="offline",
                inputs=len(unique),
                outputs=1,
                output_edits=len(final.edits),
                notes=[f"{len(groups)} lesson groups"],
            )
        )
        node_inputs: list[list[set[str]]] = [[], [{lesson.id for lesson in unique}]]
        report.calls = {
            "propose": 0,
            "merge": 0,
            "translate": 0,
            "fix": 0,
            "reused": 0,
            "total": 0,
            "formula": "offline: no LLM call",
            "merge_depth": 0,
            "expected_depth": 0,
        }
    else:
        final, node_inputs = await _llm_consolidate(
            unique, by_id, start, snapshot, headings, client, propose_batch, fan_in, run, report, needed, bars
        )
    report.save(run)
    kept, dropped = filter_edits(final, by_id, needed)
    report.levels.append(
        LevelReport(
            level=len(node_inputs),
            stage="filter",
            inputs=1,
            input_edits=len(final.edits),
            outputs=1,
            output_edits=len(kept.edits),
            dropped=[d.to_dict() for d in dropped],
            notes=[f"one-off threshold: support < {needed}; environment-only rule (skillforge.merge.support)"],
        )
    )
    run.save_step(
        "final_patch.json",
        {"key": "", "status": "done", "patch": kept.to_dict(), "dropped": [d.to_dict() for d in dropped]},
    )
    return kept, node_inputs


async def _llm_consolidate(
    unique, by_id, start, snapshot, headings, client, propose_batch, fan_in, run, report, needed, bars
) -> tuple[Patch, list[list[set[str]]]]:
    bar = bars.stage("Proposing patches", total=math.ceil(len(unique) / propose_batch)) if bars else None
    proposals = await propose_all(
        unique,
        snapshot,
        start.digest(),
        client=client,
        batch_size=propose_batch,
        run=run,
        on_done=(lambda proposal: bar.advance(reused=proposal.status == "reused")) if bar is not None else None,
    )
    level0 = LevelReport(
        level=0,
        stage="propose",
        inputs=len(unique),
        outputs=len(proposals),
        output_edits=sum(len(p.patch.edits) for p in proposals),
    )
    for proposal in proposals:
        level0.add_usage(proposal.usage)
        level0.calls += proposal.status in ("proposed", "fallback")
        level0.reused += proposal.status == "reused"
        if proposal.status == "fallback":
            level0.failed += 1
            level0.notes.append(
                f"batch {proposal.index}: proposal failed, the deterministic patch stands in: {proposal.error}"
            )
    report.levels.append(level0)
    report.save(run)

    def on_level(level: int, nodes: int):
        if bars is None:
            return None
        return bars.stage(f"Merging level {level}", total=nodes).advance

    tree = await consolidate(
        [p.patch for p in proposals],
        client=client,
        lessons=by_id,
        fan_in=fan_in,
        run=run,
        headings=headings,
        needed_support=needed,
        on_level=on_level,
    )
    report.levels += tree.levels
    expected_merges, expected_depth = expected_tree(len(proposals), fan_in)
    merges = sum(level.calls for level in tree.levels)
    report.calls = {
        "propose": level0.calls,
        "merge": merges,
        "translate": 0,
        "fix": 0,
        "reused": level0.reused + sum(level.reused for level in tree.levels),
        "formula": (
            f"ceil(lessons/propose_batch) + merges = ceil({len(unique)}/{propose_batch}) + {expected_merges} = "
            f"{len(proposals) + expected_merges} (merges = sum over levels of ceil(p/k^level), groups of one excepted; "
            f"p = {len(proposals)}, k = {fan_in})"
        ),
        "expected_merges": expected_merges,
        "merge_depth": tree.depth,
        "expected_depth": expected_depth,
    }
    return tree.patch, [[set(p.lesson_ids) for p in proposals], *tree.node_inputs]


def gather_contradictions(
    report: ConsolidationReport, lessons: list[Lesson], node_inputs: list[list[set[str]]], needed: int
) -> None:
    """Gather the merge models' and the detected contradictions into the report, each at the level
    where its sides first met.

    Args:
        report: the build's report; its levels' ``contradictions`` and ``report.contradictions`` are set.
        lessons: the lessons proposed in this build (searched by
            :func:`skillforge.merge.contradictions.find_contradictions`).
        node_inputs: per level the lesson-id sets of its nodes, as :func:`consolidate_lessons` returns.
        needed: the support an edit needs to stay (a one-off side does not count below it).
    """
    seen: dict[Any, dict[str, Any]] = {}
    for level in report.levels:
        for item in level.contradictions:
            seen.setdefault(Contradiction.from_dict(item).key, item)
    by_level = {level.level: level for level in report.levels if level.stage != "filter"}
    for found in find_contradictions(lessons, needed):
        found.level = meeting_level(found, node_inputs)
        if found.key in seen:
            seen[found.key]["source"] = "model, detected"
            continue
        seen[found.key] = found.to_dict()
        target = by_level.get(found.level if found.level is not None else -1)
        if target is not None:
            target.contradictions.append(seen[found.key])
    report.contradictions = list(seen.values())


def dropped_by_rule(report: ConsolidationReport) -> dict[str, str]:
    """Lesson id → reason for the lessons a merge or the drop rules left out (not those whose edits
    failed to apply: a later build may place them).

    Args:
        report: the build's report, its levels filled in by :func:`consolidate_lessons`.

    Returns:
        ``{lesson_id: reason}``.
    """
    return {i: item["reason"] for level in report.levels for item in level.dropped for i in item["lesson_ids"]}
