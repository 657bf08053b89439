"""Tool calls flattened for signal detection, and what a shell call runs: its program and target.

A trajectory's tool calls become :class:`CallRecord` rows (step, call, result, error flag). Then,
without an LLM:

* :func:`shell_command` finds the shell command a call runs: the ``command``/``cmd`` argument of a
  shell tool (Claude Code ``Bash``, Codex ``exec_command``, OpenHands ``execute_bash``, mini-swe-agent
  ``bash``, Gemini CLI ``run_shell_command``…) or of a SWE-agent 0.x call, whose tool is named after the
  command's first word;
* :func:`program_of` reduces a command to the program it runs (``pytest``, ``git push``,
  ``python3 reproduce_issue.py``), skipping ``cd``/``export`` segments, environment assignments and
  wrappers such as ``sudo`` or ``timeout``;
* :func:`same_intent` tells whether a call retries the attempt a failed call made: the same tool and,
  for shell calls, a program both run (:func:`programs_of`); for other tools the same object (the file
  path, the reservation or record id) when they name one (see :data:`TARGET_ARGUMENTS`).

What a call does (its action kind) is in :mod:`skillforge.analyze.actions`.

The command grammar is the POSIX shell's as Python's :mod:`shlex` splits it (``punctuation_chars``
separates ``&&``, ``||``, ``;`` and ``|``); only a command's first line is read (a heredoc body is data).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from skillforge.trajectory import ToolCall, Trajectory


@dataclass
class CallRecord:
    """One tool call with its place and result, flattened for signal detection.

    Attributes:
        step_id: the step that made the call.
        call: the call.
        result: its result text (None when the log has none).
        is_error: the format marked the result as an error (ingest's classification).
        rejected: the user refused the call (Claude Code and Gemini CLI permission prompts).
        index: position among the trajectory's calls (0-based).
        started_by: for a call that feeds or polls a process an earlier call started (Codex's
            ``write_stdin`` to the ``session_id`` an ``exec_command`` result named), that earlier call.
    """

    step_id: int
    call: ToolCall
    result: str | None
    is_error: bool
    rejected: bool = False
    index: int = 0
    started_by: ToolCall | None = None

    @property
    def name(self) -> str:
        """The tool's name."""
        return self.call.function_name

    @property
    def effective(self) -> ToolCall:
        """The call whose command this record runs: :attr:`started_by` when set, else :attr:`call`."""
        return self.started_by or self.call


RUNNING_SESSION = re.compile(r"Process running with session ID (\d+)")
"""Codex's exec output when a command keeps running; later ``write_stdin`` calls name the session."""


def call_records(trajectory: Trajectory) -> list[CallRecord]:
    """Every tool call of the trajectory in order, with its result text and error flag (and, for a
    call continuing a running process, the call that started it: :attr:`CallRecord.started_by`)."""
    records: list[CallRecord] = []
    running: dict[str, ToolCall] = {}
    for step in trajectory.steps:
        rejected_ids = set(step.extra.get("rejected_call_ids", ()))
        for call in step.tool_calls:
            result = step.result_for(call.tool_call_id)
            records.append(
                CallRecord(
                    step_id=step.step_id,
                    call=call,
                    result=result.content if result else None,
                    is_error=bool(result and result.is_error),
                    rejected=call.tool_call_id in rejected_ids,
                    index=len(records),
                    started_by=running.get(str(call.arguments.get("session_id")))
                    if "session_id" in call.arguments
                    else None,
                )
            )
            match = RUNNING_SESSION.search(result.content) if result else None
            if match:
                running[match.group(1)] = records[-1].effective
    return records


SHELL_TOOLS = frozenset(
    {
        "bash",
        "execute_bash",
        "exec_command",
        "shell",
        "run_shell_command",
        "run_command",
        "terminal",
        "execute_command",
        "container.exec",
    }
)
"""Tool names (lower case) that run their ``command``/``cmd`` argument in a shell."""

TARGET_ARGUMENTS = (
    "file_path",
    "path",
    "filePath",
    "absolute_path",
    "notebook_path",
    "url",
    "reservation_id",
    "user_id",
    "order_id",
    "id",
)
"""Arguments naming the object a non-shell call works on, in order of preference (see :func:`intent_of`)."""

SUBCOMMAND_PROGRAMS = frozenset(
    {
        "git",
        "mix",
        "npm",
        "yarn",
        "pnpm",
        "cargo",
        "go",
        "docker",
        "pip",
        "pip3",
        "apt",
        "apt-get",
        "bd",
        "gh",
        "kubectl",
        "poetry",
        "uv",
        "npx",
        "dotnet",
        "bundle",
        "rake",
        "conda",
        "brew",
        "make",
    }
)
"""Programs whose first argument names what they do (``git push``, ``mix test``): it is part of the program."""
INTERPRETERS = frozenset(
    {"python", "python3", "python2", "node", "ruby", "perl", "bash", "sh", "zsh", "php", "deno", "bun"}
)
"""Programs whose script argument is part of the program (``python3 reproduce_issue.py``)."""
WRAPPERS = frozenset({"sudo", "time", "nohup", "env", "nice", "command", "exec", "stdbuf", "xargs"})
"""Programs that run the next word; skipped (``timeout N`` too)."""
SETUP_PROGRAMS = frozenset({"cd", "pushd", "popd", "export", "source", ".", "set", "unset", "true", "alias", "ulimit"})
"""Segments that only prepare the shell; the program is found after them."""

SUBMIT_MARKER = re.compile(r"COMPLETE_TASK_AND_SUBMIT|^\s*submit\b")

_OPERATORS = {"&&", "||", ";", "|", "&", ";;", "|&"}


def shell_command(call: ToolCall) -> str | None:
    """The shell command ``call`` runs, or None when it is not a shell call (see module doc)."""
    arguments = call.arguments
    command = arguments.get("command", arguments.get("cmd"))
    if isinstance(command, list):
        command = " ".join(map(str, command))
    if not isinstance(command, str) or not command.strip():
        return None
    name = call.function_name.lower()
    if name in SHELL_TOOLS:
        return command
    first = command.split(None, 1)[0]
    return command if first == call.function_name else None


def segments(command: str) -> list[list[str]]:
    """The simple commands of the command's first line, split at ``&&``, ``||``, ``;`` and ``|``."""
    line = command.strip().splitlines()[0] if command.strip() else ""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # an unclosed quote: split on blanks
        tokens = line.split()
    out: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS or (token and set(token) <= set("&|;") and len(token) <= 3):
            out.append([])
        else:
            out[-1].append(token)
    return [segment for segment in out if segment]


def program_of(command: str) -> str:
    """The program a shell command runs (see module doc); '' for an empty command.

    Examples: ``cd repo && python -m pytest -x`` → ``pytest``; ``git push --set-upstream origin b`` →
    ``git push``; ``python3 reproduce_issue.py`` → ``python3 reproduce_issue.py``; ``mix test 2>&1 | tail``
    → ``mix test``; ``echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A`` → ``submit``.
    """
    if SUBMIT_MARKER.search(command):
        return "submit"
    for words in segments(command):
        program = _segment_program(words)
        if program:
            return program
    return ""


def _segment_program(words: list[str]) -> str:
    index = 0
    while index < len(words):
        word = words[index]
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word) or word in WRAPPERS or word.startswith(("-", "2>", ">", "<")):
            index += 1
            continue
        if word == "timeout":
            index += 2
            continue
        break
    if index >= len(words):
        return ""
    head = PurePosixPath(words[index]).name or words[index]
    rest = [w for w in words[index + 1 :] if not w.startswith(("2>", ">", "<"))]
    if head in SETUP_PROGRAMS:
        return ""
    if head in INTERPRETERS:
        if len(rest) >= 2 and rest[0] == "-m":
            return rest[1]
        script = next((w for w in rest if not w.startswith("-")), None)
        if rest and rest[0] == "-c":
            return f"{head} -c"
        return f"{head} {script}" if script else head
    if head in SUBCOMMAND_PROGRAMS:
        sub = next((w for w in rest if not w.startswith("-")), None)
        return f"{head} {sub}" if sub else head
    return head


