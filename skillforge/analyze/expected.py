"""Expected failures: failed calls that are method, not mistakes.

A failed call is expected (counted as a signal of method, never a pitfall) when it is:

* ``search-no-match`` — a search (``grep``, ``rg``, ``find``, ``ag``… or a search tool) that exits 1
  (or states no exit code) with no output: "nothing found" is an answer, not an error (``grep(1)``:
  "exit status is 0 if a line is selected, 1 if no lines were selected");
* ``probe`` — a check whether a tool or file exists (``which``, ``command -v``, ``type``, ``hash``,
  ``X --version``, ``test -e``/``[ -f … ]``), or a look (``ls``, ``cat``, a read tool) at a path that
  is not there;
* ``reproduction`` — a run the agent says should fail (it reproduces the bug, confirms the failure,
  expects it to fail: :data:`EXPECTS_FAILURE`, in the step's message or reasoning or the next agent
  step's), or a reproduction script that passes later, unchanged, after an edit of a file it does not
  name (the fix came between: the reproduce → fix → rerun cycle of SWE-style runs; a script that only
  passed once it was itself rewritten was broken, and that is a mistake);
* ``test-before-fix`` — a test run that fails, then passes when run again (same test program) after
  edits: the test → fix → test cycle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from skillforge.analyze.actions import action_of
from skillforge.analyze.calls import CallRecord, command_targets, same_intent, shell_command
from skillforge.analyze.errors import parse_error
from skillforge.trajectory import Trajectory

EXPECTS_FAILURE = re.compile(
    r"reproduc\w* (the |this )?(bug|issue|error|problem|failure|behaviou?r)|reproduced|successfully reproduc"
    r"|confirms? (that )?(the |this )?(bug|issue|error|problem|failure)|confirm (it|that it) fails"
    r"|expect(ed|s|ing)? (it |this |the test |them )?to fail|should (still )?fail|fails? as expected"
    r"|as expected,? (it|the test)|for the (intended|right|expected) reason|red phase|failing test first",
    re.IGNORECASE,
)
"""What an agent writes when it runs something it expects to fail."""

PROBE_COMMAND = re.compile(r"^\s*(which|type|hash|command\s+-v|test\s+-[a-z]|\[\s+-[a-z])\b|\s--version\b|\s-V\s*$")
"""Commands that only ask whether a tool or file exists."""

NOT_FOUND = re.compile(r"no such file or directory|cannot access|does not exist|not found", re.IGNORECASE)
"""A look at a path that is not there (``ls``, ``cat``, a read tool): exploring, so a probe."""

SEARCH_LABELS = frozenset({"search"})


def expected_reason(records: Sequence[CallRecord], index: int, trajectory: Trajectory) -> str | None:
    """Why the failed call ``records[index]`` is expected (``search-no-match``, ``probe``,
    ``reproduction``), or None when it is a real failure."""
    record = records[index]
    parsed = parse_error(record.result or "")
    action = action_of(record)
    command = shell_command(record.effective)
    if action.label in SEARCH_LABELS and parsed.exit_code in (1, None) and not parsed.body.strip():
        return "search-no-match"
    if command is not None and PROBE_COMMAND.search(command.splitlines()[0] if command.strip() else ""):
        return "probe"
    if action.label == "inspect" and NOT_FOUND.search(parsed.line):
        return "probe"
    if _agent_expects_failure(trajectory, record.step_id):
        return "reproduction"
    if action.label == "reproduce" and _passes_after_fix(records, index):
        return "reproduction"
    if action.label == "test" and _test_passes_later(records, index):
        return "test-before-fix"
    return None


def _test_passes_later(records: Sequence[CallRecord], index: int) -> bool:
    """A later run of the same test program succeeds, with a successful edit in between."""
    record = records[index]
    edited = False
    for later in records[index + 1 :]:
        if action_of(later).label == "edit" and not later.is_error:
            edited = True
        elif edited and same_intent(record, later) and not later.is_error:
            return True
    return False


def _agent_expects_failure(trajectory: Trajectory, step_id: int) -> bool:
    step = trajectory.step(step_id)
    texts = [step.message or "", step.reasoning_content or ""] if step else []
    later = next((s for s in trajectory.steps if s.step_id > step_id and s.source == "agent"), None)
    if later is not None:
        texts += [later.message or "", later.reasoning_content or ""]
    return any(EXPECTS_FAILURE.search(text) for text in texts)


def _passes_after_fix(records: Sequence[CallRecord], index: int) -> bool:
    """The same call succeeds later, and a file it does not name was edited in between."""
    record = records[index]
    targets = {t.rsplit("/", 1)[-1] for t in command_targets(shell_command(record.effective) or "")}
    edited_elsewhere = False
    for later in records[index + 1 :]:
        if later.effective == record.effective and later.call.arguments == record.call.arguments:
            if not later.is_error:
                return edited_elsewhere
            continue
        if action_of(later).label == "edit" and not later.is_error:
            touched = {t.rsplit("/", 1)[-1] for t in _edited_files(later)}
            if not touched or not touched <= targets:
                edited_elsewhere = True
    return False


def _edited_files(record: CallRecord) -> list[str]:
    arguments = record.call.arguments
    for key in ("file_path", "path", "filePath", "notebook_path"):
        if isinstance(arguments.get(key), str):
            return [arguments[key]]
    command = shell_command(record.effective)
    return command_targets(command) if command else []
