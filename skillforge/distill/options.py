"""The options of one distill run, and what is settled from them before any work: the skill
name (checked against the Agent Skills name rule), the analyst, the run to resume, the model client
and its context window, the build's options.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillforge.config import OFFLINE_HINT, ModelConfig
from skillforge.distill.build import BuildOptions, check_options
from skillforge.distill.runfolder import FINISHED, RUNS_DIR, RunFolder
from skillforge.distill.start import (
    check_skill_name,
    folder_skill_name,
)
from skillforge.errors import SkillforgeError
from skillforge.fsutil import check_writable

if TYPE_CHECKING:
    from skillforge.llm.client import LLMClient

ANALYSTS = ("auto", "heuristic", "llm")
"""The ``--analyst`` choices."""

DEFAULT_CONTEXT_TOKENS = 8192
"""Context assumed for a model litellm's model map does not know (tokens)."""

CACHE_DIR = "cache"
"""The response cache's folder under the workspace (``.skillforge/cache``)."""


@dataclass
class DistillOptions:
    """Inputs of :func:`distill` and :func:`estimate`.

    Attributes:
        paths: log files or folders (ignored on resume: the run's trajectories are reused).
        skill_name: name of the skill to create or add a version to (kebab-case); derived from
            ``from_path``'s skill, else from the first path, when empty.
        store_dir: the skill store folder.
        analyst: ``auto`` (the LLM analysts when a model is configured, else heuristic),
            ``heuristic`` (offline) or ``llm`` (a model is required).
        description: frontmatter description of a new skill; derived when empty.
        model: the resolved model settings (:func:`skillforge.config.resolve_config`).
        budget_usd: most USD this invocation may spend on LLM calls; None for no limit.
        resume: a run id (or ``latest``, or a run folder path) to resume; None for a new run.
        workspace: where the response cache lives, and the run folders unless ``runs`` is given
            (``.skillforge``).
        runs: the folder of run folders (``--runs``; :func:`skillforge.config.resolve_runs`).
        outcomes: labels file for logs without an outcome (:mod:`skillforge.ingest.outcomes`).
        from_path: a skill folder to deepen (``--from``); None: the store's latest version of the
            skill when there is one, else a seed.
        propose_batch: lessons per proposal call (``--propose-batch``).
        fan_in: patches per merge call (``--fan-in``).
        max_fix_rounds: LLM fix rounds when the skill fails validation (``--max-fix-rounds``).
        allow_empty: store a version even when it holds nothing new (``--allow-empty``; see
            :func:`skillforge.distill.stages.nothing_new`).
        min_support: the support (distinct trajectories) an edit needs to stay (``--min-support``);
            None: 2 in runs of 10 trajectories or more, else 1 (:mod:`skillforge.merge.support`).
        holdout: share of the tasks (else sessions) kept out of distillation for evaluation, in
            [0, 1) (``--holdout``; :func:`skillforge.distill.gate.hold_out`).
        gate: ``retro`` or ``ab`` to store the version only if that evaluation finds it not worse than
            the current one (``--gate``; :mod:`skillforge.distill.gate`); None: no gate.
        gate_tasks, gate_agent_cmd, gate_trials: the A/B gate's task list, agent command and trials
            per task per arm (``--tasks``, ``--agent-cmd``, ``--trials``).
    """

    paths: Sequence[Path] = ()
    skill_name: str = ""
    store_dir: Path = Path("skills")
    analyst: str = "auto"
    description: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    budget_usd: float | None = None
    resume: str | None = None
    workspace: Path = Path(".skillforge")
    outcomes: Path | None = None
    from_path: Path | None = None
    propose_batch: int = 4
    fan_in: int = 5
    max_fix_rounds: int = 3
    min_support: int | None = None
    allow_empty: bool = False
    runs: Path | None = None
    holdout: float = 0.0
    gate: str | None = None
    gate_tasks: Path | None = None
    gate_agent_cmd: str | None = None
    gate_trials: int = 1

    @property
    def runs_dir(self) -> Path:
        """The folder of run folders: ``runs`` when given, else ``<workspace>/runs``."""
        return Path(self.runs) if self.runs is not None else Path(self.workspace) / RUNS_DIR


