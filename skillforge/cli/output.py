"""How every command prints: one console for results (stdout), one for notes, warnings, errors and
progress (stderr), and the shared ways of listing problems and violations (after hatch's
``hatch/cli/terminal.py``: one output object every command uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text


class Output:
    """The two consoles every command prints to.

    Attributes:
        console: results, what a command produced (stdout).
        err: everything else: progress, notes, warnings, errors (stderr).
    """

    def __init__(self) -> None:
        self.configure()

    def configure(self) -> None:
        """(Re)make the consoles from the environment as it is now: the terminal or pipe they write
        to and ``COLUMNS`` are read when a console is made, so each command run makes its own."""
        self.console = Console(soft_wrap=True)  # lines are not cut by rich; tables still fit the width
        self.err = Console(stderr=True, soft_wrap=True)


out = Output()
"""The output of the command being run (:func:`skillforge.cli.main` configures it first)."""


def note(text: str) -> None:
    """A one-line note for the user on stderr (``note: …``); ``text`` is plain (escaped here)."""
    out.err.print(f"[yellow]note:[/] {escape(text)}", highlight=False, soft_wrap=True)


def error(text: str) -> None:
    """The one ``error: …`` line a failed command prints on stderr."""
    out.err.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def print_problems(problems: list, limit: int = 20) -> None:
    """Ingest problems (file:line: message), at most ``limit``, then how many more."""
    for problem in problems[:limit]:
        style = "red" if problem.severity == "error" else "yellow"
        out.err.print(f"[{style}]{problem.severity}:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    if len(problems) > limit:
        out.err.print(f"… and {len(problems) - limit} more problems", highlight=False)


def print_violations(violations: list, to: Console | None = None) -> None:
    """Validation violations, one line each, errors in red and warnings in yellow, on ``to``
    (default: stderr)."""
    to = to or out.err
    for violation in violations:
        style = "red" if violation.severity == "error" else "yellow"
        to.print(f"[{style}]{escape(str(violation))}[/]", highlight=False, soft_wrap=True)


def shown_path(path: str, roots: list[Path]) -> str:
    """``path`` relative to the folder given on the command line that holds it (shorter tables)."""
    for root in roots:
        try:
            relative = Path(path).relative_to(root)
        except ValueError:
            continue
        return str(relative) if str(relative) != "." else path
    return path


def print_skipped(files: list, limit: int = 10) -> None:
    """One note naming the files skipped as binary or unreadable, and why; at most ``limit`` named.
    (Text files in no log format, a README say, are left out silently; JSON in an unknown format
    is already a warning.) ``files`` are :class:`~skillforge.ingest.report.FileSummary` objects."""
    skipped = [f for f in files if not f.format and f.skipped in ("binary", "unreadable")]
    if not skipped:
        return
    named = ", ".join(f"{f.path} ({f.skipped or 'skipped'})" for f in skipped[:limit])
    more = f" and {len(skipped) - limit} more" if len(skipped) > limit else ""
    noun = "file" if len(skipped) == 1 else "files"
    out.err.print(f"[yellow]note:[/] {len(skipped)} {noun} skipped: {escape(named)}{more}", highlight=False)


MIN_PATH_WIDTH = 16
"""The narrowest a path cell may get (characters) before a table gives way to a list."""


def shorten_left(text: str, width: int) -> str:
    """``text`` cut from the left to at most ``width`` characters, at a ``/`` when one falls inside
    (``…/session.jsonl``): the end of a path is the part that tells files apart."""
    if len(text) <= width:
        return text
    tail = text[len(text) - max(width, 2) + 1 :]
    cut = tail.find("/")
    return "…" + (tail[cut:] if 0 <= cut < len(tail) - 1 else tail)


def print_rows(
    headers: list[str],
    rows: Sequence[Sequence[object]],
    *,
    title: str | None = None,
    right: tuple[int, ...] = (),
    path_column: int | None = None,
    to: Console | None = None,
    **table_options: Any,
) -> None:
    """Print ``rows`` as a table when it fits the console's width with no cell wrapped, else as a
    list: one line per row, ``header value · header value …`` (never wrapped by rich).

    Cells are plain text (no rich markup). No column wraps (a wrapped path or number breaks
    character by character); the ``path_column`` cells are first cut from the left
    (:func:`shorten_left`) to what the other columns leave, not below :data:`MIN_PATH_WIDTH`. The
    fit is rich's own measurement (``Console.measure``) at the console's width: 80 in a pipe
    unless ``COLUMNS`` says otherwise.

    Args:
        headers: column headers; rows: cells, as many as headers per row.
        title: the table's title (printed above the list too).
        right: indexes of right-justified (numeric) columns.
        to: the console (default: stdout's).
        table_options: more :class:`rich.table.Table` options (``box``, ``caption``…).
    """
    console = to or out.console
    unbounded = console.options.update_width(1_000_000)  # measure the natural width, not the console's

    def table_of(cells: list[list[str]]) -> Table:
        table = Table(title=title, **table_options)
        for index, header in enumerate(headers):
            table.add_column(header, justify="right" if index in right else "left", no_wrap=True)
        for row in cells:
            table.add_row(*(Text(str(cell)) for cell in row))
        return table

    cells = [[str(cell) for cell in row] for row in rows]
    if path_column is not None and cells:
        without = [[*row[:path_column], "", *row[path_column + 1 :]] for row in cells]
        others = console.measure(table_of(without), options=unbounded).maximum
        width = max(console.width - others, MIN_PATH_WIDTH)
        cells = [[*row[:path_column], shorten_left(row[path_column], width), *row[path_column + 1 :]] for row in cells]
    table = table_of(cells)
    if console.measure(table, options=unbounded).maximum <= console.width:  # nothing cut or wrapped
        console.print(table)
        return
    if title:
        console.print(title, highlight=False, soft_wrap=True, markup=False)
    for row in rows:
        facts = [f"{header} {cell}" for header, cell in zip(headers, row, strict=True) if str(cell) != ""]
        console.print(" · ".join(facts), highlight=False, soft_wrap=True, markup=False)


def print_check(checks: Sequence[Any], report: Any, roots: list[Path], as_json: bool = False) -> None:
    """``ingest --check``: one row per trajectory (:class:`~skillforge.ingest.check.TrajectoryCheck`)
    with user turns, agent steps, tool calls, tool errors by kind, outcome and origin, truncation;
    the ingest problems first (stderr). ``as_json``: a JSON list of the rows instead."""
    if as_json:
        import json

        print(json.dumps([c.to_dict() for c in checks], indent=2))
        return
    print_problems(report.problems)
    rows = [
        [
            shown_path(c.path, roots),
            c.session_id,
            c.user_turns,
            c.agent_steps,
            c.tool_calls,
            " ".join(f"{n} {kind}" for kind, n in sorted(c.errors.items())) or "0",
            c.outcome + (f" {c.reward:g}" if c.reward is not None else "") + (f" ({c.origin})" if c.origin else ""),
            "yes" if c.truncated else "",
        ]
        for c in checks
    ]
    headers = ["file", "trajectory", "user turns", "agent steps", "calls", "tool errors", "outcome (origin)"]
    headers.append("truncated")
    if rows:
        print_rows(headers, rows, title="ingest check", right=(2, 3, 4), path_column=0)


def announce_report(path: Path, open_page: bool) -> None:
    """Say where an HTML report was written; with ``open_page``, open it in the web browser
    (:mod:`webbrowser`: the user's default browser, nothing fetched)."""
    out.console.print(f"wrote {path}", highlight=False, markup=False)
    if open_page:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
