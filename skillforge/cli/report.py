"""``skillforge report``: what a run did, from its manifest and its consolidation report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from skillforge.cli.output import out
from skillforge.errors import SkillforgeError

if TYPE_CHECKING:
    from skillforge.distill.runfolder import RunFolder
    from skillforge.merge.report import ConsolidationReport


def report(
    run: Annotated[str, typer.Argument(help="A run folder, a run id under --runs, or 'latest'.")],
    runs: Annotated[Path, typer.Option("--runs", help="Folder holding the runs.")] = Path(".skillforge/runs"),
) -> None:
    """Show a run: the analysts' totals, then the consolidation level by level (inputs, outputs,
    dropped edits and why, contradictions, tokens and cost), apply, fix and validation results."""
    from skillforge.distill.runfolder import RunFolder

    for renderable in run_report(RunFolder.find(runs, run, also=("consolidation.json",))):
        out.console.print(renderable)


def run_report(run: RunFolder) -> list[Any]:
    """Rich renderables for ``skillforge report``: the analysts' totals from the run's manifest
    (:func:`render_analysis`), then the consolidation report (:func:`render_report`), each when the
    run got that far.

    Raises:
        SkillforgeError: the run has neither a manifest nor a consolidation report.
    """
    from rich.text import Text

    from skillforge.merge.report import REPORT_FILE, ConsolidationReport

    out: list[Any] = []
    has_manifest = (run.root / "manifest.json").is_file()
    if has_manifest:
        out += render_analysis(run.read_manifest())
    if (run.root / REPORT_FILE).is_file():
        out += render_report(ConsolidationReport.load(run))
    elif has_manifest:
        out.append(
            Text(
                "no consolidation yet: the run stopped before it (resume it with skillforge distill --resume "
                + run.run_id
                + ")"
            )
        )
    else:
        raise SkillforgeError(f"{run.root}: neither a run manifest nor a consolidation report")
    return out


def render_analysis(manifest: dict[str, Any]) -> list[Any]:
    """The run's header and its analysts' totals: passes by analyst, lessons kept/repaired/dropped,
    and per stage calls, cached, failed, tokens and USD (``manifest["stages"]``)."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    model = (manifest.get("model") or {}).get("name") or "no model (offline)"
    out: list[Any] = [
        Text.from_markup(
            f"[bold]run {escape(str(manifest.get('run_id', '')))}[/]: "
            f"status [bold]{escape(str(manifest.get('status', '?')))}[/], "
            f"analyst {escape(str(manifest.get('analyst', '?')))}, model {escape(model)}, "
            f"{(manifest.get('counts') or {}).get('trajectories', '?')} trajectories, attempts "
            f"{manifest.get('attempts', 1)}"
        )
    ]
    analysis = manifest.get("analysis") or {}
    passes = analysis.get("passes") or {}
    lessons = analysis.get("lessons") or {}
    if analysis:
        out.append(
            Text(
                "analysts: "
                + (", ".join(f"{name} {count}" for name, count in sorted(passes.items())) or "none")
                + f" passes; lessons kept {lessons.get('kept', 0)}, repaired {lessons.get('repaired', 0)}, "
                f"dropped {lessons.get('dropped', 0)}"
                + (f"; {len(analysis.get('failed_passes', []))} passes failed" if analysis.get("failed_passes") else "")
                + (f"; {len(analysis.get('not_run', []))} passes not run" if analysis.get("not_run") else "")
            )
        )
    stages = manifest.get("stages") or {}
    if stages:
        table = Table(title="LLM usage by stage")
        for column in ("stage", "calls", "cached", "failed", "retries", "tokens in/out", "cost USD"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        rows = [*stages.items(), ("total", manifest.get("usage") or {})]
        for stage, usage in rows:
            table.add_row(
                stage,
                str(usage.get("calls", 0)),
                str(usage.get("cached", 0)),
                str(usage.get("failed_calls", 0)),
                str(usage.get("retries", 0)),
                f"{usage.get('prompt_tokens', 0)}/{usage.get('completion_tokens', 0)}",
                f"{usage.get('cost_usd', 0.0):.4f}",
            )
        out.append(table)
    return out


def render_report(report: ConsolidationReport) -> list[Any]:
    """Rich renderables for the terminal: a summary line, the per-level table, dropped edits,
    contradictions with their evidence, unapplied edits, fix rounds and validation."""
    from rich.markup import escape
    from rich.table import Table as RichTable
    from rich.text import Text

    class Table(RichTable):
        """A table whose cells are plain text (no rich markup: edits contain ``[…]``)."""

        def add_row(self, *cells, **kwargs) -> None:
            super().add_row(*(Text(str(cell)) for cell in cells), **kwargs)

    out: list[Any] = []
    start = report.start
    source = start.get("source", "")
    origin = start.get("mode", "?") + (f" {source}" if source and source != start.get("mode") else "")
    out.append(
        Text.from_markup(
            f"[bold]{escape(report.skill)}[/] — {report.mode} build ({escape(report.model or 'no model')}) from "
            f"{escape(origin)}: "
            f"{report.lessons} lessons, one-off threshold support < {report.min_support} "
            f"({report.trajectories} trajectories); status [bold]{report.status}[/]"
        )
    )
    table = Table(title="Consolidation, level by level")
    for column in (
        "level",
        "stage",
        "in",
        "in edits",
        "out",
        "out edits",
        "calls",
        "reused",
        "failed",
        "passed up",
        "dropped",
        "contradictions",
        "tokens in/out",
        "cost USD",
    ):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for level in report.levels:
        table.add_row(
            str(level.level),
            level.stage,
            str(level.inputs),
            str(level.input_edits),
            str(level.outputs),
            str(level.output_edits),
            str(level.calls),
            str(level.reused),
            str(level.failed),
            str(level.passed_up),
            str(len(level.dropped)),
            str(len(level.contradictions)),
            f"{level.prompt_tokens}/{level.completion_tokens}",
            f"{level.cost_usd:.4f}",
        )
    table.caption = f"total tokens {report.prompt_tokens}/{report.completion_tokens}, cost {report.cost_usd:.4f} USD"
    out.append(table)
    calls = report.calls
    if calls:
        out.append(
            Text(
                f"LLM calls: {calls.get('total', 0)} = propose {calls.get('propose', 0)} + "
                f"merge {calls.get('merge', 0)} + translate "
                f"{calls.get('translate', 0)} + fix {calls.get('fix', 0)}; reused from the run folder: "
                f"{calls.get('reused', 0)}. "
                f"Merge tree: {calls.get('formula', '')}; depth {calls.get('merge_depth', 0)} (expected "
                f"{calls.get('expected_depth', 0)})."
            )
        )
    dropped = [(level, d) for level in report.levels for d in level.dropped]
    if dropped:
        table = Table(title="Dropped edits and why")
        for column in ("level", "support", "reason", "edit / lessons"):
            table.add_column(column)
        for level, item in dropped:
            table.add_row(
                str(level.level),
                str(item.get("support", "")),
                item.get("reason", ""),
                item.get("edit") or ", ".join(item.get("lesson_ids", [])),
            )
        out.append(table)
    if report.contradictions:
        table = Table(title="Contradictions (not resolved silently)")
        for column in ("situation", "side A (support)", "side B (support)", "evidence", "source"):
            table.add_column(column)
        for item in report.contradictions:
            a, b = item["sides"]
            evidence = "A: " + "; ".join(a["evidence"][:3]) + "\nB: " + "; ".join(b["evidence"][:3])
            source = item.get("source", "") + (f" (level {item['level']})" if item.get("level") is not None else "")
            table.add_row(
                item["situation"],
                f"{a['guidance']} ({a['support']})",
                f"{b['guidance']} ({b['support']})",
                evidence,
                source,
            )
        out.append(table)
    unapplied = report.apply.get("unmatched", []) + report.apply.get("rejected", [])
    if unapplied:
        table = Table(title="Edits not applied")
        for column in ("status", "reason", "edit"):
            table.add_column(column)
        for item in unapplied:
            edit = item.get("edit", {})
            table.add_row(
                item.get("status", ""),
                item.get("reason", ""),
                f"{edit.get('op')} {edit.get('file')}: {' '.join(str(edit.get('content') or '').split())[:80]}",
            )
        out.append(table)
    for fix in report.fix_rounds:
        out.append(
            Text(
                f"fix round {fix.get('round')}: {fix.get('violations', 0)} violations, {fix.get('applied', 0)} fix "
                f"edits applied"
            )
        )
    for note in report.layout:
        out.append(Text(f"layout: {note}"))
    validation = report.validation
    if validation:
        errors = [v for v in validation.get("violations", []) if v.get("severity") == "error"]
        out.append(
            Text.from_markup(
                "[bold green]the skill validates[/]"
                if validation.get("ok")
                else f"[bold red]the skill fails validation[/] ({len(errors)} errors)"
            )
        )
        for violation in errors[:20]:
            where = f"{violation['file']}:{violation['line']}" if violation.get("line") else violation["file"]
            out.append(Text(f"  {where}: {violation['message']} [{violation['rule']}]"))
    return out
