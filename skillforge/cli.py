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


def _print_problems(problems: list, limit: int = 20) -> None:
    for problem in problems[:limit]:
        style = "red" if problem.severity == "error" else "yellow"
        err_console.print(f"[{style}]{problem.severity}:[/] {problem}", highlight=False)
    if len(problems) > limit:
        err_console.print(f"… and {len(problems) - limit} more problems", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    main()
