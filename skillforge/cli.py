"""The ``skillforge`` command line: parse options, call the pipeline, print with rich.

Nothing here imports litellm; heavy modules are imported inside the commands so that
``skillforge --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from skillforge.errors import SkillforgeError

app = typer.Typer(
    name="skillforge",
    help="Distill AI-agent logs into reusable, versioned Agent Skills (SKILL.md packages).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[Path, typer.Option("--store", help="Skill store folder (a git repository skillforge owns).")]
OutcomesOption = Annotated[
    Optional[Path],
    typer.Option("--outcomes", help="Labels file (CSV or JSONL: session id, task id or file → success/failure/reward) for logs without an outcome."),
]
RefArgument = Annotated[str, typer.Argument(help="NAME or NAME@vN (latest version by default).")]
FileOption = Annotated[str, typer.Option("--file", help="A file of the skill other than SKILL.md (e.g. references/pitfalls.md).")]


def main() -> None:
    """Console-script entry point: run the app, turning :class:`SkillforgeError` into its exit code (1 by default)."""
    try:
        app()
    except SkillforgeError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]", highlight=False)
        sys.exit(130)


@app.command()
def distill(
    logs: Annotated[Optional[list[Path]], typer.Argument(help="Log files or folders (any supported format).", show_default=False)] = None,
    skill: Annotated[str, typer.Option("--skill", help="Skill name (kebab-case). Default: from the first path.")] = "",
    store: StoreOption = Path("skills"),
    analyst: Annotated[str, typer.Option("--analyst", help="auto (an LLM when a model is configured, else heuristic), heuristic (offline) or llm.")] = "auto",
    model: Annotated[Optional[str], typer.Option("--model", help="litellm model name, e.g. gpt-4o-mini (key from the provider's env var). Else SKILLFORGE_MODEL or skillforge.toml.")] = None,
    api_base: Annotated[Optional[str], typer.Option("--api-base", help="Base URL of a self-hosted OpenAI-compatible server.")] = None,
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", help="Most LLM calls in flight at once (default 8).", min=1)] = None,
    context_tokens: Annotated[Optional[int], typer.Option("--context-tokens", help="Model context in tokens (default: from litellm's model map, else 8192).", min=256)] = None,
    budget: Annotated[Optional[float], typer.Option("--budget", help="Stop cleanly before LLM spending in USD would exceed this.", min=0.0)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the calls, tokens and USD per stage; call nothing, write nothing.")] = False,
    resume: Annotated[Optional[str], typer.Option("--resume", help="Resume an interrupted or stopped run (its id, or 'latest').")] = None,
    from_path: Annotated[Optional[Path], typer.Option("--from", help="Deepen this skill folder (e.g. one a person wrote) instead of the store's latest version or a new seed.")] = None,
    propose_batch: Annotated[int, typer.Option("--propose-batch", help="Lessons per proposal call.", min=1)] = 4,
    fan_in: Annotated[int, typer.Option("--fan-in", help="Patches merged per merge call (the merge tree's k).", min=2)] = 5,
    max_fix_rounds: Annotated[int, typer.Option("--max-fix-rounds", help="LLM fix rounds when the skill fails validation.", min=0)] = 3,
    min_support: Annotated[Optional[int], typer.Option("--min-support", help="Distinct trajectories an item needs to be kept (default: 2 from 10 trajectories on, else 1).", min=1)] = None,
    description: Annotated[str, typer.Option("--description", help="Frontmatter description of a new skill (default: derived).")] = "",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    outcomes: OutcomesOption = None,
) -> None:
    """Distill the trajectories in LOGS into a new version of a skill."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from skillforge.config import resolve_config
    from skillforge.pipeline import DistillOptions, distill as run_distill, estimate

    if not logs and not resume:
        raise SkillforgeError("give the log files or folders to distill (or --resume RUN)")
    config = resolve_config(model=model, api_base=api_base, concurrency=concurrency, context_tokens=context_tokens)
    options = DistillOptions(
        paths=logs or [], skill_name=skill, store_dir=store, analyst=analyst, description=description,
        model=config, budget_usd=budget, resume=resume, outcomes=outcomes, from_path=from_path,
        propose_batch=propose_batch, fan_in=fan_in, max_fix_rounds=max_fix_rounds, min_support=min_support,
    )
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[stats]}"))
    with Progress(*columns, console=err_console, disable=quiet, transient=False) as progress:
        if dry_run:
            plan = estimate(options, progress)
        else:
            result = run_distill(options, progress)
    if dry_run:
        _print_problems(plan.ingest_report.problems)
        _print_dry_run(plan)
        return
    _print_problems(result.ingest_report.problems)
    if result.hint:
        err_console.print(f"[yellow]note:[/] {escape(result.hint)}", highlight=False, soft_wrap=True)
    for title, problems in result.dropped_lessons[:20]:
        err_console.print(f"[yellow]lesson dropped[/] {escape(title)}: {escape('; '.join(problems))}", highlight=False, soft_wrap=True)
    for warning in result.warnings:
        err_console.print(f"[yellow]note:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    analysis = result.manifest.get("analysis", {})
    shortened = analysis.get("shortened") or {}
    if shortened.get("trajectories"):
        context = (result.manifest.get("model") or {}).get("context_tokens")
        err_console.print(
            f"[yellow]note:[/] to fit the context{f' of {context:,} tokens' if context else ''}, {shortened['trajectories']} "
            f"trajector{'y was' if shortened['trajectories'] == 1 else 'ies were'} shortened ({shortened['cut_blocks']} long texts cut, "
            f"{shortened['omitted_steps']} steps omitted, marked in the prompts"
            + (f"; still too long: {', '.join(shortened['not_fitting'])}" if shortened["not_fitting"] else "")
            + f"); per pass in {result.run.root / 'passes.jsonl' if result.run else 'the run folder'}",
            highlight=False,
            soft_wrap=True,
        )
    failed_passes = analysis.get("failed_passes", [])
    for failed in failed_passes[:20]:
        err_console.print(f"[red]pass failed[/] {escape(failed['pass_id'])}: {escape(str(failed['error']))}", highlight=False, soft_wrap=True)
    if failed_passes:
        err_console.print(
            f"[yellow]{len(failed_passes)} analyst passes failed[/]; run the same command again to retry them "
            "(finished passes are answered from the cache)",
            highlight=False,
            soft_wrap=True,
        )
    usage = _usage_line(result.manifest)
    run_id = result.run.run_id if result.run else ""
    if result.stopped == "budget":
        where = f"with {len(analysis.get('not_run', []))} analyst passes left" if result.stopped_stage == "analyse" else "during consolidation"
        err_console.print(
            f"[yellow]stopped:[/] the budget of ${budget} was reached {where}; finished work is kept "
            f"in {result.run.root if result.run else ''} ({usage}). Continue with: skillforge distill --resume {run_id} --budget <USD>",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    build = result.build
    assert build is not None
    contradictions = len(build.report.contradictions)
    if contradictions:
        err_console.print(f"[yellow]{contradictions} contradictions[/] between lessons were not settled; see skillforge report {run_id}", highlight=False, soft_wrap=True)
    for item in build.report.apply.get("unmatched", [])[:20]:
        err_console.print(f"[yellow]edit not applied[/] {escape(item.get('reason', ''))}", highlight=False, soft_wrap=True)
    if result.version is None:
        _print_violations(build.validation.violations)
        raise SkillforgeError(f"the distilled skill is not valid, so it was not stored (violations above; skillforge report {run_id})")
    version = result.version
    start = "a new seed" if result.start is None or result.start.mode == "seed" else result.start.source
    console.print(
        f"[bold green]stored[/] {version.name} v{version.version} in {store / version.name} "
        f"({result.trajectories} trajectories, {len(result.lessons)} lessons, {build.report.apply.get('applied', 0)} edits applied to {start}"
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
    title = f"dry run: {plan.trajectories} trajectories, analyst {plan.analyst}" + (f", model {plan.model}" if plan.model else "") + f", start: {plan.start}"
    table = Table(title=title, show_footer=True)
    priced = plan.priced and all(stage.cost_usd is not None for stage in plan.stages)
    total_usd = f"{sum(stage.cost_usd or 0.0 for stage in plan.stages):.4f}" if priced else "unknown"
    totals = {
        "stage": "total (at most)",
        "calls": str(sum(stage.calls for stage in plan.stages)),
        "cached": str(sum(stage.cached for stage in plan.stages)),
        "prompt tokens": f"{sum(stage.prompt_tokens for stage in plan.stages):,}",
        "completion tokens": f"{sum(stage.completion_tokens for stage in plan.stages):,}",
        "USD": total_usd,
        "note": "",
    }
    for column in totals:
        table.add_column(column, justify="left" if column in ("stage", "note") else "right", footer=totals[column])
    for stage in plan.stages:
        usd = "unknown" if stage.cost_usd is None or not plan.priced else f"{stage.cost_usd:.4f}"
        table.add_row(stage.stage, str(stage.calls), str(stage.cached), f"{stage.prompt_tokens:,}", f"{stage.completion_tokens:,}", usd, escape(stage.note))
    console.print(table)
    if plan.hint:
        err_console.print(f"[yellow]note:[/] {escape(plan.hint)}", highlight=False, soft_wrap=True)
    if plan.analyst == "llm" and not plan.priced:
        err_console.print(f"[yellow]note:[/] litellm's cost map has no price for {plan.model}, so USD is unknown and --budget cannot apply", highlight=False)
    console.print("nothing was called and nothing was written (dry run)", highlight=False)


@app.command("ingest")
def ingest_logs(
    logs: Annotated[list[Path], typer.Argument(help="Log files or folders (any supported format).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    to: Annotated[
        Optional[tuple[str, Path]],
        typer.Option("--to", metavar="FORMAT DIR", help="Also write each trajectory to DIR in FORMAT (atif)."),
    ] = None,
    outcomes: OutcomesOption = None,
    jobs: Annotated[
        Optional[int],
        typer.Option("--jobs", "-j", min=1, help="Processes reading files at once (default: the usable CPUs, at most 8; 1: no worker processes). The output is the same for every value."),
    ] = None,
) -> None:
    """Read LOGS and show, per file, its format and what it holds (secrets redacted). Exit 1 only when nothing could be read."""
    from skillforge.ingest.command import nothing_read, run_ingest

    result = run_ingest(logs, outcomes, to, jobs)
    if as_json:
        print(result.to_json())
    else:
        _print_problems(result.report.problems)
        table = Table(title="ingested logs")
        for column in ("file", "format", "trajectories", "steps", "tool calls", "tool errors", "outcome"):
            numeric = column not in ("file", "format", "outcome")
            table.add_column(column, justify="right" if numeric else "left", overflow="fold", no_wrap=column == "format")
        for summary in result.report.files:
            if summary.format:
                outcome = " ".join(f"{n} {status}" for status, n in sorted(summary.outcomes.items()))
                row = (_shown(summary.path, logs), summary.format, summary.trajectories, summary.steps, summary.tool_calls, summary.tool_errors, outcome or "-")
                table.add_row(*(escape(str(cell)) for cell in row))
        if table.row_count:
            console.print(table)
        totals = result.totals()
        redacted = ", ".join(f"{n} {kind}" for kind, n in result.report.redactions.most_common()) or "none"
        console.print(
            f"{totals['trajectories']} trajectories from {totals['files']} files; secrets redacted: {redacted}"
            + (f"; {len(result.written)} ATIF files written to {escape(str(to[1]))}" if to else ""),
            highlight=False,
        )
    if result.report.trajectories == 0:
        raise SkillforgeError(nothing_read(logs, result.report))


def _shown(path: str, roots: list[Path]) -> str:
    """``path`` relative to the folder given on the command line that holds it (shorter tables)."""
    for root in roots:
        try:
            relative = Path(path).relative_to(root)
        except ValueError:
            continue
        return str(relative) if str(relative) != "." else path
    return path


@app.command()
def validate(
    target: Annotated[Optional[str], typer.Argument(help="A skill folder (or its SKILL.md), or the NAME[@vN] of a stored skill (latest version by default).")] = None,
    store: StoreOption = Path("skills"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    rules: Annotated[bool, typer.Option("--rules", help="List every rule with its severity and source, then exit.")] = False,
) -> None:
    """Validate a skill (Agent Skills rules, size limits, links, safety scan). Exit 1 on errors."""
    from skillforge.skill.validate import RULES, validate_skill

    if rules:
        table = Table("rule", "severity", "what it demands", "source")
        for rule in RULES.values():
            table.add_row(rule.id, rule.severity, rule.summary, rule.source)
        console.print(table)
        return
    if target is None:
        raise SkillforgeError("give a skill folder or a stored skill name (or --rules)")
    path = Path(target)
    if path.exists():
        folder = path.parent if path.name == "SKILL.md" else path
        if not folder.is_dir():
            raise SkillforgeError(f"{target}: not a skill folder")
        report, label = validate_skill(folder), str(folder)
    else:
        report, label = _validate_stored(target, store)
    if as_json:
        print(json.dumps({**report.to_dict(), "skill_dir": label}, indent=2))
    else:
        _print_violations(report.violations, to=console)
        summary = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
        console.print(f"[bold green]valid[/] {escape(label)} ({summary})" if report.ok else f"[bold red]invalid[/] {escape(label)} ({summary})", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def _validate_stored(target: str, store: Path):
    """Validate a stored version (materialized to a temporary folder); returns (report, label)."""
    import tempfile

    from skillforge.skill.validate import validate_skill
    from skillforge.store.git_store import SkillStore
    from skillforge.export.exporter import parse_ref

    name, version = parse_ref(target)
    skills = SkillStore(store)
    if not skills.versions(name):
        raise SkillforgeError(f"{target}: no such folder, and no skill {name!r} in the store {store}")
    info = skills.version(name, version)
    with tempfile.TemporaryDirectory(prefix="skillforge-validate-") as scratch:
        report = validate_skill(skills.materialize(name, info.version, Path(scratch)))
    return report, f"{name} v{info.version} (store {store})"


@app.command()
def log(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    store: StoreOption = Path("skills"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON.")] = False,
) -> None:
    """List the stored versions of a skill: version, date, run, inputs, model, counts, cost."""
    from dataclasses import asdict

    from skillforge.store.git_store import SkillStore

    versions = SkillStore(store).versions(name)
    if not versions:
        raise SkillforgeError(f"no versions of {name!r} in {store}")
    if as_json:
        print(json.dumps([asdict(v) for v in versions], indent=2))
        return
    from rich import box

    rows = []
    for v in reversed(versions):
        info = v.info
        cost = info.get("cost_usd")
        rows.append(
            {
                "version": f"v{v.version}",
                "date": v.date[:16].replace("T", " "),
                "run": str(info.get("run") or info.get("run_id") or ""),
                "model": str(info.get("model") or info.get("analyst") or ""),
                "traj.": str(info.get("trajectories", "")),
                "lessons": str(info.get("lessons", "")),
                "cost": f"${cost:.4f}" if isinstance(cost, (int, float)) else "",
                "note": f"rollback of v{info['rollback_of']}" if info.get("rollback_of") else str(info.get("note") or ""),
                "inputs": ", ".join(map(str, info.get("inputs") or [])),
            }
        )
    # columns no version has a value for (no run ids or costs yet, say) are left out
    columns = [c for c in rows[0] if c in ("version", "date") or any(row[c] for row in rows)]
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    if sum(widths.values()) + 3 * len(columns) > console.width:
        # a narrow terminal: one block per version reads better than a cropped table
        console.print(f"[bold]{escape(name)}[/] in {escape(str(store))}", highlight=False)
        for row in rows:
            facts = [f"{row[c]} {c}" for c in ("traj.", "lessons") if row[c]] + [row[c] for c in ("model", "cost", "note") if row[c]]
            console.print(f"[bold]{row['version']}[/]  {row['date']}  {escape(row['run'])}", highlight=False)
            console.print(f"    {escape(' · '.join(facts))}", highlight=False)
            if row["inputs"]:
                console.print(f"    inputs: {escape(row['inputs'])}", highlight=False)
        return
    table = Table(title=f"{name} in {store}", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(row[c]) for c in columns))
    console.print(table)


@app.command()
def export(
    ref: Annotated[Optional[str], typer.Argument(help="NAME or NAME@vN (default: the latest version).")] = None,
    to: Annotated[str, typer.Option("--to", help="Host to export to (see --list).")] = "",
    scope: Annotated[str, typer.Option("--scope", help="project (under the current folder) or user (under $HOME).")] = "project",
    dest: Annotated[Optional[Path], typer.Option("--dest", help="Use this folder instead of the current folder or $HOME; for bundle, where NAME.skill goes.")] = None,
    globs: Annotated[Optional[str], typer.Option("--globs", help="Comma-separated globs for rule hosts (Cursor globs, Copilot applyTo, Windsurf glob trigger).")] = None,
    store: StoreOption = Path("skills"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files skillforge did not write (or that were edited since).")] = False,
    list_hosts: Annotated[bool, typer.Option("--list", help="List the hosts, their paths and what each keeps or drops.")] = False,
) -> None:
    """Export a stored, validated version of a skill where a host loads it."""
    from skillforge.export.exporter import export_version
    from skillforge.export.host import ExportOptions
    from skillforge.export.validity import InvalidSkillError

    if list_hosts:
        _print_hosts()
        return
    if not ref or not to:
        raise SkillforgeError("usage: skillforge export NAME[@vN] --to HOST (hosts: skillforge export --list)")
    try:
        result = export_version(
            ref, to, store_root=store, scope=scope, dest=dest, dry_run=dry_run, force=force, options=ExportOptions(globs=globs)  # type: ignore[arg-type]
        )
    except InvalidSkillError as exc:
        _print_violations(exc.report.violations)
        raise
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    verb = "would " if dry_run else ""
    for action in result.actions:
        style = {"conflict": "red", "keep": "yellow", "overwrite": "yellow", "unchanged": "dim"}.get(action.kind, "green")
        reason = f" ({action.reason})" if action.reason else ""
        console.print(f"[{style}]{verb}{action.kind:9}[/] {result.root / action.path}{reason}", highlight=False)
    counts = {kind: sum(a.kind == kind for a in result.actions) for kind in ("create", "update", "overwrite", "remove", "unchanged", "conflict")}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    head = "dry run:" if dry_run else "exported"
    console.print(f"[bold green]{head}[/] {result.name} v{result.version} to {result.host} ({result.scope}): {summary}", highlight=False)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A .skill bundle or a skill folder.")],
    store: StoreOption = Path("skills"),
) -> None:
    """Import a skill (.skill bundle or folder) into the store as a new version, after validation."""
    from skillforge.export.importer import import_skill
    from skillforge.export.validity import InvalidSkillError

    try:
        result = import_skill(path, store)
    except InvalidSkillError as exc:
        _print_violations(exc.report.violations)
        raise
    for skipped in result.skipped:
        err_console.print(f"[yellow]skipped[/] {skipped} (not part of a packaged skill)", highlight=False)
    if result.stored:
        console.print(f"[bold green]stored[/] {result.name} v{result.version.version} in {store / result.name}", highlight=False)
    else:
        console.print(f"unchanged: {path} is identical to {result.name} v{result.version.version}; nothing stored", highlight=False)


def _print_hosts() -> None:
    from skillforge.export.registry import HOSTS

    console.print("Paths are under the project folder (--scope project) or $HOME (--scope user); --dest replaces either.\n")
    for host in HOSTS.values():
        user = f"~/{host.paths['user']}" if "user" in host.paths else "—"
        console.print(f"[bold]{host.name}[/] ({host.kind})  project: {host.paths.get('project', '—')}  user: {user}", highlight=False)
        console.print(f"    keeps: {host.keeps}\n    drops: {host.drops}\n    source: {host.source}", highlight=False)


def _print_violations(violations: list, to: Console = err_console) -> None:
    for violation in violations:
        style = "red" if violation.severity == "error" else "yellow"
        to.print(f"[{style}]{escape(str(violation))}[/]", highlight=False, soft_wrap=True)


@app.command()
def report(
    run: Annotated[str, typer.Argument(help="A run folder, a run id under --runs, or 'latest'.")],
    runs: Annotated[Path, typer.Option("--runs", help="Folder holding the runs.")] = Path(".skillforge/runs"),
) -> None:
    """Show a run: the analysts' totals, then the consolidation level by level (inputs, outputs,
    dropped edits and why, contradictions, tokens and cost), apply, fix and validation results."""
    from skillforge.merge.report import run_report
    from skillforge.run import RunFolder

    for renderable in run_report(RunFolder.find(runs, run, also=("consolidation.json",))):
        console.print(renderable)


@app.command()
def show(
    ref: RefArgument,
    store: StoreOption = Path("skills"),
    file: FileOption = "SKILL.md",
    raw: Annotated[bool, typer.Option("--raw", help="Print the file as stored, without rendering.")] = False,
) -> None:
    """Render a stored version of a skill in the terminal."""
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax

    from skillforge.skill.validate import parse_frontmatter
    from skillforge.store.git_store import SkillStore
    from skillforge.export.exporter import parse_ref

    name, version = parse_ref(ref)
    skills = SkillStore(store)
    info = skills.version(name, version)
    text = skills.read_file(name, info.version, file)
    if raw:
        sys.stdout.write(text)
        return
    console.print(Rule(escape(f"{name} v{info.version} · {file} · {info.date}")))
    if not file.lower().endswith(".md"):
        console.print(Syntax(text, Syntax.guess_lexer(file, text), line_numbers=True))
        return
    body = text
    if file == "SKILL.md":
        try:
            frontmatter, body_start = parse_frontmatter(text)
        except Exception:  # noqa: BLE001 - malformed YAML: show the text as it is
            frontmatter, body_start = None, 0
        if frontmatter:
            table = Table(show_header=False, box=None, padding=(0, 1))
            for key, value in frontmatter.items():
                shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
                table.add_row(f"[bold]{escape(str(key))}[/]", escape(shown))
            console.print(table)
            console.print()
            body = "\n".join(text.splitlines()[body_start:])
    console.print(Markdown(body))
    others = [f for f in skills.files(name, info.version) if f != file]
    if others:
        console.print(Rule())
        console.print(escape(f"other files: {', '.join(others)} (show them with --file)"), highlight=False)


@app.command()
def diff(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    old: Annotated[Optional[str], typer.Argument(help="Older version (vN); default: the one before NEW.")] = None,
    new: Annotated[Optional[str], typer.Argument(help="Newer version (vN); default: the latest.")] = None,
    store: StoreOption = Path("skills"),
    stat: Annotated[bool, typer.Option("--stat", help="Only which files changed and by how many lines.")] = False,
) -> None:
    """Show what changed between two versions of a skill, as a coloured unified diff."""
    from rich.syntax import Syntax

    from skillforge.store.git_store import SkillStore
    from skillforge.store.refs import parse_version

    older, newer, text = SkillStore(store).diff(
        name, parse_version(old) if old else None, parse_version(new) if new else None, stat=stat
    )
    if not text.strip():
        console.print(f"{name}: no changes between v{older.version} and v{newer.version}", highlight=False)
        return
    err_console.print(f"[bold]{name}[/] v{older.version} → v{newer.version}", highlight=False)
    if stat or not console.is_terminal:
        sys.stdout.write(text.rstrip("\n") + "\n")  # piped: the plain patch, unwrapped, usable by `git apply`
    else:
        console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default", word_wrap=True))


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    version: Annotated[str, typer.Argument(help="The version to restore (vN).")],
    store: StoreOption = Path("skills"),
) -> None:
    """Restore an old version as a new version; every version stays in history."""
    from skillforge.store.git_store import SkillStore
    from skillforge.store.refs import parse_version

    number = parse_version(version)
    console.print(SkillStore(store).rollback(name, number).message, highlight=False, markup=False)


@app.command()
def blame(
    ref: RefArgument,
    store: StoreOption = Path("skills"),
    file: FileOption = "SKILL.md",
    as_json: Annotated[bool, typer.Option("--json", help="Print the lines and their sources as JSON.")] = False,
) -> None:
    """Trace each line of a skill to the lessons behind it and the trajectory steps they cite."""
    from dataclasses import asdict

    from skillforge.store.blame import blame as run_blame
    from skillforge.store.git_store import SkillStore
    from skillforge.export.exporter import parse_ref

    name, version = parse_ref(ref)
    result = run_blame(SkillStore(store), name, version, file)
    if as_json:
        payload = {"skill": name, "version": result.version.version, "file": file, "lines": [asdict(line) for line in result.lines], "lessons": result.titles}
        print(json.dumps(payload, indent=2))
        return
    table = Table(title=escape(f"{name} v{result.version.version} {file}"))
    table.add_column("line", justify="right", no_wrap=True)
    for column in ("text", "lessons", "trajectories: steps"):
        table.add_column(column, overflow="fold")
    for line in result.lines:
        citations = "; ".join(f"{c.session_id}: {', '.join(map(str, c.step_ids))}" for c in line.citations)
        table.add_row(str(line.number), escape(line.text), escape(", ".join(line.lesson_ids)), escape(citations))
    console.print(table)
    used = sorted({lesson for line in result.lines for lesson in line.lesson_ids})
    for lesson in used:
        console.print(escape(f"  {lesson}: {result.titles.get(lesson, '(not in the provenance)')}"), highlight=False)
    console.print(f"{result.traced} of {len(result.lines)} lines traced to {len(used)} lessons", highlight=False)


def _print_problems(problems: list, limit: int = 20) -> None:
    for problem in problems[:limit]:
        style = "red" if problem.severity == "error" else "yellow"
        err_console.print(f"[{style}]{problem.severity}:[/] {problem}", highlight=False)
    if len(problems) > limit:
        err_console.print(f"… and {len(problems) - limit} more problems", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    main()