def skill_name_from(path: Path) -> str:
    """A skill name from a folder or file name (``sample_traces`` → ``sample-traces``); not yet checked."""
    base = path.resolve().name if path.is_dir() else path.resolve().stem
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:64].strip("-")
    return name or "agent-skill"


def resolve_skill_name(options: DistillOptions) -> str:
    """The skill this run builds, checked against the validator's name rules before any work.

    ``--from PATH`` gives the name of the skill there (``--skill``, if given, must agree: a deepened
    skill keeps its name); else ``--skill``; else a name derived from the first log path.

    Raises:
        SkillforgeError: one line: the name is not valid (with a ``--skill`` suggestion), or
            ``--skill`` disagrees with ``--from``.
    """
    if options.from_path is not None:
        name = folder_skill_name(Path(options.from_path))
        if options.skill_name and options.skill_name != name:
            raise SkillforgeError(
                f"--from {options.from_path} holds the skill {name!r} but --skill says {options.skill_name!r}; a deepened skill keeps its name"
            )
        check_skill_name(name)
        return name
    if options.skill_name:
        check_skill_name(options.skill_name)
        return options.skill_name
    if not options.paths:
        raise SkillforgeError("give the log files or folders to distill (or --resume RUN)")
    name = skill_name_from(Path(options.paths[0]))
    try:
        check_skill_name(name)
    except SkillforgeError as exc:
        raise SkillforgeError(f"{exc} (the name was derived from {options.paths[0]})") from None
    return name


def resolve_analyst(analyst: str, model: ModelConfig) -> tuple[str, str | None]:
    """Which analyst runs: ``("llm" | "heuristic", hint or None)``.

    Raises:
        SkillforgeError: an unknown analyst, or ``llm`` without a model.
    """
    if analyst not in ANALYSTS:
        raise SkillforgeError(f"unknown analyst {analyst!r}; choose one of: {', '.join(ANALYSTS)}")
    if analyst == "heuristic":
        return "heuristic", None
    if model.model:
        return "llm", None
    if analyst == "llm":
        raise SkillforgeError("--analyst llm needs a model: pass --model <litellm model name>, or set SKILLFORGE_MODEL")
    return "heuristic", OFFLINE_HINT


@dataclass
class Prepared:
    """What :func:`prepare` settled.

    Attributes:
        run: the run folder to resume, None for a new run.
        manifest: its manifest (``{}`` for a new run).
        options: the options to use (a resumed run's own, with concurrency and budget from now).
        analyst: ``llm`` or ``heuristic``.
        hint: the one-line "how to use a model" note when ``auto`` fell back to the heuristic analyst.
        name: the skill name, checked.
    """

    run: RunFolder | None
    manifest: dict[str, Any]
    options: DistillOptions
    analyst: str
    hint: str | None
    name: str


def prepare(options: DistillOptions, *, writing: bool = True) -> Prepared:
    """What :func:`~skillforge.distill.pipeline.distill` and the dry run settle first: the run to
    resume (with its manifest and the options it was started with), the analyst and the skill name.

    Raises:
        SkillforgeError: a run that cannot be resumed, a bad analyst choice or skill name.
    """
    run: RunFolder | None = None
    manifest: dict[str, Any] = {}
    if options.resume:
        run = RunFolder.find(options.runs_dir, options.resume, unfinished=True)
        manifest = run.read_manifest()
        options = resumed_options(options, manifest)
    analyst, hint = resolve_analyst(options.analyst, options.model)
    if writing:  # before any log is read: a run that cannot store its work must not start
        check_writable(options.store_dir, "the skill store")
        check_writable(run.root if run is not None else options.runs_dir, "the run folder")
        if analyst == "llm":
            check_writable(Path(options.workspace) / CACHE_DIR, "the response cache")
    name = (
        options.skill_name if options.resume else resolve_skill_name(options)
    )  # a resumed run's name was checked when it began
    return Prepared(run, manifest, options, analyst, hint, name)


