"""The dry run, whole: what a distill run would call, with how many tokens and USD, calling nothing.

:func:`estimate` reads the logs (or the resumed run), renders every analyst prompt and counts it
(:class:`~skillforge.distill.count_prompts.AnalysisEstimate`, in worker processes beside ingest),
then estimates the build's calls (:func:`estimate_build`): proposals, the merge tree, the
translation and fix rounds as upper bounds.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import Progress

from skillforge.distill.build import BuildOptions
from skillforge.distill.gate import check_gate_options, estimate_gate, planned_split
from skillforge.distill.options import (
    DistillOptions,
    make_client,
    model_context_tokens,
    prepare,
    to_build_options,
)
from skillforge.distill.progress import StageBars, display_paused
from skillforge.distill.runfolder import RunFolder
from skillforge.distill.stages import (
    ingest_stage,
    start_stage,
)
from skillforge.distill.start import (
    StartVersion,
    saved_start,
)
from skillforge.ingest.report import IngestReport
from skillforge.lesson import Lesson
from skillforge.llm import backends
from skillforge.llm.tokens import StageEstimate
from skillforge.merge.consolidate import expected_tree
from skillforge.skill.document import SKILL_MD, SkillDoc

TYPICAL_LESSON = {
    "id": "L-0123456789ab",
    "kind": "failure",
    "title": "x " * 12,
    "when": "x " * 20,
    "guidance": "x " * 45,
    "rationale": "x " * 35,
    "support": 1,
    "tags": ["tool:x", "analyst:failure"],
}
"""A lesson view of typical size (about 150 tokens), standing in for lessons not written yet."""


def estimate_build(
    client,
    start: StartVersion,
    options: BuildOptions,
    *,
    lessons: Sequence[Lesson] | None,
    expected_lessons: int,
    run: RunFolder | None = None,
) -> list:
    """Per-stage estimate (:class:`skillforge.llm.tokens.StageEstimate`) of :func:`build_skill` with an LLM
    client, calling nothing.

    * propose: ⌈lessons / propose_batch⌉ calls. With ``lessons`` known (a resumed run whose analysis
      finished) the real prompts are rendered and counted, and steps saved in ``run`` or answered by
      the cache count as cached; else ``expected_lessons`` lessons of :data:`TYPICAL_LESSON`'s size.
    * merge: the calls of the k-way tree over the proposals (:func:`expected_tree`); each prompt is the
      merge template plus ``fan_in`` input patches, each assumed as long as one call's completion.
      Merge nodes saved in ``run`` count as cached.
    * translate: at most one call (made only when some edit target does not match exactly).
    * fix: at most ``max_fix_rounds`` calls (made only while the skill fails validation).

    Completions are assumed to take ``client.expected_completion_tokens``.
    """
    from skillforge.llm.tokens import StageEstimate, count_tokens, estimate_cost_usd
    from skillforge.merge.consolidate import TEMPLATE as MERGE_TEMPLATE
    from skillforge.merge.propose import TEMPLATE as PROPOSE_TEMPLATE
    from skillforge.merge.propose import plan_proposals
    from skillforge.prompts import prompt_template, skill_files
    from skillforge.skill.fix import TEMPLATE as FIX_TEMPLATE
    from skillforge.skill.translate import TEMPLATE as TRANSLATE_TEMPLATE

    model = client.settings.model
    completion = client.expected_completion_tokens

    def priced(stage: StageEstimate, calls: int, prompt_tokens: int, cached: int = 0) -> StageEstimate:
        stage.calls, stage.cached = calls, cached
        stage.prompt_tokens, stage.completion_tokens = calls * prompt_tokens, calls * completion
        cost = estimate_cost_usd(model, prompt_tokens, completion)
        stage.cost_usd = None if cost is None else calls * cost
        return stage

    snapshot = SkillDoc.load(start.folder)
    files = skill_files(snapshot)
    known = start.lesson_ids
    propose = StageEstimate("propose")
    if lessons is not None:
        fresh = [lesson for lesson in {lesson.id: lesson for lesson in lessons}.values() if lesson.id not in known]
        for call in plan_proposals(fresh, snapshot, start.digest(), model=model, batch_size=options.propose_batch):
            if run is not None and run.load_step(call.relative, call.key) is not None:
                propose.cached += 1
            else:
                propose.add(client.estimate(call.messages, call.schema, call.template_hash))
        proposals = propose.calls + propose.cached
        propose.note = f"{len(fresh)} lessons in batches of {options.propose_batch}"
    else:
        proposals = math.ceil(expected_lessons / options.propose_batch)
        batch = [TYPICAL_LESSON] * min(options.propose_batch, max(1, expected_lessons))
        messages = prompt_template(PROPOSE_TEMPLATE).messages(
            files=files, snapshot_id="0" * 12, lessons=batch, batch_number=1, batch_count=proposals
        )
        priced(propose, proposals, count_tokens(model, messages=messages))
        propose.note = f"ceil({expected_lessons} lessons / {options.propose_batch}); lessons not written yet: at most 3 per analyst pass"
    merges, depth = expected_tree(proposals, options.fan_in)
    saved_merges = run.finished_steps("merge_level_*/node_*.json") if run is not None else 0
    headings = [h.line for h in snapshot.headings(SKILL_MD)]
    merge_prompt = (
        count_tokens(model, messages=prompt_template(MERGE_TEMPLATE).messages(level=1, headings=headings, patches=[]))
        + options.fan_in * completion
    )
    merge = priced(StageEstimate("merge"), max(0, merges - saved_merges), merge_prompt, min(merges, saved_merges))
    merge.note = f"tree over {proposals} patches, k = {options.fan_in}: depth {depth}"
    translate_prompt = (
        count_tokens(model, messages=prompt_template(TRANSLATE_TEMPLATE).messages(edits=[], files=files)) + completion
    )
    translate = priced(StageEstimate("translate"), 1, translate_prompt)
    translate.note = "at most 1 call: only when an edit target does not match exactly"
    fix_prompt = count_tokens(
        model,
        messages=prompt_template(FIX_TEMPLATE).messages(
            violations=[], files=files, round=1, max_rounds=options.max_fix_rounds
        ),
    )
    fix = priced(StageEstimate("fix"), options.max_fix_rounds, fix_prompt + completion)
    fix.note = f"at most {options.max_fix_rounds} calls: only while the skill fails validation"
    return [propose, merge, translate, fix]


@dataclass
class DryRun:
    """What :func:`estimate` found: per-stage calls, tokens and USD, with nothing called.

    Attributes:
        analyst, model, hint: as :class:`DistillResult`.
        trajectories: how many would be analysed.
        stages: one :class:`~skillforge.llm.tokens.StageEstimate` per stage (analyse, compare, propose,
            merge, translate, fix; offline: analyse and build, without calls).
        priced: False when the model has no price in litellm's map (USD unknown).
        start: how the skill would start (``seed``, ``store …``, ``folder …``).
        warnings: one-line notes for the user (a provider key variable that is unset).
    """

    analyst: str
    model: str | None
    hint: str | None
    trajectories: int
    stages: list = field(default_factory=list)
    priced: bool = True
    ingest_report: IngestReport = field(default_factory=IngestReport)
    start: str = ""
    warnings: list[str] = field(default_factory=list)


def estimate(options: DistillOptions, progress: Progress) -> DryRun:
    """The dry run: per-stage calls, tokens and USD of :func:`distill`, calling no model.

    Reads the logs (or the resumed run), renders every analyst prompt and counts its tokens
    locally, in worker processes while the logs are still being read
    (:class:`skillforge.distill.count_prompts.AnalysisEstimate`; a prompt cut to fit the context is
    counted as the sum of its parts); calls already in the response cache or finished in the
    resumed run count as cached.
    The build stages are estimated by :func:`skillforge.distill.estimate.estimate_build` (lessons not written
    yet are counted at most 3 per analyst pass). Writes nothing (the start version is frozen in a
    temporary folder).

    Raises:
        SkillforgeError: as :func:`distill`.
    """
    from skillforge.llm.tokens import StageEstimate, has_price

    prepared = prepare(options, writing=False)
    run, manifest, options, analyst, hint, name = (
        prepared.run,
        prepared.manifest,
        prepared.options,
        prepared.analyst,
        prepared.hint,
        prepared.name,
    )
    build_options = to_build_options(options)
    check_gate_options(options)
    with ExitStack() as stack:
        analysis = None
        if analyst == "llm":
            from skillforge.analyze.pass_runner import PassRunner
            from skillforge.distill.count_prompts import AnalysisEstimate

            client = make_client(options, analyst)
            assert client is not None  # the llm analyst always has one
            with display_paused(progress):  # the workers are forked here
                analysis = stack.enter_context(
                    AnalysisEstimate(PassRunner(client, model_context_tokens(options.model)), run)
                )
        streamed = analysis is not None and run is None and not options.holdout  # counted while read
        if run is not None:
            trajectories, report = run.read_trajectories(), IngestReport()
        else:
            trajectories, report = ingest_stage(
                options.paths, progress, options.outcomes, analysis.add if streamed and analysis else None
            )
        split = planned_split(options, run, trajectories)
        trajectories = split.kept
        if analysis is not None and not streamed:
            for trajectory in trajectories:
                analysis.add(trajectory)
        dry = DryRun(
            analyst, options.model.model if analyst == "llm" else None, hint, len(trajectories), ingest_report=report
        )
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="skillforge-dry-run-"))
        start = (saved_start(run) if run is not None else None) or start_stage(
            RunFolder(Path(scratch)), options, name, trajectories
        )
        dry.start = start.mode if start.mode == "seed" else f"{start.mode} {start.source}"
        gate = [estimate_gate(options, split.held_out, start.folder, name, options.workspace)] if options.gate else []
        if analysis is None:
            dry.stages = [
                StageEstimate("analyse", note="offline heuristic analyst: no calls"),
                StageEstimate("build", note="offline: deterministic patch, applied and validated in code; no calls"),
                *gate,
            ]
            return dry
        from skillforge.analyze.output_schema import MAX_LESSONS

        bar = StageBars(progress).stage("Estimating prompts", total=analysis.passes)
        dry.stages = analysis.finish(trajectories, bar.advance)
        passes = sum(stage.calls + stage.cached for stage in dry.stages)
        lessons = run.read_lessons() if run is not None and (manifest.get("analysis") or {}).get("done") else None
        dry.stages += estimate_build(
            analysis.runner.client,
            start,
            build_options,
            lessons=lessons,
            expected_lessons=MAX_LESSONS * passes,
            run=run,
        )
        dry.stages += gate
        dry.priced = has_price(analysis.runner.client.settings.model)
        settings = analysis.runner.client.settings
        missing = backends.missing_keys(settings.model, settings.api_base)
        if missing:
            dry.warnings.append(
                f"{' or '.join(missing)} is not set: a real run would stop at its first call; "
                "set it in the environment (never in a file)"
            )
        bar.finish()
    return dry
