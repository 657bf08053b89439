"""``skillforge validate``: check a skill folder or a stored version against every rule."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from skillforge.cli.output import out, print_rows, print_violations
from skillforge.cli.params import StoreOption
from skillforge.errors import SkillforgeError


def validate(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="PATH|NAME[@vN]",
            help="A skill folder (or its SKILL.md), or the NAME[@vN] of a stored skill (latest version by default).",
        ),
    ] = None,
    store: StoreOption = Path("skills"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    rules: Annotated[
        bool, typer.Option("--rules", help="List every rule with its severity and source, then exit.")
    ] = False,
) -> None:
    """Validate a skill (Agent Skills rules, size limits, links, safety scan). Exit 1 on errors."""
    from skillforge.skill.rules import RULES
    from skillforge.skill.validate import validate_skill

    if rules:
        if as_json:
            print(json.dumps([asdict(rule) for rule in RULES.values()], indent=2))
            return
        rows = [[rule.id, rule.severity, rule.summary, rule.source] for rule in RULES.values()]
        print_rows(["rule", "severity", "what it demands", "source"], rows)
        return
    if target is None:
        raise SkillforgeError("give a skill folder or a stored skill name (or --rules)")
    path = Path(target)
    if not path.exists() and (path.name == "SKILL.md" or len(path.parts) > 1 or target.startswith((".", "~"))):
        raise SkillforgeError(f"{target}: no such folder")
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
        print_violations(report.violations, to=out.console)
        summary = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
        out.console.print(
            f"[bold green]valid[/] {escape(label)} ({summary})"
            if report.ok
            else f"[bold red]invalid[/] {escape(label)} ({summary})",
            highlight=False,
        )
    if not report.ok:
        raise typer.Exit(1)


def _validate_stored(target: str, store: Path):
    """Validate a stored version (materialized to a temporary folder); returns (report, label)."""
    import tempfile

    from skillforge.export.exporter import parse_ref
    from skillforge.skill.validate import validate_skill
    from skillforge.store.git_store import SkillStore

    name, version = parse_ref(target)
    skills = SkillStore(store)
    if not skills.versions(name):
        raise SkillforgeError(f"{target}: no such folder, and no skill {name!r} in the store {store}")
    info = skills.version(name, version)
    with tempfile.TemporaryDirectory(prefix="skillforge-validate-") as scratch:
        report = validate_skill(skills.materialize(name, info.version, Path(scratch)))
    return report, f"{name} v{info.version} (store {store})"
