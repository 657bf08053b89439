"""Option and argument types shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

StoreOption = Annotated[
    Path, typer.Option("--store", metavar="DIR", help="Skill store folder (a git repository skillforge owns).")
]
OutcomesOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time
    typer.Option(
        "--outcomes",
        metavar="FILE",
        help="Labels file (CSV or JSONL: session id, task id or file → success/failure/reward) for logs without an "
        "outcome.",
    ),
]
RefArgument = Annotated[str, typer.Argument(metavar="NAME[@vN]", help="NAME or NAME@vN (latest version by default).")]
FileOption = Annotated[
    str,
    typer.Option(
        "--file", metavar="FILE", help="A file of the skill other than SKILL.md (e.g. references/pitfalls.md)."
    ),
]
RunsOption = Annotated[
    Path | None,
    typer.Option(
        "--runs",
        metavar="DIR",
        help="Folder of run folders (default: $SKILLFORGE_RUNS, else runs in the paths table of "
        "skillforge.toml, else .skillforge/runs).",
        show_default=False,
    ),
]
HtmlOption = Annotated[
    bool, typer.Option("--html", help="Write a self-contained HTML evidence report instead (docs/report.md).")
]
OpenOption = Annotated[bool, typer.Option("--open", help="With --html: open the report in the web browser.")]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", metavar="PATH", help="With --html: the file to write (or a folder to write it in).", show_default=False
    ),
]