def to_build_options(options: DistillOptions) -> BuildOptions:
    """The build's options from the distill options (checked: a bad value fails before any work)."""
    build = BuildOptions(
        propose_batch=options.propose_batch,
        fan_in=options.fan_in,
        max_fix_rounds=options.max_fix_rounds,
        min_support=options.min_support,
    )
    check_options(build)
    return build


def make_client(options: DistillOptions, analyst: str) -> LLMClient | None:
    """The model client of a run: the model and server of ``options.model``, its concurrency and
    budget, the response cache under the workspace; None unless ``analyst`` is ``llm``."""
    if analyst != "llm":
        return None
    from skillforge.llm import backends
    from skillforge.llm.cache import ResponseCache
    from skillforge.llm.client import LLMClient
    from skillforge.llm.tokens import DEFAULT_EXPECTED_COMPLETION_TOKENS
    from skillforge.llm.types import LLMSettings

    model, api_base = options.model.model or "", options.model.api_base
    local = backends.local_settings(model, api_base, DEFAULT_EXPECTED_COMPLETION_TOKENS)
    settings = LLMSettings(model=model, api_base=api_base, **local)
    cache = ResponseCache(Path(options.workspace) / CACHE_DIR)
    return LLMClient(settings, options.model.concurrency, cache=cache, budget_usd=options.budget_usd)


def model_context_tokens(model: ModelConfig) -> int:
    """``--context-tokens``, else the model's ``max_input_tokens`` from litellm, else 8192."""
    if model.context_tokens:
        return model.context_tokens
    from skillforge.llm.tokens import context_window

    return context_window(model.model or "") or DEFAULT_CONTEXT_TOKENS


def resumed_options(options: DistillOptions, manifest: dict[str, Any]) -> DistillOptions:
    """The options a run was started with; only concurrency and budget may change on resume."""
    status = manifest.get("status")
    if status in FINISHED:
        stored = manifest.get("version") or {}
        what = f"it stored {stored.get('name')} v{stored.get('version')}" if stored else f"its status is {status}"
        raise SkillforgeError(f"run {manifest.get('run_id')} has already finished ({what}); start a new run instead")
    saved = manifest["options"]
    saved_model = manifest.get("model") or {}
    if (
        options.model.model
        and saved_model.get("name")
        and options.model.model != saved_model.get("name")
        and (options.model.sources or {}).get("model") == "option"
    ):
        raise SkillforgeError(
            f"run {manifest.get('run_id')} used model {saved_model.get('name')!r}; resume it with that model (or start a new run)"
        )
    model = replace(
        options.model,
        model=saved_model.get("name") or saved.get("gate_model"),  # an offline run's judge keeps its model
        api_base=saved_model.get("api_base"),
        context_tokens=saved_model.get("context_tokens"),
    )
    return replace(
        options,
        paths=[Path(p) for p in saved["paths"]],
        skill_name=saved["skill_name"],
        store_dir=Path(saved["store_dir"]),
        analyst=saved["analyst"],
        description=saved.get("description", ""),
        model=model,
        from_path=Path(saved["from"]) if saved.get("from") else None,
        propose_batch=saved.get("propose_batch", options.propose_batch),
        fan_in=saved.get("fan_in", options.fan_in),
        max_fix_rounds=saved.get("max_fix_rounds", options.max_fix_rounds),
        min_support=saved.get("min_support"),
        allow_empty=saved.get("allow_empty", False),
        holdout=saved.get("holdout", 0.0),
        gate=saved.get("gate"),
        gate_tasks=Path(saved["gate_tasks"]) if saved.get("gate_tasks") else None,
        gate_agent_cmd=saved.get("gate_agent_cmd"),
        gate_trials=saved.get("gate_trials", 1),
    )
