"""``skillforge export`` and ``skillforge import``: a stored version to an agent host, and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from skillforge.cli.output import out, print_violations
from skillforge.cli.params import StoreOption
from skillforge.errors import SkillforgeError

if TYPE_CHECKING:
    from skillforge.export.host import Scope


def export(
    ref: Annotated[
        str | None, typer.Argument(metavar="NAME[@vN]", help="NAME or NAME@vN (default: the latest version).")
    ] = None,
    to: Annotated[str, typer.Option("--to", metavar="HOST", help="Host to export to (see --list).")] = "",
    scope: Annotated[
        str,
        typer.Option(
            "--scope", metavar="project|user", help="project (under the current folder) or user (under $HOME)."
        ),
    ] = "project",
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            metavar="DIR",
            help="Use this folder instead of the current folder or $HOME; for bundle, where NAME.skill goes.",
        ),
    ] = None,
    globs: Annotated[
        str | None,
        typer.Option(
            "--globs",
            metavar="GLOBS",
            help="Comma-separated globs for rule hosts (Cursor globs, Copilot applyTo, Windsurf glob trigger).",
        ),
    ] = None,
    store: StoreOption = Path("skills"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files skillforge did not write (or that were edited since).")
    ] = False,
    list_hosts: Annotated[
        bool, typer.Option("--list", help="List the hosts, their paths and what each keeps or drops.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was (or would be) done as JSON.")] = False,
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
            ref,
            to,
            store_root=store,
            scope=cast("Scope", scope),  # export_version refuses any other value
            dest=dest,
            dry_run=dry_run,
            force=force,
            options=ExportOptions(globs=globs),
        )
    except InvalidSkillError as exc:
        print_violations(exc.report.violations)
        raise
    if as_json:
        document = {
            "name": result.name,
            "version": result.version,
            "host": result.host,
            "scope": result.scope,
            "root": str(result.root),
            "dry_run": dry_run,
            "actions": [{"path": a.path, "kind": a.kind, "reason": a.reason} for a in result.actions],
            "warnings": list(result.warnings),
        }
        print(json.dumps(document, indent=2))
        return
    for warning in result.warnings:
        out.err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    verb = "would " if dry_run else ""
    for action in result.actions:
        style = {"conflict": "red", "keep": "yellow", "overwrite": "yellow", "unchanged": "dim"}.get(
            action.kind, "green"
        )
        reason = f" ({action.reason})" if action.reason else ""
        out.console.print(f"[{style}]{verb}{action.kind:9}[/] {result.root / action.path}{reason}", highlight=False)
    counts = {
        kind: sum(a.kind == kind for a in result.actions)
        for kind in ("create", "update", "overwrite", "remove", "unchanged", "conflict")
    }
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    head = "dry run:" if dry_run else "exported"
    out.console.print(
        f"[bold green]{head}[/] {result.name} v{result.version} to {result.host} ({result.scope}): {summary}",
        highlight=False,
    )


def import_(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A .skill bundle or a skill folder.")],
    store: StoreOption = Path("skills"),
    as_json: Annotated[bool, typer.Option("--json", help="Print what was stored as JSON.")] = False,
) -> None:
    """Import a skill (.skill bundle or folder) into the store as a new version, after validation."""
    from skillforge.export.importer import import_skill
    from skillforge.export.validity import InvalidSkillError

    try:
        result = import_skill(path, store)
    except InvalidSkillError as exc:
        print_violations(exc.report.violations)
        raise
    if as_json:
        document = {
            "name": result.name,
            "version": result.version.version,
            "stored": result.stored,
            "skipped": list(result.skipped),
        }
        print(json.dumps(document, indent=2))
        return
    for skipped in result.skipped:
        out.err.print(f"[yellow]skipped[/] {skipped} (not part of a packaged skill)", highlight=False)
    if result.stored:
        out.console.print(
            f"[bold green]stored[/] {result.name} v{result.version.version} in {store / result.name}", highlight=False
        )
    else:
        out.console.print(
            f"unchanged: {path} is identical to {result.name} v{result.version.version}; nothing stored",
            highlight=False,
        )


def _print_hosts() -> None:
    from skillforge.export.registry import HOSTS

    out.console.print(
        "Paths are under the project folder (--scope project) or $HOME (--scope user); --dest replaces either.\n"
    )
    for host in HOSTS.values():
        user = f"~/{host.paths['user']}" if "user" in host.paths else "—"
        out.console.print(
            f"[bold]{host.name}[/] ({host.kind})  project: {host.paths.get('project', '—')}  user: {user}",
            highlight=False,
        )
        out.console.print(
            f"    keeps: {host.keeps}\n    drops: {host.drops}\n    source: {host.source}", highlight=False
        )
