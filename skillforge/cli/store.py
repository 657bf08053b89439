"""The store commands: ``log``, ``show``, ``diff``, ``rollback``, ``blame``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from skillforge.cli.output import announce_report, out, print_rows
from skillforge.cli.params import FileOption, HtmlOption, OpenOption, OutOption, RefArgument, RunsOption, StoreOption
from skillforge.errors import SkillforgeError
from skillforge.wording import counted


def log(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Skill name.")],
    store: StoreOption = Path("skills"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON.")] = False,
) -> None:
    """List the stored versions of a skill: version, date, run, inputs, model, counts, cost, and
    the evaluation's one line when the version was evaluated (skillforge eval, distill --gate)."""
    from dataclasses import asdict

    from skillforge.eval.results import load_eval, summary_line
    from skillforge.store.git_store import SkillStore

    skills = SkillStore(store)
    versions = skills.versions(name)
    if not versions:
        raise SkillforgeError(f"no versions of {name!r} in {store}")
    evals = {v.version: summary_line(load_eval(skills, name, v.version)) for v in versions}
    if as_json:
        print(json.dumps([{**asdict(v), "eval": evals[v.version] or None} for v in versions], indent=2))
        return
    out.console.print(f"[bold]{escape(name)}[/] in {escape(str(store))}", highlight=False)
    for v in reversed(versions):  # one block per version, newest first: the same layout at any width
        info = v.info
        cost = info.get("cost_usd")
        facts = [
            *(
                counted(int(info[key]), noun)
                for key, noun in (("trajectories", "trajectory"), ("lessons", "lesson"))
                if isinstance(info.get(key), int)
            ),
            str(info.get("model") or info.get("analyst") or ""),
            f"${cost:.4f}" if isinstance(cost, (int, float)) else "",
            f"rollback of v{info['rollback_of']}" if info.get("rollback_of") else str(info.get("note") or ""),
        ]
        run = str(info.get("run") or info.get("run_id") or "")
        out.console.print(f"[bold]v{v.version}[/]  {v.date[:16].replace('T', ' ')}  {escape(run)}", highlight=False)
        if any(facts):
            out.console.print(f"    {escape(' · '.join(fact for fact in facts if fact))}", highlight=False)
        if info.get("inputs"):
            out.console.print(f"    inputs: {escape(', '.join(map(str, info['inputs'])))}", highlight=False)
        if evals[v.version]:
            out.console.print(f"    eval: {escape(evals[v.version])}", highlight=False)


