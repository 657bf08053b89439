"""``skillforge eval NAME@vN --retro | --ab``: does a stored version help? (issue 17, docs/eval.md)

Parses the options, calls :func:`skillforge.eval.command.run_eval` (or its :func:`dry_run`) and
prints the figures; :func:`print_gate` and :func:`gate_lines` also print the gate of
``distill --gate`` and of ``skillforge report``. Exit code 4 when a gate that ran does not pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from skillforge.cli.output import out, print_rows
from skillforge.cli.params import (
    AgentCmdOption,
    ApiBaseOption,
    BudgetOption,
    ConcurrencyOption,
    ContextTokensOption,
    JobsOption,
    ModelOption,
    OutcomesOption,
    RefArgument,
    RunsOption,
    StoreOption,
    TasksOption,
    TrialsOption,
)
from skillforge.errors import SkillforgeError

if TYPE_CHECKING:
    from skillforge.eval.command import EvalEstimate, EvalReport
    from skillforge.eval.retro import RetroResult

GATE_FAILED = 4
"""Exit code of ``eval`` and ``distill`` when a gate does not pass."""

SHOWN = 10
"""Most cited judgements or flipped tasks listed per version."""


class GateFailed(SkillforgeError):
    """A gate that ran did not pass (exit code 4); the figures were printed before."""

    exit_code = GATE_FAILED


def eval_command(
    ref: RefArgument,
    retro: Annotated[bool, typer.Option("--retro", help="Judge held-out trajectories with each version.")] = False,
    ab: Annotated[bool, typer.Option("--ab", help="Run the agent on --tasks with no skill, vN-1 and vN.")] = False,
    logs: Annotated[
        list[Path] | None,
        typer.Option(
            "--logs",
            metavar="PATH",
            help="--retro: judge these logs instead of the held-out split of the run that stored vN (repeatable).",
            show_default=False,
        ),
    ] = None,
    outcomes: OutcomesOption = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", metavar="vN", help="Compare with this version (default: the one before)."),
    ] = None,
    tasks: TasksOption = None,
    agent_cmd: AgentCmdOption = None,
    trials: TrialsOption = 1,
    jobs: JobsOption = 2,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="A/B: kill a trial after this long (a failure).", min=1),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="A/B: the host layout of {skills} (export hosts).")
    ] = "claude-code",
    coverage_drop: Annotated[
        float | None,
        typer.Option(
            "--coverage-drop", metavar="SHARE", help="Gate: coverage may fall this much (default 0).", min=0, max=1
        ),
    ] = None,
    harm_rise: Annotated[
        float | None,
        typer.Option("--harm-rise", metavar="SHARE", help="Gate: harm may rise this much (default 0).", min=0, max=1),
    ] = None,
    success_drop: Annotated[
        float | None,
        typer.Option(
            "--success-drop", metavar="SHARE", help="Gate: A/B success may fall this much (default 0).", min=0, max=1
        ),
    ] = None,
    model: ModelOption = None,
    api_base: ApiBaseOption = None,
    concurrency: ConcurrencyOption = None,
    context_tokens: ContextTokensOption = None,
    budget: BudgetOption = None,
    store: StoreOption = Path("skills"),
    runs: RunsOption = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not store the results with the version.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print judge calls, tokens, USD and agent runs; call and run nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results (or the dry run) as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
) -> None:
    """Evaluate a stored version of a skill against the one before it: --retro (held-out
    trajectories, an LLM judge) and/or --ab (your agent on a task list). Results are stored with
    the version; exit code 4 when a gate does not pass."""
    from skillforge.config import resolve_config, resolve_runs
    from skillforge.eval.command import EvalOptions
    from skillforge.eval.command import dry_run as estimate
    from skillforge.eval.gate import load_thresholds
    from skillforge.store.refs import parse_version

    config = resolve_config(model=model, api_base=api_base, concurrency=concurrency, context_tokens=context_tokens)
    options = EvalOptions(
        store_dir=store,
        runs=resolve_runs(runs),
        model=config,
        budget_usd=budget,
        paths=list(logs or []),
        outcomes=outcomes,
        baseline=parse_version(baseline) if baseline else None,
        thresholds=load_thresholds(coverage_drop=coverage_drop, harm_rise=harm_rise, success_drop=success_drop),
        tasks_file=tasks,
        agent_cmd=agent_cmd,
        trials=trials,
        jobs=jobs,
        timeout_s=timeout,
        host=host,
        save=not no_save,
    )
    if dry_run:
        plan = estimate(ref, retro=retro, ab=ab, options=options)
        if as_json:
            print(json.dumps(_plan_document(plan), indent=2))
        else:
            _print_plan(plan)
        return
    report = _run_with_progress(ref, retro, ab, options, quiet)
    if as_json:
        print(json.dumps(_report_document(report), indent=2))
    else:
        _print_report(report, store)
    if not report.promote:
        raise GateFailed(f"the {', '.join(k for k, g in report.gates.items() if not g.promote)} gate did not pass")


def _run_with_progress(ref: str, retro: bool, ab: bool, options, quiet: bool) -> EvalReport:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from skillforge.eval.command import run_eval

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=out.err, disable=quiet or not out.err.is_terminal, transient=True) as progress:
        judged = progress.add_task("judging: 0 judgements", visible=retro)
        trials = progress.add_task("A/B: 0 trials", visible=ab)
        counts = {"judged": 0, "trials": 0}

        def on_judged(label: str, judgement: Any) -> None:
            counts["judged"] += 1
            progress.update(judged, description=f"judging: {counts['judged']} judgements")

        def on_trial(record: dict[str, Any]) -> None:
            counts["trials"] += 1
            progress.update(trials, description=f"A/B: {counts['trials']} trials")

        return run_eval(ref, retro=retro, ab=ab, options=options, on_judged=on_judged, on_trial=on_trial)


# --- printing -----------------------------------------------------------------------------------


def _print_report(report: EvalReport, store: Path) -> None:
    title = f"{report.name} v{report.version} against " + (f"v{report.baseline}" if report.baseline else "no skill")
    out.console.print(f"[bold]{escape(title)}[/]", highlight=False)
    if report.retro is not None:
        held = report.held_out
        if held is not None:
            dropped = f"; {len(held.excluded)} of tasks it was distilled from left out" if held.excluded else ""
            for problem in held.problems:
                out.err.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False, soft_wrap=True)
            out.console.print(
                f"held out: {len(held.trajectories)} trajectories from {escape(held.source)}{escape(dropped)}",
                highlight=False,
            )
        print_retro(report.retro)
    if report.ab is not None:
        print_ab(report.ab)
    print_gate({kind: g.to_dict() for kind, g in report.gates.items()})
    if report.record is not None:
        from skillforge.eval.results import record_path

        where = record_path(store, report.name, report.version or 0)
        out.console.print(f"stored with the version: {escape(str(where))}", highlight=False)


def print_retro(results: list[RetroResult]) -> None:
    """The retrospective figures of each version side by side, then the candidate's cited lines."""
    rows = []
    for result in results:
        usage = result.usage()
        rows.append(
            [
                result.label,
                f"{result.addressed}/{result.failures}",
                _pct(result.coverage),
                f"{result.harmful}/{result.successes}",
                _pct(result.harm),
                sum(1 for j in result.judgements if j.verdict in ("error", "not_run")),
                usage["calls"],
                usage["cached"],
                f"{usage['cost_usd']:.4f}",
            ]
        )
    headers = ["version", "addressed", "coverage", "harmful", "harm", "failed", "calls", "cached", "USD"]
    print_rows(headers, rows, title="retrospective judge", right=(1, 2, 3, 4, 5, 6, 7, 8))
    mine = results[0]
    for verdict, what in (("addressed", "addresses the failure of"), ("harmful", "would have steered wrong")):
        cited = [j for j in mine.judgements if j.verdict == verdict]
        for judgement in cited[:SHOWN]:
            lines = ", ".join(f"{c['file']}:{c['line']} “{_cut(c['text'].strip())}”" for c in judgement.skill_lines)
            step = judgement.step or {}
            out.console.print(
                f"  {mine.label} {what} {judgement.session_id} (step {step.get('step_id', '?')}: "
                f"“{step.get('quote', '')}”): {lines}",
                highlight=False,
                markup=False,
            )
            if judgement.explanation:
                out.console.print(f"      judge: {judgement.explanation}", highlight=False, markup=False)
        if len(cited) > SHOWN:
            out.console.print(f"  … and {len(cited) - SHOWN} more ({verdict})", highlight=False)
    stopped = [r.label for r in results if r.stopped]
    if stopped:
        out.err.print(
            f"[yellow]stopped:[/] the budget was reached while judging {', '.join(stopped)}; "
            "run again with a larger --budget (finished judgements are cached)",
            highlight=False,
        )


