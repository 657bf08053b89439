"""The consolidation report of a build: per level what went in and out, what was dropped and why,
contradictions, tokens and cost; then apply, fix and validation results.

Saved as ``<run>/consolidation.json`` (after every stage, so a killed run leaves what it did)
and shown by ``skillforge report RUN`` after the analysts' totals (:func:`render_analysis`, read from
the run's manifest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from skillforge.errors import SkillforgeError
from skillforge.run import RunFolder

REPORT_FILE = "consolidation.json"


@dataclass
class LevelReport:
    """One consolidation level.

    Attributes:
        level: 0 for proposals, 1… for merge levels; the offline grouping and the final filter get
            their own entries (``stage`` says which).
        stage: ``propose``, ``merge``, ``offline`` or ``filter``.
        inputs: lessons (propose, offline) or patches (merge, filter) that went in.
        input_edits: edits that went in (0 for lessons).
        outputs: patches that came out.
        output_edits: edits that came out.
        calls: LLM calls made in this run; reused: steps reused from the run folder.
        failed: calls that failed (their inputs passed up unmerged, or a proposal fell back to the
            deterministic patch); passed_up: patches passed up without a merge call.
        dropped: ``DroppedEdit.to_dict()`` entries.
        contradictions: ``Contradiction.to_dict()`` entries first met at this level.
        prompt_tokens, completion_tokens: tokens of the calls behind this level (reused ones included).
        cost_usd: USD of those calls.
        notes: anything else worth telling (errors of failed calls…).
    """

    level: int
    stage: str
    inputs: int = 0
    input_edits: int = 0
    outputs: int = 0
    output_edits: int = 0
    calls: int = 0
    reused: int = 0
    failed: int = 0
    passed_up: int = 0
    dropped: list[dict[str, Any]] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add_usage(self, usage: dict[str, Any]) -> None:
        """Add a saved step's ``usage`` ({prompt_tokens, completion_tokens, cost_usd})."""
        self.prompt_tokens += int(usage.get("prompt_tokens", 0))
        self.completion_tokens += int(usage.get("completion_tokens", 0))
        self.cost_usd += float(usage.get("cost_usd", 0.0))