def plausible_program(program: str) -> bool:
    """True when ``program`` (from :func:`program_of`) can name a program: no sentence word (``Using``,
    ``The``) and no markup (a harness that parses commands out of prose sometimes takes those)."""
    head = program.split(" ", 1)[0]
    if not head or not re.fullmatch(r"[\w./+:@-]+", head):
        return False
    return not (len(head) > 1 and head[0].isupper() and head[1:].islower())


def command_targets(command: str) -> list[str]:
    """Words of the command's first line that look like file paths (contain ``/`` or a file suffix)."""
    found = []
    for words in segments(command):
        for word in words[1:]:
            if word.startswith("-") or "=" in word:
                continue
            if "/" in word or re.search(r"\.[A-Za-z0-9]{1,5}$", word):
                found.append(word)
    return found


def programs_of(command: str) -> frozenset[str]:
    """Every program a shell command runs in sequence (``&&``, ``||``, ``;``), a pipeline counted by its
    first stage, without setup segments and :data:`ECHO_PROGRAMS`: ``cd b && make clean && make`` →
    ``{make clean, make}``; ``mix test 2>&1 | tail -5`` → ``{mix test}``."""
    if SUBMIT_MARKER.search(command):
        return frozenset({"submit"})
    line = command.strip().splitlines()[0] if command.strip() else ""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = line.split()
    programs: set[str] = set()
    current: list[str] = []
    piped = False
    for token in [*tokens, ";"]:
        if token in _OPERATORS or (token and set(token) <= set("&|;") and len(token) <= 3):
            if current and not piped:
                program = _segment_program(current)
                if program and program.split(" ", 1)[0] not in ECHO_PROGRAMS:
                    programs.add(program)
            piped = token in ("|", "|&") or (piped and token not in ("&&", "||", ";", "&"))
            current = []
        else:
            current.append(token)
    return frozenset(programs)


