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
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="MODEL",
        help="litellm model name, e.g. gpt-4o-mini (key from the provider's env var). Else SKILLFORGE_MODEL or "
        "skillforge.toml.",
    ),
]
ApiBaseOption = Annotated[
    str | None,
    typer.Option("--api-base", metavar="URL", help="Base URL of a self-hosted OpenAI-compatible server."),
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option("--concurrency", metavar="N", help="Most LLM calls in flight at once (default 8).", min=1),
]
ContextTokensOption = Annotated[
    int | None,
    typer.Option(
        "--context-tokens",
        metavar="N",
        help="Model context in tokens (default: from litellm's model map, else 8192).",
        min=256,
    ),
]
BudgetOption = Annotated[
    float | None,
    typer.Option("--budget", metavar="USD", help="Stop cleanly before LLM spending in USD would exceed this.", min=0.0),
]
TasksOption = Annotated[
    Path | None,
    typer.Option("--tasks", metavar="FILE", help="A/B: task ids, one a line ('#' comments).", show_default=False),
]
AgentCmdOption = Annotated[
    str | None,
    typer.Option(
        "--agent-cmd",
        metavar="CMD",
        help="A/B: the command that runs the agent on one task, with {task}, {skills}, {out}, {trial}, {arm}, "
        "{skill} (docs/eval.md).",
        show_default=False,
    ),
]
TrialsOption = Annotated[int, typer.Option("--trials", metavar="K", help="A/B: trials per task per arm.", min=1)]
JobsOption = Annotated[int, typer.Option("--jobs", metavar="N", help="A/B: agent runs at once.", min=1)]
