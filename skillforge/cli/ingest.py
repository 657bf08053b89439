"""``skillforge ingest``: what each log file holds, and conversion to ATIF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from skillforge.cli.output import out, print_check, print_problems, print_rows, print_skipped, shown_path
from skillforge.cli.params import OutcomesOption
from skillforge.errors import SkillforgeError
from skillforge.wording import counted


def ingest_logs(
    logs: Annotated[list[Path], typer.Argument(metavar="LOGS", help="Log files or folders (any supported format).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    to: Annotated[
        tuple[str, Path] | None,
        typer.Option("--to", metavar="FORMAT DIR", help="Also write each trajectory to DIR in FORMAT (atif)."),
    ] = None,
    outcomes: OutcomesOption = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            min=1,
            help="Processes reading files at once (default: the usable CPUs, at most 8; 1: no worker processes). The "
            "output is the same for every value.",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Print, per trajectory, the counts to set beside the raw file: user turns, agent steps, tool calls, "
            "tool errors by kind, outcome and its origin, truncation.",
        ),
    ] = False,
) -> None:
    """Read LOGS and show, per file, its format and what it holds (secrets redacted).

    Exit 1 only when nothing could be read."""
    from skillforge.ingest.command import nothing_read, run_ingest

    if check:
        from skillforge.ingest.check import run_check

        checks, report = run_check(logs, outcomes, jobs)
        print_check(checks, report, logs, as_json)
        if not checks:
            raise SkillforgeError(nothing_read(logs, report))
        return
    result = run_ingest(logs, outcomes, to, jobs)
    if as_json:
        print(result.to_json())
    else:
        print_problems(result.report.problems)
        print_skipped(result.report.files)
        rows = [
            [
                shown_path(summary.path, logs),
                summary.format,
                summary.trajectories,
                summary.steps,
                summary.tool_calls,
                summary.tool_errors,
                " ".join(f"{n} {status}" for status, n in sorted(summary.outcomes.items())) or "-",
            ]
            for summary in result.report.files
            if summary.format
        ]
        if rows:
            headers = ["file", "format", "traj.", "steps", "calls", "errors", "outcome"]
            print_rows(headers, rows, title="ingested logs", right=(2, 3, 4, 5), path_column=0)
        totals = result.totals()
        redacted = ", ".join(f"{n} {kind}" for kind, n in result.report.redactions.most_common()) or "none"
        out.console.print(
            f"{counted(totals['trajectories'], 'trajectory')} from {counted(totals['files'], 'file')}; "
            f"secrets redacted: {redacted}"
            + (f"; {counted(len(result.written), 'ATIF file')} written to {escape(str(to[1]))}" if to else ""),
            highlight=False,
        )
    if result.report.trajectories == 0:
        raise SkillforgeError(nothing_read(logs, result.report))
