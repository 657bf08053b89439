"""The normalized trajectory model every log format is read into.

Field names follow ATIF v1.4, Harbor's Agent Trajectory Interchange Format
(RFC ``docs/rfcs/0001-trajectory-format.md`` in laude-institute/harbor), so that a
:class:`Trajectory` can be written out as a standard ATIF file with :meth:`Trajectory.to_atif`.
skillforge adds two top-level fields of its own (DESIGN §3):

* ``source`` — where the trajectory was read from (format, file path, line or record index);
* ``outcome`` — success / failure / unknown, an optional reward and where that label came from.

In ATIF a tool call and its result live in the same step: the agent step that makes the
``tool_calls`` carries the ``observation`` whose ``results`` answer them (linked by
``source_call_id``). Ingest modules fold the separate tool-result records of their formats
into that shape.

The JSON Schema of the serialized form is ``schemas/trajectory.schema.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from skillforge.errors import SkillforgeError

StepSource = Literal["system", "user", "agent"]
OutcomeStatus = Literal["success", "failure", "unknown"]
OutcomeOrigin = Literal["log", "labels", "judge"]

ATIF_SCHEMA_VERSION = "ATIF-v1.4"


@dataclass
class ToolCall:
    """One tool call made by the agent.

    Attributes:
        tool_call_id: id that links the call to its observation result.
        function_name: tool name as the agent called it (``Bash``, ``get_user_details``…).
        arguments: parsed arguments; formats that store a JSON string are parsed leniently,
            unparseable text is kept under ``{"_raw": text}``.
    """

    tool_call_id: str
    function_name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class ObservationResult:
    """The result of one tool call (ATIF ``observation.results[]``).

    Attributes:
        source_call_id: the ``tool_call_id`` this result answers (None when the format has none).
        content: result text as the agent saw it.
        is_error: True when the format marks the result as an error (``is_error``, non-zero exit
            code, ``Error:`` prefix…). Not an ATIF field; kept because it is the main failure signal.
    """

    source_call_id: str | None
    content: str
    is_error: bool = False


@dataclass
class Observation:
    """ATIF ``observation``: the results of the tool calls of one step."""

    results: list[ObservationResult] = field(default_factory=list)


@dataclass
class StepMetrics:
    """Token and cost figures of the LLM call behind one step (tokens; USD)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None


@dataclass
class Step:
    """One step of a trajectory (ATIF ``steps[]``).

    Attributes:
        step_id: 1-based position in the trajectory; lessons cite it as evidence.
        source: ``system``, ``user`` or ``agent``.
        message: the text of the step (may be empty).
        timestamp: ISO-8601 string when the format has one.
        reasoning_content: the agent's visible reasoning/thinking text, if any.
        tool_calls: calls made in this step (agent steps only).
        observation: results of those calls.
        metrics: tokens/cost of the step's LLM call.
        extra: format-specific details (e.g. ``{"injected": True}`` for context that is not user intent).
    """

    step_id: int
    source: StepSource
    message: str = ""
    timestamp: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    observation: Observation | None = None
    metrics: StepMetrics | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def result_for(self, tool_call_id: str) -> ObservationResult | None:
        """Return the observation result answering ``tool_call_id``, or None if there is none."""
        if self.observation is None:
            return None
        for result in self.observation.results:
            if result.source_call_id == tool_call_id:
                return result
        return None

    def text(self) -> str:
        """All text of the step (message, reasoning, call arguments, results), for quoting checks."""
        parts = [self.message or "", self.reasoning_content or ""]
        for call in self.tool_calls:
            parts.append(call.function_name)
            parts.append(_compact_json(call.arguments))
        if self.observation:
            parts.extend(r.content for r in self.observation.results)
        return "\n".join(p for p in parts if p)


@dataclass
class Agent:
    """ATIF ``agent``: which agent produced the trajectory."""

    name: str
    version: str | None = None
    model_name: str | None = None


@dataclass
class SourceRef:
    """Where a trajectory was read from.

    Attributes:
        format: registry name of the ingest format (``claude-code``, ``tau-bench``…).
        path: file path as given on the command line (or found under a given folder).
        line: 1-based line (JSONL) or 0-based record index (JSON arrays) of the first record, if any.
    """

    format: str
    path: str
    line: int | None = None


@dataclass
class Outcome:
    """Whether the trajectory reached its goal.

    Attributes:
        status: ``success``, ``failure`` or ``unknown``.
        reward: numeric reward when the log has one (tau-bench: 0.0 or 1.0).
        origin: where the label came from: ``log`` (a field of the log), ``labels`` (a labels
            file), ``judge`` (an LLM judged it); None while unknown.
        detail: a short human-readable reason (``"reward 1.0"``, ``"exit_status Submitted"``).
    """

    status: OutcomeStatus = "unknown"
    reward: float | None = None
    origin: OutcomeOrigin | None = None
    detail: str | None = None