def show(
    ref: RefArgument,
    store: StoreOption = Path("skills"),
    file: FileOption = "SKILL.md",
    raw: Annotated[bool, typer.Option("--raw", help="Print the file as stored, without rendering.")] = False,
    html: HtmlOption = False,
    open_page: OpenOption = False,
    out_path: OutOption = None,
    runs: RunsOption = None,
) -> None:
    """Render a stored version of a skill in the terminal (or, with --html, as an evidence report)."""
    if html:
        from skillforge.config import resolve_runs
        from skillforge.export.exporter import parse_ref
        from skillforge.report import write_version_report

        name, version = parse_ref(ref)
        written = write_version_report(store, name, version, out_path, runs=resolve_runs(runs))
        announce_report(written, open_page)
        return
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax

    from skillforge.export.exporter import parse_ref
    from skillforge.store.git_store import SkillStore

    name, version = parse_ref(ref)
    skills = SkillStore(store)
    info = skills.version(name, version)
    text = skills.read_file(name, info.version, file)
    if raw:
        sys.stdout.write(text)
        return
    out.console.print(Rule(escape(f"{name} v{info.version} · {file} · {info.date}")))
    from skillforge.eval.results import load_eval, summary_line

    evaluated = summary_line(load_eval(skills, name, info.version))
    if evaluated:
        out.console.print(f"eval: {escape(evaluated)}", highlight=False)
    if not file.lower().endswith(".md"):
        out.console.print(Syntax(text, Syntax.guess_lexer(file, text), line_numbers=True))
        return
    body = text
    if file == "SKILL.md":
        frontmatter, body_start = parse_frontmatter_safely(text)  # malformed YAML: the text as it is
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
    name: Annotated[str, typer.Argument(metavar="NAME", help="Skill name.")],
    old: Annotated[
        str | None, typer.Argument(metavar="vA", help="Older version (vN); default: the one before vB.")
    ] = None,
    new: Annotated[str | None, typer.Argument(metavar="vB", help="Newer version (vN); default: the latest.")] = None,
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
    name: Annotated[str, typer.Argument(metavar="NAME", help="Skill name.")],
    version: Annotated[str, typer.Argument(metavar="vN", help="The version to restore (vN).")],
    store: StoreOption = Path("skills"),
) -> None:
    """Restore an old version as a new version; every version stays in history."""
    from skillforge.store.git_store import SkillStore
    from skillforge.store.refs import parse_version

    number = parse_version(version)
    out.console.print(SkillStore(store).rollback(name, number).message, highlight=False, markup=False)


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
    out.console.print(escape(f"{name} v{result.version.version} {file}"), style="bold", highlight=False)
    width = len(str(len(result.lines)))
    for line in result.lines:  # one output line per source line, whatever the terminal's width
        lessons = f"  ← {', '.join(line.lesson_ids)}" if line.lesson_ids else ""
        out.console.print(f"{line.number:>{width}} │ {line.text}{lessons}", highlight=False, markup=False)
    used = sorted({lesson for line in result.lines for lesson in line.lesson_ids})
    cited: dict[str, list[str]] = {}
    for line in result.lines:
        for citation in line.citations:
            cited.setdefault(citation.session_id, []).extend(map(str, citation.step_ids))
    for lesson in used:
        title = result.titles.get(lesson, "(not in the provenance)")
        out.console.print(f"  {lesson}: {title}", highlight=False, markup=False)
    for session, steps in cited.items():
        out.console.print(f"  {session}: steps {', '.join(dict.fromkeys(steps))}", highlight=False, markup=False)
    out.console.print(f"{result.traced} of {len(result.lines)} lines traced to {len(used)} lessons", highlight=False)


def list_skills(
    store: StoreOption = Path("skills"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the skills as JSON.")] = False,
) -> None:
    """List the skills in a store: name, latest version, its date, and how many items its SKILL.md holds."""
    from skillforge.store.git_store import SkillStore

    skills = SkillStore(store)
    rows: list[dict[str, Any]] = []
    for name in skills.skill_names():
        latest = skills.version(name)
        items = count_items(skills.read_file(name, latest.version))
        rows.append({"name": name, "version": latest.version, "date": latest.date, "items": items})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out.console.print(f"no skills in {store}", highlight=False)
        return
    table = [[row["name"], f"v{row['version']}", row["date"][:16].replace("T", " "), row["items"]] for row in rows]
    print_rows(["skill", "latest", "date", "items"], table, title=f"skills in {store}", right=(3,))


_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
"""A Markdown list item (CommonMark bullet or ordered list marker)."""


def count_items(skill_md: str) -> int:
    """List items in a SKILL.md's body, the generated ``## Evidence`` section left out."""
    body = skill_md.split("\n## Evidence\n", 1)[0]
    _, end = parse_frontmatter_safely(body)
    return sum(1 for line in body.splitlines()[end:] if _ITEM.match(line))


def parse_frontmatter_safely(text: str) -> tuple[dict | None, int]:
    """:func:`skillforge.skill.frontmatter.parse_frontmatter`, with malformed YAML read as no frontmatter."""
    from skillforge.skill.frontmatter import parse_frontmatter

    try:
        return parse_frontmatter(text)
    except Exception:  # noqa: BLE001 - malformed YAML: the whole text is body
        return None, 0