def print_ab(result: Any) -> None:
    """The A/B figures: per arm success rate with its interval, then each arm against the one before."""
    rows = [
        [
            arm["arm"],
            arm["trials"],
            arm["successes"],
            _pct(arm["rate"]),
            f"{_pct(arm['ci_low'])}-{_pct(arm['ci_high'])}" if arm["ci_low"] is not None else "",
            f"{arm['prompt_tokens']:,}" if arm["prompt_tokens"] is not None else "",
            f"{arm['cost_usd']:.4f}" if arm["cost_usd"] is not None else "",
        ]
        for arm in result.summaries()
    ]
    headers = ["arm", "trials", "successes", "rate", "95 % CI", "prompt tokens", "USD"]
    print_rows(headers, rows, title="A/B replay", right=(1, 2, 3, 5, 6))
    document = result.to_dict()
    for pair in document["comparisons"]:
        if pair["delta"] is None:
            continue
        interval = f" [{100 * pair['ci_low']:+.1f}, {100 * pair['ci_high']:+.1f}]" if pair["ci_low"] is not None else ""
        out.console.print(
            f"{pair['candidate']} vs {pair['baseline']}: {100 * pair['delta']:+.1f} pts{interval} over "
            f"{pair['tasks']} tasks; {pair['up']} up, {pair['down']} down, {pair['same']} same "
            f"(p {pair['p_value']:.2g})",
            highlight=False,
            markup=False,
        )
        for flip in pair["flips"][:SHOWN]:
            out.console.print(
                f"  {flip['task']}: {_pct(flip['baseline'])} → {_pct(flip['candidate'])}", highlight=False, markup=False
            )
    if result.resumed:
        out.err.print(f"[yellow]note:[/] {result.resumed} trials taken from an earlier attempt", highlight=False)
    for warning in result.warnings():
        out.err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def gate_lines(gates: dict[str, dict[str, Any]]) -> list[str]:
    """One line per gate (its ``GateDecision.to_dict()``): passed or not, and the reasons with figures."""
    return [
        f"{kind} gate {'passed' if g.get('promote') else 'failed'} ({g.get('candidate')} vs {g.get('baseline')}): "
        + "; ".join(g.get("reasons") or [])
        for kind, g in gates.items()
    ]


