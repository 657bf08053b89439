"""Run the ``skillforge`` command in this process, as a user would from a shell, for tests.

:func:`run` calls :func:`skillforge.cli.main` (the console script's entry point, with its error
handling) through Click's :class:`~click.testing.CliRunner`, in a given working directory and
environment, and returns what a subprocess would: exit code, stdout, stderr. In-process runs are
fast; tests where a real process matters (signals, start-up cost, the installed script) start one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner


@dataclass
class Result:
    """What a command run left: ``returncode``, ``stdout``, ``stderr`` (as a subprocess's)."""

    returncode: int
    stdout: str
    stderr: str


class _Entry:
    """What CliRunner needs of a command: a ``main(args, prog_name, ...)`` that it can call."""

    name = "skillforge"

    def main(self, args: list[str], prog_name: str | None = None, **_: object) -> None:
        from skillforge.cli import main

        main(list(args))


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, columns: int | None = 200) -> Result:
    """Run ``skillforge ARGS`` in ``cwd``; ``env`` adds to (a value of None removes from) the
    environment; ``columns`` sets ``COLUMNS`` (None leaves it as it is)."""
    extra = dict(env or {})
    if columns is not None:
        extra.setdefault("COLUMNS", str(columns))
    runner = CliRunner()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(_Entry(), list(args), env=extra, catch_exceptions=True)  # type: ignore[arg-type]
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)
