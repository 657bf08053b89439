"""``skillforge distill``: logs → a new version of a skill (or the dry run's plan)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from skillforge.cli.output import out, print_problems, print_rows, print_skipped, print_violations
from skillforge.cli.params import (
    AgentCmdOption,
    ApiBaseOption,
    BudgetOption,
    ConcurrencyOption,
    ContextTokensOption,
    ModelOption,
    OutcomesOption,
    RunsOption,
    StoreOption,
    TasksOption,
    TrialsOption,
)
from skillforge.errors import SkillforgeError
from skillforge.wording import counted


def distill(
    logs: Annotated[
        list[Path] | None,
        typer.Argument(metavar="LOGS", help="Log files or folders (any supported format).", show_default=False),
    ] = None,
    skill: Annotated[
        str, typer.Option("--skill", metavar="NAME", help="Skill name (kebab-case). Default: from the first path.")
    ] = "",
    store: StoreOption = Path("skills"),
    runs: RunsOption = None,
    analyst: Annotated[
        str,
        typer.Option(
            "--analyst",
            metavar="auto|heuristic|llm",
            help="auto (an LLM when a model is configured, else heuristic), heuristic (offline) or llm.",
        ),
    ] = "auto",
    model: ModelOption = None,
    api_base: ApiBaseOption = None,
    concurrency: ConcurrencyOption = None,
    context_tokens: ContextTokensOption = None,
    budget: BudgetOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the calls, tokens and USD per stage; call nothing, write nothing.")
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option("--resume", metavar="RUN", help="Resume an interrupted or stopped run (its id, or 'latest')."),
    ] = None,
    from_path: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="DIR",
            help="Deepen this skill folder (e.g. one a person wrote) instead of the store's latest version or a new "
            "seed.",
        ),
    ] = None,
    propose_batch: Annotated[
        int, typer.Option("--propose-batch", metavar="N", help="Lessons per proposal call.", min=1)
    ] = 4,
    fan_in: Annotated[
        int, typer.Option("--fan-in", metavar="N", help="Patches merged per merge call (the merge tree's k).", min=2)
    ] = 5,
    max_fix_rounds: Annotated[
        int,
        typer.Option("--max-fix-rounds", metavar="N", help="LLM fix rounds when the skill fails validation.", min=0),
    ] = 3,
    min_support: Annotated[
        int | None,
        typer.Option(
            "--min-support",
            metavar="N",
            help="Distinct trajectories an item needs to be kept (default: 2 from 10 trajectories on, else 1).",
            min=1,
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Store the version even when it holds nothing new (no item, or the same skill as before).",
        ),
    ] = False,
    description: Annotated[
        str,
        typer.Option(
            "--description", metavar="TEXT", help="Frontmatter description of a new skill (default: derived)."
        ),
    ] = "",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    outcomes: OutcomesOption = None,
    holdout: Annotated[
        float,
        typer.Option(
            "--holdout",
            metavar="FRACTION",
            help="Keep this share of the tasks (else sessions) out of distillation, for skillforge eval.",
            min=0.0,
            max=0.99,
        ),
    ] = 0.0,
    gate: Annotated[
        str | None,
        typer.Option(
            "--gate",
            metavar="retro|ab",
            help="Store the version only if this evaluation finds it not worse than the current one (docs/eval.md).",
        ),
    ] = None,
    tasks: TasksOption = None,
    agent_cmd: AgentCmdOption = None,
    trials: TrialsOption = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result (or the dry run's plan) as JSON on stdout.")
    ] = False,
) -> None:
    """Distill the trajectories in LOGS into a new version of a skill."""
    if not quiet:  # the first line, before anything heavy is imported (litellm takes seconds)
        what = f"resuming run {resume}" if resume else "reading " + ", ".join(str(path) for path in logs or [])
        out.err.print(f"skillforge distill: {escape(what)}", highlight=False, soft_wrap=True)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from skillforge.config import resolve_config, resolve_runs
    from skillforge.distill.estimate import estimate
    from skillforge.distill.options import DistillOptions
    from skillforge.distill.pipeline import distill as run_distill

    if not logs and not resume:
        raise SkillforgeError("give the log files or folders to distill (or --resume RUN)")
    config = resolve_config(model=model, api_base=api_base, concurrency=concurrency, context_tokens=context_tokens)
    options = DistillOptions(
        paths=logs or [],
        skill_name=skill,
        store_dir=store,
        analyst=analyst,
        description=description,
        model=config,
        budget_usd=budget,
        resume=resume,
        outcomes=outcomes,
        from_path=from_path,
        propose_batch=propose_batch,
        fan_in=fan_in,
        max_fix_rounds=max_fix_rounds,
        min_support=min_support,
        allow_empty=allow_empty,
        runs=resolve_runs(runs),
        holdout=holdout,
        gate=gate,
        gate_tasks=tasks,
        gate_agent_cmd=agent_cmd,
        gate_trials=trials,
    )
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[stats]}"),
    )
    with Progress(*columns, console=out.err, disable=quiet, transient=False) as progress:
        if dry_run:
            plan = estimate(options, progress)
        else:
            result = run_distill(options, progress)
    if dry_run:
        print_problems(plan.ingest_report.problems)
        if as_json:
            print(json.dumps(_plan_document(plan), indent=2))
            return
        _print_dry_run(plan)
        return
    if as_json:
        print(json.dumps(_result_document(result), indent=2))
    print_problems(result.ingest_report.problems)
    print_skipped(result.ingest_report.files)
    if result.hint:
        out.err.print(f"[yellow]note:[/] {escape(result.hint)}", highlight=False, soft_wrap=True)
    for title, problems in result.dropped_lessons[:20]:
        out.err.print(
            f"[yellow]lesson dropped[/] {escape(title)}: {escape('; '.join(problems))}", highlight=False, soft_wrap=True
        )
    for warning in result.warnings:
        out.err.print(f"[yellow]note:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    analysis = result.manifest.get("analysis", {})
    shortened = analysis.get("shortened") or {}
    if shortened.get("trajectories"):
        context = (result.manifest.get("model") or {}).get("context_tokens")
        out.err.print(
            f"[yellow]note:[/] to fit the context{f' of {context:,} tokens' if context else ''}, "
            f"{shortened['trajectories']} "
            f"trajector{'y was' if shortened['trajectories'] == 1 else 'ies were'} shortened "
            f"({shortened['cut_blocks']} long texts cut, "
            f"{shortened['omitted_steps']} steps omitted, marked in the prompts"
            + (f"; still too long: {', '.join(shortened['not_fitting'])}" if shortened["not_fitting"] else "")
            + f"); per pass in {result.run.root / 'passes.jsonl' if result.run else 'the run folder'}",
            highlight=False,
            soft_wrap=True,
        )
    failed_passes = analysis.get("failed_passes", [])
    for failed in failed_passes[:20]:
        out.err.print(
            f"[red]pass failed[/] {escape(failed['pass_id'])}: {escape(str(failed['error']))}",
            highlight=False,
            soft_wrap=True,
        )
    if failed_passes:
        out.err.print(
            f"[yellow]{counted(len(failed_passes), 'analyst pass', 'analyst passes')} failed[/]; "
            "run the same command again to retry them "
            "(finished passes are answered from the cache)",
            highlight=False,
            soft_wrap=True,
        )
    usage = _usage_line(result.manifest)
    run_id = result.run.run_id if result.run else ""
    if result.manifest.get("holdout"):
        counts = result.manifest["holdout"]["counts"]
        out.err.print(
            f"held out: {counted(counts['held_out'], 'trajectory')} of {counts['held_out_keys']} "
            f"{'tasks' if result.manifest['holdout']['by'] == 'task' else 'keys'} (recorded in run {run_id})",
            highlight=False,
        )
    if result.gate is not None:
        from skillforge.cli.eval import print_gate

        print_gate(result.manifest.get("gate") or {})
    if result.stopped == "budget":
        where = (
            f"with {counted(len(analysis.get('not_run', [])), 'analyst pass', 'analyst passes')} left"
            if result.stopped_stage == "analyse"
            else "during the gate"
            if result.stopped_stage == "gate"
            else "during consolidation"
        )
        out.err.print(
            f"[yellow]stopped:[/] the budget of ${budget} was reached {where}; finished work is kept "
            f"in {result.run.root if result.run else ''} ({usage}). Continue with: skillforge distill --resume "
            f"{run_id} --budget <USD>",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    build = result.build
    assert build is not None
    contradictions = len(build.report.contradictions)
    if contradictions:
        out.err.print(
            f"[yellow]{counted(contradictions, 'contradiction')}[/] between lessons not settled; see skillforge report "
            f"{run_id}",
            highlight=False,
            soft_wrap=True,
        )
    for item in build.report.apply.get("unmatched", [])[:20]:
        out.err.print(f"[yellow]edit not applied[/] {escape(item.get('reason', ''))}", highlight=False, soft_wrap=True)
    if result.gate is not None and not result.gate.promote:
        from skillforge.distill.gate import GateRejected

        raise GateRejected(f"{result.not_stored}; run {run_id}")
    if result.not_stored:
        from skillforge.distill.stages import NothingNew

        raise NothingNew(f"{result.not_stored}; run {run_id}")
    if result.version is None:
        print_violations(build.validation.violations)
        raise SkillforgeError(
            f"the distilled skill is not valid, so it was not stored (violations above; skillforge report {run_id})"
        )
    version = result.version
    start = "a new seed" if result.start is None or result.start.mode == "seed" else result.start.source
    out.console.print(
        f"[bold green]stored[/] {version.name} v{version.version} in {store / version.name} "
        f"({counted(result.trajectories, 'trajectory')}, {counted(len(result.lessons), 'lesson')}, "
        f"{counted(build.report.apply.get('applied', 0), 'edit')} applied to {start}"
        f"{'; ' + usage if usage else ''}; run {run_id})",
        highlight=False,
        soft_wrap=True,
    )


def _usage_line(manifest: dict) -> str:
    usage = manifest.get("usage")
    if not usage:
        return ""
    return f"{usage['calls']} calls, {usage['cached']} cached, {usage['failed_calls']} failed, ${usage['cost_usd']:.4f}"


def _print_dry_run(plan) -> None:
    title = (
        f"dry run: {counted(plan.trajectories, 'trajectory')}, analyst {plan.analyst}"
        + (f", model {plan.model}" if plan.model else "")
        + f", start: {plan.start}"
    )
    priced = plan.priced and all(stage.cost_usd is not None for stage in plan.stages)
    rows = [
        [
            stage.stage,
            stage.calls,
            stage.cached,
            f"{stage.prompt_tokens:,}",
            f"{stage.completion_tokens:,}",
            "unknown" if stage.cost_usd is None or not plan.priced else f"{stage.cost_usd:.4f}",
            stage.note,
        ]
        for stage in plan.stages
    ]
    rows.append(
        [
            "total (at most)",
            sum(stage.calls for stage in plan.stages),
            sum(stage.cached for stage in plan.stages),
            f"{sum(stage.prompt_tokens for stage in plan.stages):,}",
            f"{sum(stage.completion_tokens for stage in plan.stages):,}",
            f"{sum(stage.cost_usd or 0.0 for stage in plan.stages):.4f}" if priced else "unknown",
            "",
        ]
    )
    headers = ["stage", "calls", "cached", "prompt tokens", "completion tokens", "USD", "note"]
    print_rows(headers, rows, title=title, right=(1, 2, 3, 4, 5))
    if plan.hint:
        out.err.print(f"[yellow]note:[/] {escape(plan.hint)}", highlight=False, soft_wrap=True)
    for warning in plan.warnings:
        out.err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if plan.analyst == "llm" and not plan.priced:
        out.err.print(
            f"[yellow]note:[/] litellm's cost map has no price for {plan.model}, so USD is unknown and --budget "
            f"cannot apply",
            highlight=False,
        )
    out.console.print("nothing was called and nothing was written (dry run)", highlight=False)


def _result_document(result) -> dict:
    """The ``--json`` form of a :class:`~skillforge.distill.pipeline.DistillResult`."""
    build = result.build
    version = result.version
    return {
        "run": result.run.run_id if result.run else None,
        "analyst": result.analyst,
        "stored": {"name": version.name, "version": version.version, "tag": version.tag} if version else None,
        "not_stored": result.not_stored,
        "holdout": result.manifest.get("holdout"),
        "gate": result.manifest.get("gate"),
        "stopped": result.stopped,
        "trajectories": result.trajectories,
        "lessons": len(result.lessons),
        "edits_applied": build.report.apply.get("applied", 0) if build else 0,
        "valid": build.validation.ok if build else None,
        "usage": result.manifest.get("usage") or {},
        "dropped_lessons": [{"title": title, "problems": problems} for title, problems in result.dropped_lessons],
        "skipped_files": [{"path": f.path, "reason": f.skipped} for f in result.ingest_report.files if not f.format],
        "problems": [str(problem) for problem in result.ingest_report.problems],
        "warnings": list(result.warnings) + ([result.hint] if result.hint else []),
    }


def _plan_document(plan) -> dict:
    """The ``--json`` form of a dry run's :class:`~skillforge.distill.estimate.DryRun`."""
    return {
        "analyst": plan.analyst,
        "model": plan.model,
        "trajectories": plan.trajectories,
        "start": plan.start,
        "priced": plan.priced,
        "stages": [
            {
                "stage": s.stage,
                "calls": s.calls,
                "cached": s.cached,
                "prompt_tokens": s.prompt_tokens,
                "completion_tokens": s.completion_tokens,
                "cost_usd": s.cost_usd,
                "note": s.note,
            }
            for s in plan.stages
        ],
        "warnings": list(plan.warnings) + ([plan.hint] if plan.hint else []),
    }