@dataclass
class Trajectory:
    """One agent run, normalized (ATIF v1.4 names plus ``source`` and ``outcome``).

    Attributes:
        session_id: stable, unique id; lessons cite it.
        agent: the agent that ran.
        steps: ordered steps, ``step_id`` 1..n.
        source: where it was read from.
        outcome: success / failure / unknown.
        final_metrics: ATIF ``final_metrics`` (``total_prompt_tokens``, ``total_completion_tokens``,
            ``total_cost_usd``, ``total_steps``) when known.
        extra: format-specific details. Well-known keys: ``task_id`` (runs of the same task share
            it; used for comparative analysis), ``parent_session_id`` (subagent/sidechain runs).
    """

    session_id: str
    agent: Agent
    steps: list[Step]
    source: SourceRef
    outcome: Outcome = field(default_factory=Outcome)
    final_metrics: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def task_id(self) -> str | None:
        """The task this run attempted (``extra["task_id"]``), or None when the format has none."""
        value = self.extra.get("task_id")
        return None if value is None else str(value)

    def step(self, step_id: int) -> Step | None:
        """Return the step with ``step_id`` or None."""
        if 1 <= step_id <= len(self.steps) and self.steps[step_id - 1].step_id == step_id:
            return self.steps[step_id - 1]
        for step in self.steps:
            if step.step_id == step_id:
                return step
        return None

    def to_dict(self) -> dict[str, Any]:
        """Serialize to plain JSON types (the shape of ``schemas/trajectory.schema.json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        """Build a Trajectory from :meth:`to_dict` output.

        Raises:
            KeyError / TypeError: when required fields are missing or of the wrong type.
        """
        steps = []
        for s in data["steps"]:
            obs = s.get("observation")
            metrics = s.get("metrics")
            steps.append(
                Step(
                    step_id=s["step_id"],
                    source=s["source"],
                    message=s.get("message") or "",
                    timestamp=s.get("timestamp"),
                    reasoning_content=s.get("reasoning_content"),
                    tool_calls=[ToolCall(**c) for c in s.get("tool_calls") or []],
                    observation=Observation([ObservationResult(**r) for r in obs["results"]]) if obs else None,
                    metrics=StepMetrics(**metrics) if metrics else None,
                    extra=s.get("extra") or {},
                )
            )
        return cls(
            session_id=data["session_id"],
            agent=Agent(**data["agent"]),
            steps=steps,
            source=SourceRef(**data["source"]),
            outcome=Outcome(**data.get("outcome") or {}),
            final_metrics=data.get("final_metrics"),
            extra=data.get("extra") or {},
        )

    def to_atif(self) -> dict[str, Any]:
        """Return the trajectory as a standard ATIF v1.4 document.

        ATIF has no ``source``, ``outcome`` or per-result ``is_error``: they are kept in the
        ``extra`` objects ATIF provides for producer data (root ``extra.skillforge`` and, per step,
        ``extra.error_call_ids``). Null fields are omitted, as the RFC's examples do.

        Returns:
            A JSON-ready dict with ``schema_version: "ATIF-v1.4"``.
        """
        steps = []
        for step in self.steps:
            out: dict[str, Any] = {"step_id": step.step_id, "source": step.source, "message": step.message or ""}
            if step.timestamp:
                out["timestamp"] = step.timestamp
            if step.reasoning_content:
                out["reasoning_content"] = step.reasoning_content
            if step.tool_calls:
                out["tool_calls"] = [asdict(c) for c in step.tool_calls]
            if step.observation and step.observation.results:
                out["observation"] = {
                    "results": [
                        {
                            k: v
                            for k, v in (("source_call_id", r.source_call_id), ("content", r.content))
                            if v is not None
                        }
                        for r in step.observation.results
                    ]
                }
            if step.metrics:
                metrics = {k: v for k, v in asdict(step.metrics).items() if v is not None}
                if metrics:
                    out["metrics"] = metrics
            extra = dict(step.extra)
            errors = [r.source_call_id for r in (step.observation.results if step.observation else []) if r.is_error]
            if errors:
                extra["error_call_ids"] = errors
            if extra:
                out["extra"] = extra
            steps.append(out)
        agent = {k: v for k, v in asdict(self.agent).items() if v is not None}
        doc: dict[str, Any] = {
            "schema_version": ATIF_SCHEMA_VERSION,
            "session_id": self.session_id,
            "agent": agent,
            "steps": steps,
        }
        if self.final_metrics:
            doc["final_metrics"] = self.final_metrics
        doc["extra"] = {**self.extra, "skillforge": {"source": asdict(self.source), "outcome": asdict(self.outcome)}}
        return doc


def _compact_json(value: Any) -> str:
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return str(value)


def read_trajectories(path: Path) -> list[Trajectory]:
    """The trajectories of a JSONL file of :meth:`Trajectory.to_dict` lines (a run folder's
    ``trajectories.jsonl``, an eval's ``holdout.jsonl``), in order; blank lines skipped.

    Raises:
        SkillforgeError: the file cannot be read, or a line is not a trajectory (file and line named).
    """
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        raise SkillforgeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    trajectories = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            trajectories.append(Trajectory.from_dict(orjson.loads(line)))
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise SkillforgeError(f"{path}:{number}: not a trajectory ({type(exc).__name__}: {exc})") from exc
    return trajectories
