"""What a tool call does, for procedures: an action kind (search, inspect, edit, reproduce, test, ...).

:func:`action_of` labels a call: a kind (``search``, ``inspect``, ``edit``, ``reproduce``, ``test``,
``build``, ``vcs``, ``cleanup``, ``submit``, ``run``) for shell and file-editing tools, the tool name
for every other tool (tau-bench's ``get_user_details``…). Shell commands are read by
:mod:`skillforge.analyze.calls` (the program they run); the tables below map programs and tool names
to kinds. They list the tools of the formats in ``docs/trace-formats.md`` (Claude Code, Codex, Gemini
CLI, OpenHands, SWE-agent, mini-swe-agent) and common command-line programs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skillforge.analyze.calls import INTERPRETERS, CallRecord, program_of, shell_command

FILE_EDIT_TOOLS = frozenset(
    {
        "edit",
        "multiedit",
        "write",
        "write_file",
        "replace",
        "apply_patch",
        "create",
        "insert",
        "notebookedit",
        "edit_file",
    }
)
"""Tools (lower case) that change a file."""
FILE_READ_TOOLS = frozenset(
    {"read", "read_file", "open", "view", "goto", "scroll_up", "scroll_down", "list_directory", "ls", "read_many_files"}
)
"""Tools (lower case) that show a file or folder."""
SEARCH_TOOLS = frozenset(
    {
        "grep",
        "glob",
        "search_file_content",
        "search_dir",
        "search_file",
        "find_file",
        "websearch",
        "web_search",
        "google_web_search",
    }
)
"""Tools (lower case) that search."""
EDITOR_COMMANDS = {"view": "inspect", "str_replace": "edit", "create": "edit", "insert": "edit", "undo_edit": "edit"}
"""``command`` of an editor tool (OpenHands/SWE-agent ``str_replace_editor``) → action kind."""

SEARCH_PROGRAMS = frozenset(
    {"grep", "rg", "ag", "ack", "find", "fd", "locate", "git grep", "search_dir", "search_file", "find_file"}
)
INSPECT_PROGRAMS = frozenset(
    {
        "ls",
        "cat",
        "head",
        "tail",
        "nl",
        "less",
        "more",
        "wc",
        "tree",
        "file",
        "stat",
        "pwd",
        "open",
        "goto",
        "scroll_up",
        "scroll_down",
        "diff",
        "git diff",
        "git status",
        "git log",
        "git show",
        "which",
        "type",
    }
)
TEST_PROGRAMS = frozenset(
    {
        "pytest",
        "py.test",
        "tox",
        "nox",
        "unittest",
        "npm test",
        "yarn test",
        "pnpm test",
        "mix test",
        "go test",
        "cargo test",
        "jest",
        "vitest",
        "mocha",
        "rspec",
        "phpunit",
        "make test",
        "dotnet test",
        "bundle exec",
        "ctest",
    }
)
BUILD_PROGRAMS = frozenset(
    {
        "make",
        "cmake",
        "ninja",
        "mix compile",
        "mix deps.get",
        "mix deps.compile",
        "npm run",
        "npm install",
        "npm ci",
        "yarn install",
        "cargo build",
        "go build",
        "pip install",
        "pip3 install",
        "apt-get install",
        "apt install",
        "gcc",
        "cc",
        "clang",
        "tsc",
        "javac",
        "mvn",
        "gradle",
        "apt-cache",
    }
)
TEST_SCRIPT = re.compile(r"(^|/)(tests?/)?(runtests|run_tests|test_[\w-]*|[\w-]*_tests?)\.(py|sh|js|ts)$")
REPRO_SCRIPT = re.compile(r"(^|/)[\w-]*(repro|reproduce|bug|issue)[\w-]*\.(py|sh|js|ts|rb)$", re.IGNORECASE)


def edits_file(command: str) -> bool:
    """True when a shell command writes a file (``sed -i``, ``perl -pi``, ``cat > f``, ``tee``, ``patch``,
    ``git apply``)."""
    first = command.strip().splitlines()[0] if command.strip() else ""
    if re.search(r"\bsed\s+(-\w*\s+)*-i|\bperl\s+-\w*i|\btee\b|\bpatch\b|\bgit apply\b", first):
        return True
    return bool(re.search(r"(^|[^>2&])>{1,2}\s*[\w./~-]+", re.sub(r"2>&1|>\s*/dev/null", "", first)))


@dataclass(frozen=True)
class Action:
    """What a call does, for procedures.

    Attributes:
        label: ``inspect``/``search``/``edit``/``reproduce``/``test``/``build``/``vcs``/``submit``/
            ``run`` for shell and file tools; the tool name for any other tool.
        detail: the program or tool behind the label (``pytest``, ``sed -i``, ``Read``).
        verifies: the call checks earlier work: a test or reproduction run (the caller decides whether
            an edit came before it).
    """

    label: str
    detail: str
    verifies: bool = False


def action_of(record: CallRecord) -> Action:
    """Label a call (see :class:`Action` and the module doc)."""
    name = record.effective.function_name
    lower = name.lower()
    command = shell_command(record.effective)
    editor_command = record.effective.arguments.get("command")
    if command is None and isinstance(editor_command, str) and editor_command in EDITOR_COMMANDS and "editor" in lower:
        return Action(EDITOR_COMMANDS[editor_command], f"{name} {editor_command}")
    if command is None:
        if lower in FILE_EDIT_TOOLS:
            return Action("edit", name)
        if lower in FILE_READ_TOOLS:
            return Action("inspect", name)
        if lower in SEARCH_TOOLS:
            return Action("search", name)
        if lower == "submit":
            return Action("submit", name)
        return Action(name, name)
    program = program_of(command)
    base = program.split(" ", 1)[0]
    script = program.split(" ", 1)[1] if " " in program and base in INTERPRETERS else ""
    if program == "submit":
        return Action("submit", "submit")
    if edits_file(command) or base in ("edit", "create", "insert", "append"):
        return Action("edit", "sed -i" if re.search(r"\bsed\b", command.splitlines()[0]) else base)
    if (
        program in TEST_PROGRAMS
        or base in TEST_PROGRAMS
        or (script and TEST_SCRIPT.search(script))
        or program in ("pytest", "unittest")
    ):
        return Action("test", program, verifies=True)
    if script and REPRO_SCRIPT.search(script):
        return Action("reproduce", program, verifies=True)
    if program in SEARCH_PROGRAMS or base in SEARCH_PROGRAMS:
        return Action("search", program)
    if program in INSPECT_PROGRAMS or base in INSPECT_PROGRAMS or (base == "sed" and re.search(r"\s-n\b", command)):
        return Action("inspect", program)
    if program in BUILD_PROGRAMS or base in BUILD_PROGRAMS:
        return Action("build", program)
    if base == "git":
        return Action("vcs", program)
    if base in ("rm", "rmdir", "unlink"):
        return Action("cleanup", program)
    return Action("run", program or name)