ECHO_PROGRAMS = frozenset({"echo", "printf", "true", "false", "sleep", ":"})
"""Programs that only print or wait: never what a command is for."""


def intent_of(record: CallRecord) -> tuple[str, frozenset[str]]:
    """What a retry must share with a failed call to be the same attempt (:func:`same_intent`): the
    tool, and the objects it works on.

    The objects are the programs of a shell call (:func:`programs_of`), the editor command and path
    of an editor tool, else the first of :data:`TARGET_ARGUMENTS` the call has (none: then every
    call of the tool shares the intent).
    """
    command = shell_command(record.effective)
    if command is not None:
        return record.effective.function_name, programs_of(command)
    arguments = record.call.arguments
    parts = []
    if isinstance(arguments.get("command"), str) and len(arguments["command"]) < 40:
        parts.append(arguments["command"])
    for key in TARGET_ARGUMENTS:
        value = arguments.get(key)
        if isinstance(value, str | int) and str(value):
            parts.append(f"{key}={value}")
            break
    return record.name, frozenset({" ".join(parts)}) if parts else frozenset()


def same_intent(a: CallRecord, b: CallRecord) -> bool:
    """True when ``b`` retries the attempt ``a`` made: the same tool, and a shared object (a program
    both commands run, the same file or record) or no object on either side."""
    (tool_a, objects_a), (tool_b, objects_b) = intent_of(a), intent_of(b)
    if tool_a != tool_b:
        return False
    return bool(objects_a & objects_b) or (not objects_a and not objects_b)
