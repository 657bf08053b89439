"""How every command prints: one console for results (stdout), one for notes, warnings, errors and
progress (stderr), and the shared ways of listing problems and violations (after hatch's
``hatch/cli/terminal.py``: one output object every command uses).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape


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
        self.console = Console()
        self.err = Console(stderr=True)


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
        out.err.print(f"[{style}]{problem.severity}:[/] {problem}", highlight=False)
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
