"""The live A/B replay: the user's own agent runs a task list with each arm's skills, K trials each.

The user gives a task list (:func:`load_tasks`) and a command template that runs their agent on one
task with a given skills folder and leaves a log or a reward in an output folder, e.g. Harbor
``harbor run -p {task} -a claude-code --ak skill_dir={skills} -o {out}`` or Inspect AI
``inspect eval … --log-dir {out}``. Placeholders (:data:`PLACEHOLDERS`) are checked before
anything runs (:func:`parse_command`); the template is split like a shell line (``shlex``) and run
without a shell, each argument filled in, from the current folder (or ``AbSpec.cwd``).

Each arm (no skill, vN-1, vN; :class:`~skillforge.eval.arms.Arm`) is exported with skillforge's
own export code (:func:`~skillforge.eval.arms.export_arm`) to a temporary folder, whose
``<host skills folder>`` is ``{skills}``. Trials run as subprocesses, at most ``jobs`` at once;
each trial's outcome is read by :func:`skillforge.eval.outcome.read_trial_outcome` and appended
to ``results.jsonl`` in the work folder as soon as it finishes, so a rerun with the same work
folder skips every finished trial (resumable like ``distill``). ``spec.json`` in the work folder
records what the results belong to; a work folder holding another evaluation is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from skillforge.errors import SkillforgeError
from skillforge.eval.arms import DEFAULT_HOST, Arm, arm_digest, export_arm
from skillforge.eval.outcome import read_trial_outcome
from skillforge.eval.stats import Comparison, compare_arms, summarize_arm

PLACEHOLDERS = {
    "task": "the task id, as written in the task list",
    "skills": "the arm's skills folder (one <name>/SKILL.md folder inside; empty for the no-skill arm)",
    "out": "the trial's output folder (empty when the trial starts; logs and reward.txt go here)",
    "trial": "the trial number, 1 to K",
    "arm": "the arm's label (none, v2, v3, candidate)",
    "skill": "the skill's name",
}
"""The placeholders a command template may use (``{{`` and ``}}`` write a literal brace)."""

SPEC_FILE = "spec.json"
RESULTS_FILE = "results.jsonl"
TRIALS_DIR = "trials"


@dataclass
class AbSpec:
    """What to run.

    Attributes:
        tasks: task ids, in order.
        command: the command template (see :data:`PLACEHOLDERS`).
        trials: K, trials per task per arm.
        jobs: most trials running at once.
        timeout_s: seconds a trial may run before its process group is killed (a failure); None: no limit.
        host: the export host whose skills folder ``{skills}`` is (``claude-code``: ``.claude/skills``).
        cwd: the folder the command runs in; None: the current folder (relative paths in the
            template are relative to it).
    """

    tasks: list[str]
    command: str
    trials: int = 1
    jobs: int = 2
    timeout_s: float | None = None
    host: str = DEFAULT_HOST
    cwd: Path | None = None


@dataclass
class AbResult:
    """The replay's results.

    Attributes:
        skill: the skill's name.
        arms: arm labels, baseline first.
        spec: the spec as recorded in ``spec.json``.
        records: one per finished trial (``arm, task, trial, status, reward, source, detail,
            exit_code, duration_s, prompt_tokens, completion_tokens, cost_usd, out``).
        resumed: trials taken from an earlier run instead of being run again.
        work: the work folder.
    """

    skill: str
    arms: list[str]
    spec: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    resumed: int = 0
    work: Path | None = None

    def summaries(self) -> list[dict[str, Any]]:
        """Per arm: trials, successes, rate and its 95 % interval, tokens and cost (:func:`summarize_arm`)."""
        return [summarize_arm(arm, self.records).to_dict() for arm in self.arms]

    def compare(self, baseline: str, candidate: str) -> Comparison:
        """``candidate`` against ``baseline``, paired by task (:func:`compare_arms`)."""
        return compare_arms(self.records, baseline, candidate)

    def warnings(self) -> list[str]:
        """Signs of a broken setup rather than a bad skill: every trial failed by its exit code with
        no log or reward left behind (where to look: a trial's ``stderr.log``)."""
        if self.records and all(r["source"] == "exit code" and r["status"] == "failure" for r in self.records):
            where = Path(self.records[0]["out"]).parent / "stderr.log"
            return [
                f"every trial failed by its exit code and left no log or reward: check the agent command (e.g. {where})"
            ]
        return []

    def to_dict(self) -> dict[str, Any]:
        """Spec, per-arm figures, each later arm against the one before it, and every trial record."""
        pairs = [self.compare(a, b).to_dict() for a, b in pairwise(self.arms)]
        return {
            "skill": self.skill,
            "arms": self.summaries(),
            "comparisons": pairs,
            "spec": self.spec,
            "resumed": self.resumed,
            "warnings": self.warnings(),
            "trials": self.records,
        }


def load_tasks(path: Path) -> list[str]:
    """Task ids from a text file, one per line; blank lines and lines starting with ``#`` skipped.

    Raises:
        SkillforgeError: the file cannot be read, holds no task, or lists a task twice (file and lines named).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillforgeError(f"{path}: cannot read the task list ({exc})") from exc
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        task = line.strip()
        if not task or task.startswith("#"):
            continue
        if task in seen:
            raise SkillforgeError(f"{path}:{number}: task {task!r} is listed twice (first on line {seen[task]})")
        seen[task] = number
    if not seen:
        raise SkillforgeError(f"{path}: no task in the task list")
    return list(seen)


def parse_command(template: str) -> list[str]:
    """Split a command template into arguments and check its placeholders.

    Returns:
        The arguments, placeholders still in them.

    Raises:
        SkillforgeError: an empty template, unbalanced quotes or braces, a placeholder that is not
            one of :data:`PLACEHOLDERS`, or one with a conversion or format (``{task!r}``, ``{trial:03}``).
    """
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        raise SkillforgeError(f"agent command {template!r}: {exc}") from None
    if not argv:
        raise SkillforgeError("the agent command is empty")
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    for argument in argv:
        try:
            fields = list(string.Formatter().parse(argument))
        except ValueError as exc:
            raise SkillforgeError(
                f"agent command: {exc} in {argument!r} (write {{{{ and }}}} for literal braces)"
            ) from None
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if name not in PLACEHOLDERS:
                raise SkillforgeError(f"agent command: unknown placeholder {{{name}}} in {argument!r}; known: {known}")
            if spec or conversion:
                raise SkillforgeError(
                    f"agent command: placeholder {{{name}}} in {argument!r} takes no conversion or format"
                )
    return argv


def render_command(argv: list[str], values: dict[str, str]) -> list[str]:
    """The arguments of :func:`parse_command` with the placeholders filled in from ``values``."""
    return [argument.format(**values) for argument in argv]


TrialHook = Callable[[dict[str, Any]], None]
"""Called with each trial record as it finishes (or is resumed)."""


def run_ab(skill: str, arms: list[Arm], spec: AbSpec, work: Path, on_trial: TrialHook | None = None) -> AbResult:
    """Run (or resume) the replay of ``arms`` on ``spec`` in the work folder ``work``.

    Args:
        skill: the skill's name (``{skill}``).
        arms: the arms, baseline first (labels unique).
        spec: tasks, command, K, parallelism, timeout, host.
        work: where ``spec.json``, ``results.jsonl`` and the trials' folders live.
        on_trial: progress hook.

    Returns:
        An :class:`AbResult` with every trial of every arm, finished now or before.

    Raises:
        SkillforgeError: a bad template, an agent command that cannot be found, an arm that cannot
            be exported, or a work folder that holds another evaluation (all before any trial runs).
        KeyboardInterrupt: on Ctrl-C; running trials are killed, finished ones are kept.
    """
    argv = parse_command(spec.command)
    if "{" not in argv[0] and shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
        raise SkillforgeError(f"agent command: {argv[0]!r} not found (not on PATH and not a file)")
    if len({arm.label for arm in arms}) != len(arms):
        raise SkillforgeError(f"arm labels must differ: {[arm.label for arm in arms]}")
    if spec.trials < 1 or spec.jobs < 1:
        raise SkillforgeError("trials and jobs must be at least 1")
    recorded = {
        "skill": skill,
        "arms": [{"label": a.label, "digest": arm_digest(a)} for a in arms],
        "tasks": spec.tasks,
        "command": spec.command,
        "trials": spec.trials,
        "host": spec.host,
    }
    work = Path(work)
    done = _open_work(work, recorded)
    result = AbResult(skill, [a.label for a in arms], recorded, work=work)
    wanted = [(arm, task, trial) for trial in range(1, spec.trials + 1) for task in spec.tasks for arm in arms]
    for arm, task, trial in wanted:
        record = done.get((arm.label, task, trial))
        if record is not None:
            result.records.append(record)
            result.resumed += 1
            if on_trial is not None:
                on_trial(record)
    todo = [w for w in wanted if (w[0].label, w[1], w[2]) not in done]
    if not todo:
        return result
    with tempfile.TemporaryDirectory(prefix="skillforge-eval-arms-") as scratch:
        folders = {arm.label: export_arm(arm, spec.host, Path(scratch) / arm.label) for arm in arms}
        runner = _TrialRunner(argv, spec.timeout_s, spec.cwd)
        with (
            ThreadPoolExecutor(max_workers=spec.jobs, thread_name_prefix="skillforge-trial") as pool,
            open(work / RESULTS_FILE, "ab") as journal,
        ):
            pending: set[Future] = set()
            queue = list(reversed(todo))
            try:
                while queue or pending:
                    while queue and len(pending) < spec.jobs:
                        arm, task, trial = queue.pop()
                        values = {
                            "task": task,
                            "skills": str(folders[arm.label]),
                            "trial": str(trial),
                            "arm": arm.label,
                            "skill": skill,
                        }
                        pending.add(
                            pool.submit(
                                runner.run, arm.label, task, trial, values, _trial_dir(work, arm.label, task, trial)
                            )
                        )
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        record = future.result()
                        journal.write(orjson.dumps(record) + b"\n")
                        journal.flush()
                        result.records.append(record)
                        if on_trial is not None:
                            on_trial(record)
            except BaseException:
                runner.kill_all()
                for future in pending:
                    future.cancel()
                raise
    order = {(a, t, k): i for i, (a, t, k) in enumerate((a.label, t, k) for a, t, k in wanted)}
    result.records.sort(key=lambda r: order[(r["arm"], r["task"], r["trial"])])
    return result


def _open_work(work: Path, recorded: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Create the work folder, or check that it holds this evaluation; return its finished trials."""
    spec_path = work / SPEC_FILE
    if spec_path.is_file():
        try:
            existing = orjson.loads(spec_path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise SkillforgeError(f"{spec_path}: not valid JSON ({exc})") from exc
        if existing != recorded:
            raise SkillforgeError(f"{work} holds another evaluation (its {SPEC_FILE} differs); use another work folder")
    else:
        work.mkdir(parents=True, exist_ok=True)
        temporary = spec_path.with_name(f".{SPEC_FILE}.tmp")
        temporary.write_bytes(orjson.dumps(recorded, option=orjson.OPT_INDENT_2))
        temporary.replace(spec_path)
    done: dict[tuple[str, str, int], dict[str, Any]] = {}
    journal = work / RESULTS_FILE
    data = journal.read_bytes() if journal.is_file() else b""
    if data and not data.endswith(b"\n"):  # a line torn by a kill: cut it, so the next record starts a line
        data = data[: data.rfind(b"\n") + 1]
        with open(journal, "r+b") as handle:
            handle.truncate(len(data))
    for line in data.splitlines():
        try:
            record = orjson.loads(line)
            done[(record["arm"], record["task"], int(record["trial"]))] = record
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # a line torn by a kill: that trial runs again
    return done


def _trial_dir(work: Path, arm: str, task: str, trial: int) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", task).strip("._")[:60] or "task"
    return work / TRIALS_DIR / arm / f"{slug}-{hashlib.sha256(task.encode()).hexdigest()[:8]}" / f"trial-{trial}"


class _TrialRunner:
    """Runs trials as subprocesses in their own process groups; kills them all on demand."""

    def __init__(self, argv: list[str], timeout_s: float | None, cwd: Path | None) -> None:
        self.argv = argv
        self.timeout_s = timeout_s
        self.cwd = cwd
        self.live: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopped = False

    def run(self, arm: str, task: str, trial: int, values: dict[str, str], folder: Path) -> dict[str, Any]:
        if folder.exists():
            shutil.rmtree(folder)  # a trial a kill interrupted: start it clean
        out = folder / "out"
        out.mkdir(parents=True)
        command = render_command(self.argv, {**values, "out": str(out)})
        started = time.monotonic()
        exit_code: int | None = None
        note = ""
        with open(folder / "stdout.log", "wb") as stdout, open(folder / "stderr.log", "wb") as stderr:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=self.cwd,
                    stdout=stdout,
                    stderr=stderr,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                note = f"could not start: {exc.strerror or exc}"
            else:
                with self.lock:
                    self.live.add(process)
                    if self.stopped:  # Ctrl-C came while it was starting
                        _kill_group(process)
                try:
                    exit_code = process.wait(timeout=self.timeout_s)
                except subprocess.TimeoutExpired:
                    _kill_group(process)
                    note = f"timed out after {self.timeout_s:g} s"
                finally:
                    with self.lock:
                        self.live.discard(process)
        outcome = read_trial_outcome(out, task, exit_code)
        record = {"arm": arm, "task": task, "trial": trial, **asdict(outcome), "exit_code": exit_code}
        record["duration_s"] = round(time.monotonic() - started, 3)
        record["out"] = str(out)
        if note:
            record["detail"] = f"{note}; {record['detail']}" if record["detail"] else note
        return record

    def kill_all(self) -> None:
        with self.lock:
            self.stopped = True
            for process in list(self.live):
                _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
