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


def main() -> None:
    """Console-script entry point: run the app, turning :class:`SkillforgeError` into exit code 1."""
    try:
        app()
    except SkillforgeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)


@app.command()
def distill(
    logs: Annotated[list[Path], typer.Argument(help="Log files or folders (any supported format).")],
    skill: Annotated[str, typer.Option("--skill", help="Skill name (kebab-case). Default: from the first path.")] = "",
    store: StoreOption = Path("skills"),
    analyst: Annotated[str, typer.Option("--analyst", help="Analyst: heuristic (offline, no model).")] = "heuristic",
    description: Annotated[str, typer.Option("--description", help="Frontmatter description (default: derived).")] = "",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Distill the trajectories in LOGS into a new version of a skill."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from skillforge.pipeline import DistillOptions, distill as run_distill

    options = DistillOptions(paths=logs, skill_name=skill, store_dir=store, analyst=analyst, description=description)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, disable=quiet, transient=False) as progress:
        result = run_distill(options, progress)
    _print_problems(result.ingest_report.problems)
    for lesson, problems in result.dropped_lessons:
        err_console.print(f"[yellow]lesson dropped[/] {lesson.id} ({lesson.title}): {'; '.join(problems)}", highlight=False)
    if result.version is None:
        assert result.validation is not None
        for violation in result.validation.violations:
            err_console.print(str(violation), highlight=False)
        raise SkillforgeError("the distilled skill is not valid, so it was not stored (violations above)")
    version = result.version
    console.print(
        f"[bold green]stored[/] {version.name} v{version.version} in {store / version.name} "
        f"({result.trajectories} trajectories, {len(result.lessons)} lessons, {len(result.groups)} after merge)",
        highlight=False,
    )


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A skill folder (holding SKILL.md), or SKILL.md itself.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Validate a skill folder; print each violation with file and line. Exit 1 on errors."""
    from skillforge.skill.validate import validate_skill

    folder = path.parent if path.name == "SKILL.md" else path
    if not folder.is_dir():
        raise SkillforgeError(f"{path}: not a skill folder")
    report = validate_skill(folder)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for violation in report.violations:
            style = "red" if violation.severity == "error" else "yellow"
            console.print(f"[{style}]{violation}[/]", highlight=False)
        summary = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
        console.print(f"[bold green]valid[/] {folder} ({summary})" if report.ok else f"[bold red]invalid[/] {folder} ({summary})", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def log(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    store: StoreOption = Path("skills"),
) -> None:
    """List the stored versions of a skill: version, date, inputs and counts."""
    from skillforge.store.git_store import SkillStore

    versions = SkillStore(store).versions(name)
    if not versions:
        raise SkillforgeError(f"no versions of {name!r} in {store}")
    table = Table(title=f"{name} in {store}")
    for column in ("version", "date", "inputs", "trajectories", "lessons", "analyst"):
        table.add_column(column)
    for v in reversed(versions):
        info = v.info
        table.add_row(
            f"v{v.version}",
            v.date,
            ", ".join(info.get("inputs", [])),
            str(info.get("trajectories", "")),
            str(info.get("lessons", "")),
            str(info.get("model") or info.get("analyst", "")),
        )
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


def _print_violations(violations: list) -> None:
    for violation in violations:
        style = "red" if violation.severity == "error" else "yellow"
        err_console.print(f"[{style}]{violation}[/]", highlight=False)


@app.command()
def report(
    run: Annotated[str, typer.Argument(help="A run folder, or a run id under --runs.")],
    runs: Annotated[Path, typer.Option("--runs", help="Folder holding the runs.")] = Path(".skillforge/runs"),
) -> None:
    """Show a run's consolidation report: per level inputs, outputs, dropped edits and why,
    contradictions, tokens and cost; then apply, fix and validation results."""
    from skillforge.merge.report import ConsolidationReport, find_run, render_report

    for renderable in render_report(ConsolidationReport.load(find_run(run, runs))):
        console.print(renderable)


def _print_problems(problems: list, limit: int = 20) -> None:
    for problem in problems[:limit]:
        style = "red" if problem.severity == "error" else "yellow"
        err_console.print(f"[{style}]{problem.severity}:[/] {problem}", highlight=False)
    if len(problems) > limit:
        err_console.print(f"… and {len(problems) - limit} more problems", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    main()
