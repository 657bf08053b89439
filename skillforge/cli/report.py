"""``skillforge report``: what a run did, from its manifest and its consolidation report.

Tables are printed with :func:`skillforge.cli.output.print_rows`, so at 80 columns or in a pipe a
table that would not fit becomes one line per row, and no header or cell is cut.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from skillforge.cli.output import announce_report, out, print_rows
from skillforge.cli.params import HtmlOption, OpenOption, OutOption, RunsOption
from skillforge.errors import SkillforgeError

if TYPE_CHECKING:
    from skillforge.distill.runfolder import RunFolder
    from skillforge.merge.report import ConsolidationReport


def report(
    run: Annotated[str, typer.Argument(help="A run folder, a run id under --runs, or 'latest'.", metavar="RUN")],
    runs: RunsOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the manifest and the consolidation report as JSON.")
    ] = False,
    html: HtmlOption = False,
    open_page: OpenOption = False,
    out_path: OutOption = None,
) -> None:
    """Show a run: the analysts' totals, then the consolidation level by level (inputs, outputs,
    dropped edits and why, contradictions, tokens and cost), apply, fix and validation results."""
    from skillforge.config import resolve_runs
    from skillforge.distill.runfolder import RunFolder

    folder = RunFolder.find(resolve_runs(runs), run, also=("consolidation.json",))
    if html:
        from skillforge.report import write_run_report

        announce_report(write_run_report(folder.root, out_path), open_page)
        return
    if as_json:
        print(json.dumps(run_document(folder), indent=2))
        return
    print_run(folder)


def run_document(run: RunFolder) -> dict[str, Any]:
    """``{"run", "manifest", "consolidation"}``: the run's manifest and consolidation report as JSON
    objects (None for a part the run has not reached).

    Raises:
        SkillforgeError: the run has neither.
    """
    from skillforge.merge.report import REPORT_FILE, ConsolidationReport

    manifest = run.read_manifest() if (run.root / "manifest.json").is_file() else None
    consolidation = ConsolidationReport.load(run).to_dict() if (run.root / REPORT_FILE).is_file() else None
    if manifest is None and consolidation is None:
        raise SkillforgeError(f"{run.root}: neither a run manifest nor a consolidation report")
    return {"run": run.run_id, "manifest": manifest, "consolidation": consolidation}


def print_run(run: RunFolder) -> None:
    """Print the analysts' totals from the run's manifest (:func:`print_analysis`), then the
    consolidation report (:func:`print_consolidation`), each when the run got that far.

    Raises:
        SkillforgeError: the run has neither a manifest nor a consolidation report.
    """
    from skillforge.merge.report import ConsolidationReport

    document = run_document(run)
    if document["manifest"] is not None:
        print_analysis(document["manifest"])
    if document["consolidation"] is not None:
        print_consolidation(ConsolidationReport.load(run))
    else:
        out.console.print(
            "no consolidation yet: the run stopped before it "
            f"(resume it with skillforge distill --resume {run.run_id})",
            highlight=False,
        )


def print_analysis(manifest: dict[str, Any]) -> None:
    """The run's header and its analysts' totals: passes by analyst, lessons kept/repaired/dropped,
    and per stage calls, cached, failed, tokens and USD (``manifest["stages"]``)."""
    model = (manifest.get("model") or {}).get("name") or "no model (offline)"
    out.console.print(
        f"[bold]run {escape(str(manifest.get('run_id', '')))}[/]: "
        f"status [bold]{escape(str(manifest.get('status', '?')))}[/], "
        f"analyst {escape(str(manifest.get('analyst', '?')))}, model {escape(model)}, "
        f"{(manifest.get('counts') or {}).get('trajectories', '?')} trajectories, attempts "
        f"{manifest.get('attempts', 1)}",
        highlight=False,
    )
    if manifest.get("holdout"):
        held = manifest["holdout"]
        out.console.print(
            f"held out: {held['counts']['held_out']} trajectories ({held['counts']['held_out_keys']} "
            f"{'tasks' if held['by'] == 'task' else 'keys'}, fraction {held['fraction']}) for evaluation",
            highlight=False,
        )
    if manifest.get("gate"):
        from skillforge.cli.eval import print_gate

        print_gate(manifest["gate"])
    analysis = manifest.get("analysis") or {}
    passes = analysis.get("passes") or {}
    lessons = analysis.get("lessons") or {}
    if analysis:
        line = (
            "analysts: "
            + (", ".join(f"{name} {count}" for name, count in sorted(passes.items())) or "none")
            + f" passes; lessons kept {lessons.get('kept', 0)}, repaired {lessons.get('repaired', 0)}, "
            f"dropped {lessons.get('dropped', 0)}"
            + (f"; {len(analysis.get('failed_passes', []))} passes failed" if analysis.get("failed_passes") else "")
            + (f"; {len(analysis.get('not_run', []))} passes not run" if analysis.get("not_run") else "")
        )
        out.console.print(line, highlight=False, markup=False)
    stages = manifest.get("stages") or {}
    if stages:
        rows = [
            [
                stage,
                usage.get("calls", 0),
                usage.get("cached", 0),
                usage.get("failed_calls", 0),
                usage.get("retries", 0),
                f"{usage.get('prompt_tokens', 0)}/{usage.get('completion_tokens', 0)}",
                f"{usage.get('cost_usd', 0.0):.4f}",
            ]
            for stage, usage in [*stages.items(), ("total", manifest.get("usage") or {})]
        ]
        headers = ["stage", "calls", "cached", "failed", "retries", "tokens in/out", "cost USD"]
        print_rows(headers, rows, title="LLM usage by stage", right=(1, 2, 3, 4, 5, 6))


def print_consolidation(report: ConsolidationReport) -> None:
    """A summary line, the per-level table, dropped edits, contradictions with their evidence,
    unapplied edits, fix rounds and validation."""
    start = report.start
    source = start.get("source", "")
    origin = start.get("mode", "?") + (f" {source}" if source and source != start.get("mode") else "")
    out.console.print(
        f"[bold]{escape(report.skill)}[/] — {report.mode} build ({escape(report.model or 'no model')}) from "
        f"{escape(origin)}: {report.lessons} lessons, one-off threshold support < {report.min_support} "
        f"({report.trajectories} trajectories); status [bold]{report.status}[/]",
        highlight=False,
    )
    headers = ["level", "stage", "in", "in edits", "out", "out edits", "calls", "reused", "failed", "passed up"]
    headers += ["dropped", "contradictions", "tokens in/out", "cost USD"]
    rows = [
        [
            level.level,
            level.stage,
            level.inputs,
            level.input_edits,
            level.outputs,
            level.output_edits,
            level.calls,
            level.reused,
            level.failed,
            level.passed_up,
            len(level.dropped),
            len(level.contradictions),
            f"{level.prompt_tokens}/{level.completion_tokens}",
            f"{level.cost_usd:.4f}",
        ]
        for level in report.levels
    ]
    print_rows(headers, rows, title="Consolidation, level by level", right=tuple(i for i in range(14) if i != 1))
    out.console.print(
        f"total tokens {report.prompt_tokens}/{report.completion_tokens}, cost {report.cost_usd:.4f} USD",
        highlight=False,
    )
    calls = report.calls
    if calls:
        out.console.print(
            f"LLM calls: {calls.get('total', 0)} = propose {calls.get('propose', 0)} + merge {calls.get('merge', 0)} "
            f"+ translate {calls.get('translate', 0)} + fix {calls.get('fix', 0)}; reused from the run folder: "
            f"{calls.get('reused', 0)}. Merge tree: {calls.get('formula', '')}; depth {calls.get('merge_depth', 0)} "
            f"(expected {calls.get('expected_depth', 0)}).",
            highlight=False,
            markup=False,
        )
    dropped = [(level, d) for level in report.levels for d in level.dropped]
    if dropped:
        rows = [
            [
                level.level,
                item.get("support", ""),
                item.get("reason", ""),
                item.get("edit") or ", ".join(item.get("lesson_ids", [])),
            ]
            for level, item in dropped
        ]
        print_rows(["level", "support", "reason", "edit / lessons"], rows, title="Dropped edits and why")
    if report.contradictions:
        rows = []
        for item in report.contradictions:
            a, b = item["sides"]
            evidence = "A: " + "; ".join(a["evidence"][:3]) + " / B: " + "; ".join(b["evidence"][:3])
            where = item.get("source", "") + (f" (level {item['level']})" if item.get("level") is not None else "")
            rows.append(
                [
                    item["situation"],
                    f"{a['guidance']} ({a['support']})",
                    f"{b['guidance']} ({b['support']})",
                    evidence,
                    where,
                ]
            )
        headers = ["situation", "side A (support)", "side B (support)", "evidence", "source"]
        print_rows(headers, rows, title="Contradictions (not resolved silently)")
    unapplied = report.apply.get("unmatched", []) + report.apply.get("rejected", [])
    if unapplied:
        rows = []
        for item in unapplied:
            edit = item.get("edit", {})
            content = " ".join(str(edit.get("content") or "").split())[:80]
            rows.append(
                [item.get("status", ""), item.get("reason", ""), f"{edit.get('op')} {edit.get('file')}: {content}"]
            )
        print_rows(["status", "reason", "edit"], rows, title="Edits not applied")
    for fix in report.fix_rounds:
        out.console.print(
            f"fix round {fix.get('round')}: {fix.get('violations', 0)} violations, "
            f"{fix.get('applied', 0)} fix edits applied",
            highlight=False,
        )
    for note in report.layout:
        out.console.print(f"layout: {note}", highlight=False, markup=False)
    validation = report.validation
    if validation:
        errors = [v for v in validation.get("violations", []) if v.get("severity") == "error"]
        ok = validation.get("ok")
        out.console.print(
            "[bold green]the skill validates[/]"
            if ok
            else f"[bold red]the skill fails validation[/] ({len(errors)} errors)",
            highlight=False,
        )
        for violation in errors[:20]:
            where = f"{violation['file']}:{violation['line']}" if violation.get("line") else violation["file"]
            out.console.print(f"  {where}: {violation['message']} [{violation['rule']}]", highlight=False, markup=False)
