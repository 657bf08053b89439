"""The ``skillforge`` command line: one module per command or group, registered here.

Commands parse options, call a pipeline function and print through :mod:`.output`; nothing here
imports litellm, and heavy modules are imported inside the commands, so that ``skillforge --help``
stays fast (after pre-commit's ``main.py`` and hatch's ``cli/__init__.py``: DESIGN §6).
"""

from __future__ import annotations

import sys

import typer

from skillforge.cli import distill, export, ingest, report, store, validate
from skillforge.cli.output import error, out
from skillforge.errors import SkillforgeError

app = typer.Typer(
    name="skillforge",
    help="Distill AI-agent logs into reusable, versioned Agent Skills (SKILL.md packages).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("distill")(distill.distill)
app.command("ingest")(ingest.ingest_logs)
app.command("validate")(validate.validate)
app.command("log")(store.log)
app.command("export")(export.export)
app.command("import")(export.import_)
app.command("report")(report.report)
app.command("show")(store.show)
app.command("diff")(store.diff)
app.command("rollback")(store.rollback)
app.command("blame")(store.blame)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app on ``argv`` (default: ``sys.argv[1:]``), turning
    :class:`SkillforgeError` into one ``error:`` line and its exit code (1 by default), Ctrl-C into
    exit code 130. Always ends with :class:`SystemExit`."""
    out.configure()
    try:
        app(args=argv, prog_name="skillforge")
    except SkillforgeError as exc:
        error(str(exc))
        sys.exit(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        out.err.print("[bold red]interrupted[/]", highlight=False)
        sys.exit(130)
