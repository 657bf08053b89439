"""The CLI reads well at 80 columns and in a pipe (issue 16): no table cell or header is wrapped
character by character; a table that does not fit becomes one line per row; blame and log keep
one layout. The in-process runner writes to a pipe, as a script's caller does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from skillforge.cli.output import print_rows, shorten_left
from skillforge.skill.rules import RULES
from tests.cli_runner import run


def test_shorten_left_keeps_the_end_of_a_path() -> None:
    assert shorten_left("logs/claude-code/session.jsonl", 16) == "…/session.jsonl"
    assert shorten_left("short.jsonl", 16) == "short.jsonl" and len(shorten_left("a" * 40, 10)) == 10


@pytest.mark.parametrize("width", [80, 200])
def test_rows_are_a_table_when_they_fit_else_a_list(width: int) -> None:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    rows = [["logs/a/very/long/path/to/a/session-0001.jsonl", "claude-code", 12, 340, 80, 3, "1 unknown"]]
    print_rows(["file", "format", "traj.", "steps", "calls", "errors", "outcome"], rows, to=console, path_column=0)
    text = console.export_text()
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    if width == 200:  # the table fits: one row line holding the whole path
        assert any("logs/a/very/long/path/to/a/session-0001.jsonl" in line and "claude-code" in line for line in lines)
    else:  # each header and each cell whole, on the row's own line, path cut from the left if at all
        assert any(re.search(r"│ …\S*0001\.jsonl", line) and "claude-code" in line for line in lines)
    assert "trajector\n" not in text and "claude-co\n" not in text


def test_ingest_at_80_columns_names_every_file_whole(sample_traces: Path, workdir: Path) -> None:
    result = run("ingest", str(sample_traces), cwd=workdir, columns=80)
    assert result.returncode == 0
    for name in ("short.jsonl", "tool_heavy.jsonl", "gpt-4o-airline-sample.json"):
        assert any(name in line for line in result.stdout.splitlines()), (name, result.stdout)
    assert "1 trajectory" not in result.stdout and "18 trajectories from 3 files" in result.stdout


def test_report_keeps_its_headers_at_80_columns(sample_traces: Path, workdir: Path) -> None:
    assert run("distill", str(sample_traces), "-q", cwd=workdir).returncode == 0
    result = run("report", "latest", cwd=workdir, columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Consolidation, level by level" in lines
    levels = [line for line in lines if line.startswith("level ") and " · stage " in line]
    assert levels and all("contradictions" in line and "tokens in/out" in line for line in levels)
    assert all(len(line) <= 80 for line in lines if "│" in line)  # any table drawn fits


def test_validate_rules_one_line_per_rule_at_80_columns(workdir: Path) -> None:
    result = run("validate", "--rules", cwd=workdir, columns=80)
    rule_lines = [line for line in result.stdout.splitlines() if line.startswith("rule ")]
    assert [line.split()[1] for line in rule_lines] == list(RULES)


def test_dry_run_table_at_80_columns(sample_traces: Path, workdir: Path) -> None:
    result = run("distill", str(sample_traces), "--dry-run", cwd=workdir, columns=80)
    assert result.returncode == 0
    assert any(line.startswith("stage analyse") or "│ analyse" in line for line in result.stdout.splitlines())


def test_version_help_and_metavars(workdir: Path) -> None:
    from skillforge import __version__

    assert run("--version", cwd=workdir).stdout.strip() == f"skillforge {__version__}"
    short, long = run("-h", cwd=workdir), run("--help", cwd=workdir)
    assert short.returncode == 0 and short.stdout == long.stdout and "list" in short.stdout
    distill = run("distill", "-h", cwd=workdir).stdout
    for shown in ("--budget USD", "--concurrency N", "--store DIR", "--outcomes FILE", "[LOGS]...", "--runs DIR"):
        assert shown in distill, shown
    assert (
        "<list[Path]>" not in distill and "<int" not in distill and "<float" not in distill and "<str>" not in distill
    )


def test_list_skills(sample_traces: Path, workdir: Path) -> None:
    assert run("list", cwd=workdir).stdout.strip() == "no skills in skills"
    assert run("distill", str(sample_traces), "-q", cwd=workdir).returncode == 0
    import json

    listed = json.loads(run("list", "--json", cwd=workdir).stdout)
    assert [(s["name"], s["version"]) for s in listed] == [("sample-traces", 1)]
    skill_md = (workdir / "skills" / "sample-traces" / "SKILL.md").read_text()
    body = skill_md.split("## Evidence")[0]
    assert listed[0]["items"] == sum(1 for line in body.splitlines() if line.startswith("- ")) > 0
    assert "sample-traces" in run("list", cwd=workdir, columns=80).stdout