@dataclass
class ConsolidationReport:
    """Everything a build did (see the module doc).

    Attributes:
        skill: the skill name; mode: ``llm`` or ``offline``; start: the start version (``StartVersion.to_dict``).
        model: the model string ('' offline); options: the build options used.
        lessons: lessons in; trajectories: the trajectory count the one-off rule used; min_support: the threshold.
        levels: :class:`LevelReport` per level.
        contradictions: all contradictions reported (``Contradiction.to_dict``).
        apply: ``{applied, unmatched: [...], rejected: [...], translated, notes: [...]}``.
        fix_rounds: one entry per validate-and-fix round.
        layout: notes of the layout rules (sections moved, seed sections pruned…).
        validation: ``ValidationReport.to_dict()`` of the final skill.
        calls: LLM call counts per stage and the expected counts of the merge tree.
        status: ``running``, ``ok`` (the skill validates) or ``failed``.
    """

    skill: str
    mode: str
    start: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    lessons: int = 0
    trajectories: int = 0
    min_support: int = 1
    levels: list[LevelReport] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    apply: dict[str, Any] = field(default_factory=dict)
    fix_rounds: list[dict[str, Any]] = field(default_factory=list)
    layout: list[str] = field(default_factory=list)
    validation: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, Any] = field(default_factory=dict)
    status: str = "running"

    @property
    def prompt_tokens(self) -> int:
        return sum(level.prompt_tokens for level in self.levels) + sum(r.get("prompt_tokens", 0) for r in self.fix_rounds) + self.apply.get("prompt_tokens", 0)

    @property
    def completion_tokens(self) -> int:
        return sum(level.completion_tokens for level in self.levels) + sum(r.get("completion_tokens", 0) for r in self.fix_rounds) + self.apply.get("completion_tokens", 0)

    @property
    def cost_usd(self) -> float:
        return sum(level.cost_usd for level in self.levels) + sum(r.get("cost_usd", 0.0) for r in self.fix_rounds) + self.apply.get("cost_usd", 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the totals."""
        data = asdict(self)
        data["totals"] = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "cost_usd": round(self.cost_usd, 6)}
        return data

    def save(self, run: RunFolder) -> None:
        """Write ``<run>/consolidation.json`` atomically."""
        run.save_step(REPORT_FILE, self.to_dict())

    @classmethod
    def load(cls, run: RunFolder) -> ConsolidationReport:
        """Read ``<run>/consolidation.json``.

        Raises:
            SkillforgeError: when the file is missing or not a consolidation report.
        """
        path = run.root / REPORT_FILE
        try:
            data = orjson.loads(path.read_bytes())
            data.pop("totals", None)
            data["levels"] = [LevelReport(**level) for level in data.get("levels", [])]
            return cls(**data)
        except FileNotFoundError as exc:
            raise SkillforgeError(f"{run.root}: no consolidation report ({REPORT_FILE}) in this run folder") from exc
        except (orjson.JSONDecodeError, TypeError, KeyError) as exc:
            raise SkillforgeError(f"{path}: not a readable consolidation report ({exc})") from exc


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
    out.append(Text.from_markup(
        f"[bold]{escape(report.skill)}[/] — {report.mode} build ({escape(report.model or 'no model')}) from {escape(origin)}: "
        f"{report.lessons} lessons, one-off threshold support < {report.min_support} "
        f"({report.trajectories} trajectories); status [bold]{report.status}[/]"
    ))
    table = Table(title="Consolidation, level by level")
    for column in ("level", "stage", "in", "in edits", "out", "out edits", "calls", "reused", "failed", "passed up", "dropped", "contradictions", "tokens in/out", "cost USD"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for level in report.levels:
        table.add_row(
            str(level.level), level.stage, str(level.inputs), str(level.input_edits), str(level.outputs), str(level.output_edits),
            str(level.calls), str(level.reused), str(level.failed), str(level.passed_up), str(len(level.dropped)),
            str(len(level.contradictions)), f"{level.prompt_tokens}/{level.completion_tokens}", f"{level.cost_usd:.4f}",
        )
    table.caption = f"total tokens {report.prompt_tokens}/{report.completion_tokens}, cost {report.cost_usd:.4f} USD"
    out.append(table)
    calls = report.calls
    if calls:
        out.append(Text(
            f"LLM calls: {calls.get('total', 0)} = propose {calls.get('propose', 0)} + merge {calls.get('merge', 0)} + translate "
            f"{calls.get('translate', 0)} + fix {calls.get('fix', 0)}; reused from the run folder: {calls.get('reused', 0)}. "
            f"Merge tree: {calls.get('formula', '')}; depth {calls.get('merge_depth', 0)} (expected {calls.get('expected_depth', 0)})."
        ))
    dropped = [(level, d) for level in report.levels for d in level.dropped]
    if dropped:
        table = Table(title="Dropped edits and why")
        for column in ("level", "support", "reason", "edit / lessons"):
            table.add_column(column)
        for level, item in dropped:
            table.add_row(str(level.level), str(item.get("support", "")), item.get("reason", ""), item.get("edit") or ", ".join(item.get("lesson_ids", [])))
        out.append(table)
    if report.contradictions:
        table = Table(title="Contradictions (not resolved silently)")
        for column in ("situation", "side A (support)", "side B (support)", "evidence", "source"):
            table.add_column(column)
        for item in report.contradictions:
            a, b = item["sides"]
            evidence = "A: " + "; ".join(a["evidence"][:3]) + "\nB: " + "; ".join(b["evidence"][:3])
            source = item.get("source", "") + (f" (level {item['level']})" if item.get("level") is not None else "")
            table.add_row(item["situation"], f"{a['guidance']} ({a['support']})", f"{b['guidance']} ({b['support']})", evidence, source)
        out.append(table)
    unapplied = report.apply.get("unmatched", []) + report.apply.get("rejected", [])
    if unapplied:
        table = Table(title="Edits not applied")
        for column in ("status", "reason", "edit"):
            table.add_column(column)
        for item in unapplied:
            edit = item.get("edit", {})
            table.add_row(item.get("status", ""), item.get("reason", ""), f"{edit.get('op')} {edit.get('file')}: {' '.join(str(edit.get('content') or '').split())[:80]}")
        out.append(table)
    for fix in report.fix_rounds:
        out.append(Text(f"fix round {fix.get('round')}: {fix.get('violations', 0)} violations, {fix.get('applied', 0)} fix edits applied"))
    for note in report.layout:
        out.append(Text(f"layout: {note}"))
    validation = report.validation
    if validation:
        errors = [v for v in validation.get("violations", []) if v.get("severity") == "error"]
        out.append(Text.from_markup("[bold green]the skill validates[/]" if validation.get("ok") else f"[bold red]the skill fails validation[/] ({len(errors)} errors)"))
        for violation in errors[:20]:
            where = f"{violation['file']}:{violation['line']}" if violation.get("line") else violation["file"]
            out.append(Text(f"  {where}: {violation['message']} [{violation['rule']}]"))
    return out


def run_report(run: RunFolder) -> list[Any]:
    """Rich renderables for ``skillforge report``: the analysts' totals from the run's manifest
    (:func:`render_analysis`), then the consolidation report (:func:`render_report`), each when the
    run got that far.

    Raises:
        SkillforgeError: the run has neither a manifest nor a consolidation report.
    """
    from rich.text import Text

    out: list[Any] = []
    has_manifest = (run.root / "manifest.json").is_file()
    if has_manifest:
        out += render_analysis(run.read_manifest())
    if (run.root / REPORT_FILE).is_file():
        out += render_report(ConsolidationReport.load(run))
    elif has_manifest:
        out.append(Text("no consolidation yet: the run stopped before it (resume it with skillforge distill --resume " + run.run_id + ")"))
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
    out: list[Any] = [Text.from_markup(
        f"[bold]run {escape(str(manifest.get('run_id', '')))}[/]: status [bold]{escape(str(manifest.get('status', '?')))}[/], "
        f"analyst {escape(str(manifest.get('analyst', '?')))}, model {escape(model)}, "
        f"{(manifest.get('counts') or {}).get('trajectories', '?')} trajectories, attempts {manifest.get('attempts', 1)}"
    )]
    analysis = manifest.get("analysis") or {}
    passes = analysis.get("passes") or {}
    lessons = analysis.get("lessons") or {}
    if analysis:
        out.append(Text(
            "analysts: " + (", ".join(f"{name} {count}" for name, count in sorted(passes.items())) or "none")
            + f" passes; lessons kept {lessons.get('kept', 0)}, repaired {lessons.get('repaired', 0)}, dropped {lessons.get('dropped', 0)}"
            + (f"; {len(analysis.get('failed_passes', []))} passes failed" if analysis.get("failed_passes") else "")
            + (f"; {len(analysis.get('not_run', []))} passes not run" if analysis.get("not_run") else "")
        ))
    stages = manifest.get("stages") or {}
    if stages:
        table = Table(title="LLM usage by stage")
        for column in ("stage", "calls", "cached", "failed", "retries", "tokens in/out", "cost USD"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        rows = [*stages.items(), ("total", manifest.get("usage") or {})]
        for stage, usage in rows:
            table.add_row(
                stage, str(usage.get("calls", 0)), str(usage.get("cached", 0)), str(usage.get("failed_calls", 0)), str(usage.get("retries", 0)),
                f"{usage.get('prompt_tokens', 0)}/{usage.get('completion_tokens', 0)}", f"{usage.get('cost_usd', 0.0):.4f}",
            )
        out.append(table)
    return out
