"""The ``skillforge`` command line: one module per command or group, registered here.

Commands parse options, call a pipeline function and print through :mod:`.output`; nothing here
imports litellm, and heavy modules are imported inside the commands, so that ``skillforge --help``
stays fast (after pre-commit's ``main.py`` and hatch's ``cli/__init__.py``: DESIGN §6).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand

from skillforge import __version__
from skillforge.cli import distill, export, ingest, report, store, validate
from skillforge.cli.eval import eval_command
from skillforge.cli.output import error, out
from skillforge.errors import SkillforgeError


class Command(TyperCommand):
    """A command whose help names each argument by its metavar (``LOGS...``, ``NAME[@vN]``) without
    the Python type typer would print beside it (``<list[Path]>``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.metavar:
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]


app = typer.Typer(
    name="skillforge",
    help="Distill AI-agent logs into reusable, versioned Agent Skills (SKILL.md packages).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help (Click's layout): metavars such as PATH, N, USD, and it reads the same in a pipe
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        print(f"skillforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Distill AI-agent logs into reusable, versioned Agent Skills (SKILL.md packages)."""
    out.configure()  # every command run prints to consoles made for its own environment


app.command("distill", cls=Command)(distill.distill)
app.command("ingest", cls=Command)(ingest.ingest_logs)
app.command("validate", cls=Command)(validate.validate)
app.command("log", cls=Command)(store.log)
app.command("list", cls=Command)(store.list_skills)
app.command("export", cls=Command)(export.export)
app.command("import", cls=Command)(export.import_)
app.command("report", cls=Command)(report.report)
app.command("show", cls=Command)(store.show)
app.command("diff", cls=Command)(store.diff)
app.command("rollback", cls=Command)(store.rollback)
app.command("blame", cls=Command)(store.blame)
app.command("eval", cls=Command)(eval_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app on ``argv`` (default: ``sys.argv[1:]``), turning
    :class:`SkillforgeError` into one ``error:`` line and its exit code (1 by default), an
    :class:`OSError` (a read-only or missing path) into one ``error:`` line naming the path, and Ctrl-C
    into exit code 130. Always ends with :class:`SystemExit`."""
    try:
        app(args=argv, prog_name="skillforge")
    except SkillforgeError as exc:
        error(str(exc))
        sys.exit(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        out.err.print("[bold red]interrupted[/]", highlight=False)
        sys.exit(130)
    except OSError as exc:  # a folder or file the command cannot read or write: one line, no traceback
        where = " → ".join(str(name) for name in (exc.filename, exc.filename2) if name)
        error(f"{where}: {exc.strerror or exc}" if where else str(exc.strerror or exc))
        sys.exit(1)