def print_gate(gates: dict[str, dict[str, Any]]) -> None:
    """Print :func:`gate_lines` (green when passed, red when not)."""
    for line, gate in zip(gate_lines(gates), gates.values(), strict=True):
        style = "green" if gate.get("promote") else "red"
        out.console.print(f"[{style}]{escape(line)}[/]", highlight=False, soft_wrap=True)


def _print_plan(plan: EvalEstimate) -> None:
    versions = f"v{plan.version}" + (f" and v{plan.baseline}" if plan.baseline else "")
    if plan.retro is not None:
        cost = "unknown (no price)" if not plan.priced or plan.retro.cost_usd is None else f"${plan.retro.cost_usd:.4f}"
        out.console.print(
            f"retro: {plan.retro.calls} judge calls ({plan.retro.cached} cached) for {plan.held_out} held-out "
            f"trajectories × {versions}, from {plan.held_out_source}; model {plan.model}; "
            f"{plan.retro.prompt_tokens:,} prompt + {plan.retro.completion_tokens:,} completion tokens; {cost}",
            highlight=False,
            markup=False,
        )
    if plan.agent_runs:
        out.console.print(
            f"ab: {plan.agent_runs} agent runs ({plan.agent_runs_done} finished earlier, "
            f"{plan.agent_runs - plan.agent_runs_done} to run)",
            highlight=False,
        )
    out.console.print("nothing was called and nothing was run (dry run)", highlight=False)


def _plan_document(plan: EvalEstimate) -> dict[str, Any]:
    retro = plan.retro
    return {
        "skill": plan.name,
        "version": plan.version,
        "baseline": plan.baseline,
        "model": plan.model,
        "held_out": plan.held_out,
        "held_out_source": plan.held_out_source,
        "retro": None
        if retro is None
        else {
            "calls": retro.calls,
            "cached": retro.cached,
            "prompt_tokens": retro.prompt_tokens,
            "completion_tokens": retro.completion_tokens,
            "cost_usd": retro.cost_usd if plan.priced else None,
        },
        "agent_runs": plan.agent_runs,
        "agent_runs_done": plan.agent_runs_done,
    }


def _report_document(report: EvalReport) -> dict[str, Any]:
    return {
        "skill": report.name,
        "version": report.version,
        "baseline": report.baseline,
        "held_out": report.held_out.to_dict() if report.held_out is not None else None,
        "retro": [r.to_dict() for r in report.retro] if report.retro is not None else None,
        "ab": report.ab.to_dict() if report.ab is not None else None,
        "gates": {kind: g.to_dict() for kind, g in report.gates.items()},
        "promote": report.promote,
        "stored": report.record is not None,
    }


def _cut(text: str, width: int = 100) -> str:
    """``text`` cut to ``width`` characters (``…`` marks the cut)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f} %"
