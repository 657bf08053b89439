"""The consolidation report of a build: per level what went in and out, what was dropped and why,
contradictions, tokens and cost; then apply, fix and validation results.

Saved as ``<run>/consolidation.json`` (after every stage, so a killed run leaves what it did)
and shown by ``skillforge report RUN`` after the analysts' totals
(:func:`skillforge.cli.report.print_analysis`, read from the run's manifest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from skillforge.errors import SkillforgeError
from skillforge.llm.steps import StepJournal
from skillforge.usage import Usage

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

    def add_usage(self, usage: Usage) -> None:
        """Add the tokens and USD of one call (or of a reused step) to the level's."""
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cost_usd += usage.cost_usd


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
        return (
            sum(level.prompt_tokens for level in self.levels)
            + sum(r.get("prompt_tokens", 0) for r in self.fix_rounds)
            + self.apply.get("prompt_tokens", 0)
        )

    @property
    def completion_tokens(self) -> int:
        return (
            sum(level.completion_tokens for level in self.levels)
            + sum(r.get("completion_tokens", 0) for r in self.fix_rounds)
            + self.apply.get("completion_tokens", 0)
        )

    @property
    def cost_usd(self) -> float:
        return (
            sum(level.cost_usd for level in self.levels)
            + sum(r.get("cost_usd", 0.0) for r in self.fix_rounds)
            + self.apply.get("cost_usd", 0.0)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the totals."""
        data = asdict(self)
        data["totals"] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }
        return data

    def save(self, run: StepJournal) -> None:
        """Write ``<run>/consolidation.json`` atomically."""
        run.save_step(REPORT_FILE, self.to_dict())

    @classmethod
    def load(cls, run: StepJournal) -> ConsolidationReport:
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
