"""The store commands: ``log``, ``show``, ``diff``, ``rollback``, ``blame``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from skillforge.cli.output import out
from skillforge.cli.params import FileOption, RefArgument, StoreOption
from skillforge.errors import SkillforgeError


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
                "note": f"rollback of v{info['rollback_of']}"
                if info.get("rollback_of")
                else str(info.get("note") or ""),
                "inputs": ", ".join(map(str, info.get("inputs") or [])),
            }
        )
    # columns no version has a value for (no run ids or costs yet, say) are left out
    columns = [c for c in rows[0] if c in ("version", "date") or any(row[c] for row in rows)]
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    if sum(widths.values()) + 3 * len(columns) > out.console.width:
        # a narrow terminal: one block per version reads better than a cropped table
        out.console.print(f"[bold]{escape(name)}[/] in {escape(str(store))}", highlight=False)
        for row in rows:
            facts = [f"{row[c]} {c}" for c in ("traj.", "lessons") if row[c]] + [
                row[c] for c in ("model", "cost", "note") if row[c]
            ]
            out.console.print(f"[bold]{row['version']}[/]  {row['date']}  {escape(row['run'])}", highlight=False)
            out.console.print(f"    {escape(' · '.join(facts))}", highlight=False)
            if row["inputs"]:
                out.console.print(f"    inputs: {escape(row['inputs'])}", highlight=False)
        return
    table = Table(title=f"{name} in {store}", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(row[c]) for c in columns))
    out.console.print(table)


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

    from skillforge.export.exporter import parse_ref
    from skillforge.skill.frontmatter import parse_frontmatter
    from skillforge.store.git_store import SkillStore

    name, version = parse_ref(ref)
    skills = SkillStore(store)
    info = skills.version(name, version)
    text = skills.read_file(name, info.version, file)
    if raw:
        sys.stdout.write(text)
        return
    out.console.print(Rule(escape(f"{name} v{info.version} · {file} · {info.date}")))
    if not file.lower().endswith(".md"):
        out.console.print(Syntax(text, Syntax.guess_lexer(file, text), line_numbers=True))
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
            out.console.print(table)
            out.console.print()
            body = "\n".join(text.splitlines()[body_start:])
    out.console.print(Markdown(body))
    others = [f for f in skills.files(name, info.version) if f != file]
    if others:
        out.console.print(Rule())
        out.console.print(escape(f"other files: {', '.join(others)} (show them with --file)"), highlight=False)


def diff(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    old: Annotated[str | None, typer.Argument(help="Older version (vN); default: the one before NEW.")] = None,
    new: Annotated[str | None, typer.Argument(help="Newer version (vN); default: the latest.")] = None,
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
        out.console.print(f"{name}: no changes between v{older.version} and v{newer.version}", highlight=False)
        return
    out.err.print(f"[bold]{name}[/] v{older.version} → v{newer.version}", highlight=False)
    if stat or not out.console.is_terminal:
        sys.stdout.write(text.rstrip("\n") + "\n")  # piped: the plain patch, unwrapped, usable by `git apply`
    else:
        out.console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default", word_wrap=True))


def rollback(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    version: Annotated[str, typer.Argument(help="The version to restore (vN).")],
    store: StoreOption = Path("skills"),
) -> None:
    """Restore an old version as a new version; every version stays in history."""
    from skillforge.store.git_store import SkillStore
    from skillforge.store.refs import parse_version

    number = parse_version(version)
    stored = SkillStore(store).rollback(name, number)
    out.console.print(
        f"[bold green]rolled back[/] {name} to v{number}: stored as v{stored.version}; "
        f"every earlier version stays in history (`skillforge diff {name}` shows what changed)",
        highlight=False,
    )


def blame(
    ref: RefArgument,
    store: StoreOption = Path("skills"),
    file: FileOption = "SKILL.md",
    as_json: Annotated[bool, typer.Option("--json", help="Print the lines and their sources as JSON.")] = False,
) -> None:
    """Trace each line of a skill to the lessons behind it and the trajectory steps they cite."""
    from dataclasses import asdict

    from skillforge.export.exporter import parse_ref
    from skillforge.store.blame import blame as run_blame
    from skillforge.store.git_store import SkillStore

    name, version = parse_ref(ref)
    result = run_blame(SkillStore(store), name, version, file)
    if as_json:
        payload = {
            "skill": name,
            "version": result.version.version,
            "file": file,
            "lines": [asdict(line) for line in result.lines],
            "lessons": result.titles,
        }
        print(json.dumps(payload, indent=2))
        return
    table = Table(title=escape(f"{name} v{result.version.version} {file}"))
    table.add_column("line", justify="right", no_wrap=True)
    for column in ("text", "lessons", "trajectories: steps"):
        table.add_column(column, overflow="fold")
    for line in result.lines:
        citations = "; ".join(f"{c.session_id}: {', '.join(map(str, c.step_ids))}" for c in line.citations)
        table.add_row(str(line.number), escape(line.text), escape(", ".join(line.lesson_ids)), escape(citations))
    out.console.print(table)
    used = sorted({lesson for line in result.lines for lesson in line.lesson_ids})
    for lesson in used:
        out.console.print(
            escape(f"  {lesson}: {result.titles.get(lesson, '(not in the provenance)')}"), highlight=False
        )
    out.console.print(f"{result.traced} of {len(result.lines)} lines traced to {len(used)} lessons", highlight=False)
