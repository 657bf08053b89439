"""Build a skill version from lessons: propose → consolidate → apply → validate and fix → provenance.

The Trace2Skill method as DESIGN §1-2 lays it out, in one entry point the ``distill`` pipeline
calls (:func:`build_skill`, from :func:`skillforge.distill.pipeline.build_stage`). With an LLM client: one proposal per batch of lessons against the frozen
start version (:mod:`skillforge.merge.propose`), a k-way merge tree (:mod:`skillforge.merge.consolidate`).
Without one (offline): the deterministic grouping (:func:`skillforge.merge.offline.group_lessons`)
turned into the same kind of patch (:func:`skillforge.merge.propose.offline_patch`). Both paths then
share the drop rules (:mod:`skillforge.merge.support`), the contradiction check, the applier
(:mod:`skillforge.skill.apply`), the layout rules (:mod:`skillforge.skill.layout`), validation and
provenance. The lessons → kept patch half (propose, merge, drop rules, contradictions) lives in
:mod:`skillforge.distill.consolidation`; this module holds the options, the result, the apply /
validate / fix loop and the provenance.

Lessons the start version already weighed (a store version deepened with the same logs: the lessons
behind its lines and those its builds dropped by a rule, both in its provenance) are not proposed
again, so distilling the same logs twice asks the model nothing new.

Everything is written to the run's folder (:class:`skillforge.distill.runfolder.RunFolder`, DESIGN §4):
``start/``, ``patches/``, ``merge_level_N/``, ``final_patch.json``, ``translate.json``,
``fix_round_N.json``, ``skill/<name>/`` (the staged skill), ``provenance.json``, ``validation.json``
and ``consolidation.json`` (the report ``skillforge report`` shows). Finished LLM steps are reused on
rerun, so a killed or budget-stopped build repeats no finished call.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from skillforge.distill.consolidation import consolidate_lessons, dropped_by_rule, gather_contradictions
from skillforge.distill.progress import StageBars
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.start import StartVersion
from skillforge.errors import SkillforgeError
from skillforge.lesson import Lesson
from skillforge.llm.errors import BudgetExceeded, FatalLLMError
from skillforge.merge.deepen import absorb_start_items, refresh_support_marks
from skillforge.merge.report import ConsolidationReport
from skillforge.merge.support import min_support
from skillforge.patch import Patch
from skillforge.provenance import Provenance
from skillforge.skill.apply import EditResult, apply_patch
from skillforge.skill.document import SKILL_MD, SkillDoc, provenance_lessons
from skillforge.skill.evidence_table import write_evidence
from skillforge.skill.fix import request_fix
from skillforge.skill.frontmatter import parse_frontmatter
from skillforge.skill.layout import enforce_limits, prune_seed_sections, set_metadata_version
from skillforge.skill.link_files import link_created_files
from skillforge.skill.translate import translate_unmatched
from skillforge.skill.validate import ValidationReport, validate_skill


@dataclass
class BuildOptions:
    """Knobs of :func:`build_skill`.

    Attributes:
        propose_batch: lessons per proposal call (``--propose-batch``, ≥ 1).
        fan_in: patches per merge call (``--fan-in``, ≥ 2).
        max_fix_rounds: LLM fix rounds after validation fails (``--max-fix-rounds``, ≥ 0).
        min_support: the support an edit needs to stay; None: :func:`skillforge.merge.support.min_support`
            of ``trajectory_count``.
        trajectory_count: trajectories analysed; None: the distinct sessions the lessons cite.
        version: the version number written to ``metadata.version`` and the provenance.
    """

    propose_batch: int = 4
    fan_in: int = 5
    max_fix_rounds: int = 3
    min_support: int | None = None
    trajectory_count: int | None = None
    version: int = 1


@dataclass
class SkillBuild:
    """What :func:`build_skill` produced.

    Attributes:
        folder: the staged skill folder, ``<run>/skill/<name>/`` (store it with
            ``SkillStore.commit_version(..., provenance=build.provenance)`` when ``ok``).
        provenance: spans of the final files and the lessons behind them.
        report: the consolidation report (also in ``<run>/consolidation.json``).
        validation: the validator's report on ``folder``.
    """

    folder: Path
    provenance: Provenance
    report: ConsolidationReport
    validation: ValidationReport

    @property
    def ok(self) -> bool:
        """True when the skill validates (it may be stored)."""
        return self.validation.ok


async def build_skill(
    lessons: Sequence[Lesson],
    start: StartVersion,
    *,
    client=None,
    options: BuildOptions | None = None,
    run: RunFolder,
    bars: StageBars | None = None,
) -> SkillBuild:
    """Turn lessons into a new version of the skill ``start`` holds.

    Args:
        lessons: grounded lessons of the run (duplicates by id are kept once; lessons the start
            version already weighed, :attr:`StartVersion.lesson_ids`, are not proposed again).
        start: the frozen start version (:mod:`skillforge.distill.start`); its ``name`` never changes.
        client: a :class:`skillforge.llm.client.LLMClient`, or None for the offline path (no LLM call).
        options: see :class:`BuildOptions`.
        run: the run folder (steps saved there by an earlier attempt are reused).
        bars: progress bars to report on, or None.

    Returns:
        A :class:`SkillBuild`; ``build.ok`` is False when the skill still fails validation after the
        fix rounds (it must not be stored; the report says why).

    Raises:
        SkillforgeError: invalid options.
        BudgetExceeded: a call would pass the client's budget; the calls in flight finished and
            were saved, the report says ``stopped`` (resume to go on). Other LLM failures never
            raise: they are recorded and the affected step falls back (see the stage modules).
    """
    options = options or BuildOptions()
    check_options(options)
    by_id: dict[str, Lesson] = {}
    for lesson in lessons:
        by_id.setdefault(lesson.id, lesson)
    known = start.lesson_ids
    unique = [lesson for lesson in by_id.values() if lesson.id not in known]
    trajectories = options.trajectory_count or len({e.session_id for lesson in by_id.values() for e in lesson.evidence})
    needed = options.min_support or min_support(trajectories)
    report = ConsolidationReport(
        skill=start.name,
        mode="offline" if client is None else "llm",
        start=start.to_dict(),
        model=client.settings.model if client is not None else "",
        options=asdict(options),
        lessons=len(unique),
        trajectories=trajectories,
        min_support=needed,
    )
    if len(unique) < len(by_id):
        report.layout.append(
            f"{len(by_id) - len(unique)} lessons were already weighed by the start version (in its lines or dropped); not proposed again"
        )
    snapshot = SkillDoc.load(start.folder)
    headings = [h.line for h in snapshot.headings(SKILL_MD)]

    try:
        kept, node_inputs = await consolidate_lessons(
            unique,
            by_id,
            start,
            snapshot,
            headings,
            client,
            propose_batch=options.propose_batch,
            fan_in=options.fan_in,
            run=run,
            report=report,
            needed=needed,
            bars=bars,
        )
        gather_contradictions(report, unique, node_inputs, needed)
        doc, validation = await _apply_and_validate(kept, start, by_id, client, options, run, report, bars)
    except (BudgetExceeded, FatalLLMError):
        report.status = "stopped"
        report.save(run)
        raise

    # provenance
    lesson_map: dict[str, Any] = {**(start.provenance.lessons if start.provenance else {}), **by_id}
    spans = doc.spans(lesson_map)
    behind = {i for s in spans for i in s.lesson_ids}
    dropped = {**(start.provenance.dropped if start.provenance else {}), **dropped_by_rule(report)}
    provenance = Provenance(
        skill=start.name,
        version=options.version,
        spans=spans,
        lessons=provenance_lessons(behind, lesson_map),
        dropped={i: reason for i, reason in sorted(dropped.items()) if i not in behind},
    )
    run.write_bytes("provenance.json", provenance.to_json())
    run.save_step("validation.json", validation.to_dict())
    report.validation = validation.to_dict()
    report.calls["total"] = sum(report.calls.get(k, 0) for k in ("propose", "merge", "translate", "fix"))
    report.status = "ok" if validation.ok else "failed"
    report.save(run)
    return SkillBuild(staged_folder(run, start.name), provenance, report, validation)


def staged_folder(run: RunFolder, name: str) -> Path:
    """Where a build stages the skill ``name`` in ``run``: ``<run>/skill/<name>/``."""
    return run.root / "skill" / name


async def _apply_and_validate(
    kept: Patch,
    start: StartVersion,
    by_id,
    client,
    options: BuildOptions,
    run: RunFolder,
    report: ConsolidationReport,
    bars,
) -> tuple[SkillDoc, ValidationReport]:
    """Apply ``kept`` to the start version (translating unmatched targets once), then validate and
    fix in bounded rounds, the layout rules enforced in code each round; the skill is staged in the
    run folder. Returns (the document, the last validation report)."""
    doc = SkillDoc.load(start.folder, start.provenance)
    lesson_map: dict[str, Any] = {**(start.provenance.lessons if start.provenance else {}), **by_id}
    kept, merged = absorb_start_items(doc, kept, lesson_map)
    bar = bars.stage("Applying the patch", total=len(kept.edits)) if bars else None
    results = apply_patch(doc, kept)
    refresh_support_marks(doc, lesson_map)
    report.apply = {"applied": 0, "translated": 0, "unmatched": [], "rejected": [], "notes": merged}
    unmatched = [r for r in results if r.status == "unmatched"]
    if unmatched and client is not None:
        translated, step = await translate_unmatched(doc, unmatched, client=client, run=run)
        report.calls["translate"] = step.calls
        report.calls["reused"] += step.status == "reused"
        if step.status == "failed":
            report.apply["notes"].append(f"translation call failed: {step.error}")
        else:
            report.apply.update(step.usage.to_dict())
        if translated:
            order = sorted(translated)
            again = apply_patch(doc, Patch(edits=[translated[i] for i in order]), indexes=order)
            by_index = {r.index: r for r in again}
            results = [by_index.get(r.index, r) for r in results]
            report.apply["translated"] = sum(1 for r in again if r.status == "applied")
    report.apply["notes"] += link_created_files(doc, results)
    _record_results(report, results)
    if bar is not None:
        bar.finish()

    staged = staged_folder(run, start.name)
    bar = bars.stage("Validating", total=1) if bars else None
    notes = list(report.layout)
    for round_number in range(options.max_fix_rounds + 1):
        report.layout = notes + _finalize(doc, start, lesson_map, options.version)
        _write(doc, staged)
        validation = validate_skill(staged)
        if validation.ok or client is None or round_number == options.max_fix_rounds:
            break
        fix, step = await request_fix(
            doc, validation, client=client, run=run, round_number=round_number + 1, max_rounds=options.max_fix_rounds
        )
        fixed = apply_patch(doc, fix, origin="fix") if fix is not None else []
        link_created_files(doc, fixed)
        report.calls["fix"] = report.calls.get("fix", 0) + step.calls
        report.calls["reused"] += step.status == "reused"
        report.fix_rounds.append(
            {
                "round": round_number + 1,
                "violations": len(validation.errors),
                "applied": sum(r.status == "applied" for r in fixed),
                "not_applied": [r.to_dict() for r in fixed if r.status != "applied"],
                "error": step.error,
                **(step.usage.to_dict() if step.status != "failed" else {}),
            }
        )
        if not any(r.status == "applied" for r in fixed):
            break
    if bar is not None:
        bar.finish(1)
    return doc, validation


def check_options(options: BuildOptions) -> None:
    """Refuse out-of-range build options.

    Raises:
        SkillforgeError: one line naming the option (``--propose-batch`` ≥ 1, ``--fan-in`` ≥ 2,
            ``--max-fix-rounds`` ≥ 0, ``--min-support`` ≥ 1).
    """
    if options.propose_batch < 1:
        raise SkillforgeError(f"--propose-batch must be at least 1 (got {options.propose_batch})")
    if options.fan_in < 2:
        raise SkillforgeError(f"--fan-in must be at least 2 (got {options.fan_in})")
    if options.max_fix_rounds < 0:
        raise SkillforgeError(f"--max-fix-rounds must be 0 or more (got {options.max_fix_rounds})")
    if options.min_support is not None and options.min_support < 1:
        raise SkillforgeError(f"--min-support must be at least 1 (got {options.min_support})")


def _record_results(report: ConsolidationReport, results: list[EditResult]) -> None:
    report.apply["applied"] = sum(r.status == "applied" for r in results)
    report.apply["unmatched"] = [r.to_dict() for r in results if r.status == "unmatched"]
    report.apply["rejected"] = [r.to_dict() for r in results if r.status == "rejected"]
    report.apply["notes"] += [note for r in results for note in r.notes if note not in report.apply["notes"]]


def _finalize(doc: SkillDoc, start: StartVersion, lessons: dict[str, Any], version: int) -> list[str]:
    """The layout rules, in order: prune untouched seed sections, regenerate the evidence table,
    enforce size limits, set ``metadata.version``; then check the name did not change."""
    notes = [
        f"removed the seed section {h!r}: no lesson landed in it" for h in prune_seed_sections(doc, start.seed_sections)
    ]
    items = write_evidence(doc, lessons)
    notes.append(f"evidence table: {items} items")
    notes += enforce_limits(doc)
    set_metadata_version(doc, version)
    frontmatter, _ = parse_frontmatter(doc.text(SKILL_MD))
    if (frontmatter or {}).get("name") != start.name:
        raise SkillforgeError(f"internal error: the skill's name changed from {start.name!r} during the build")
    return notes


def _write(doc: SkillDoc, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    doc.write(folder)


# --- dry run ------------------------------------------------------------------------------------------
