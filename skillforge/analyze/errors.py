"""Error texts normalised: the harness's wrappers stripped, the meaningful line kept, a key to group on.

A tool's error result carries more than the error. Harnesses wrap it (mini-swe-agent's
``<returncode>1</returncode><output>…</output>``; Codex's exec header ``Chunk ID: …`` / ``Wall time:`` /
``Process exited with code N`` / ``Output:``; Claude Code's ``Exit code N`` line and
``<tool_use_error>`` tags; OpenHands' ``Command `…` executed with exit code N.``), colour codes
(ANSI escapes) and progress output surround it. :func:`parse_error` strips all that, reads the exit
code where a wrapper states one, and picks the one line a reader needs:

1. an exception line: ``SyntaxError: invalid syntax``, ``** (RuntimeError) no :secret_key_base…``,
   ``E999 IndentationError: unexpected indent`` (for a Python traceback, its last exception line);
2. else the first line with an explicit error marker (:data:`ERROR_MARKERS`: ``error:``, ``fatal:``,
   ``command not found``, ``No such file or directory``, ``Permission denied``, ``not available``…);
3. else nothing: the result has no meaningful error line (a server's ``Serving HTTP on …`` banner, an
   empty output): it is not grouped, and never becomes an item.

A bare label line (OpenHands' editor writes ``ERROR:`` and the message on the lines below) is read
with the rest of the text: ``ERROR: No replacement was performed, old_str `…` did not appear verbatim
in …``.

:func:`error_key` generalises that line so the same error in different runs compares equal (paths,
dates, quoted strings and tokens with digits become placeholders).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
"""ANSI escape sequences (ECMA-48 CSI and two-character escapes)."""

WRAPPER_LINES = (
    re.compile(r"^chunk id: \S+$", re.IGNORECASE),
    re.compile(r"^wall time: [\d.]+ ?\w*$", re.IGNORECASE),
    re.compile(r"^original token count: \d+$", re.IGNORECASE),
    re.compile(r"^process running with session id \d+$", re.IGNORECASE),
    re.compile(r"^output:$", re.IGNORECASE),
    re.compile(r"^total output lines: \d+$", re.IGNORECASE),
    re.compile(r"^</?(output|warning|returncode|tool_use_error|stdout|stderr|error)>$", re.IGNORECASE),
    re.compile(r"^\[(command finished|the command completed) .*\]$", re.IGNORECASE),
)
"""Whole lines that belong to a harness's wrapper, not to the tool's output."""

EXIT_CODE_PATTERNS = (
    re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>", re.IGNORECASE),
    re.compile(r"^process exited with code (-?\d+)\s*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^(?:error: )?exit code[: ]\s*(-?\d+)\s*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^command `.*` executed with exit code (-?\d+)\.?\s*$", re.IGNORECASE | re.MULTILINE | re.DOTALL),
    re.compile(r"\[command finished with exit code (-?\d+)\]", re.IGNORECASE),
)
"""Where wrappers state the exit code (mini-swe-agent, Codex, Claude Code, OpenHands, SWE-agent 1.x)."""

EXCEPTION_LINE = re.compile(
    r"^(?:[-*]\s+)?(?:\*\* \()?(?:E\d{3,4}\s+)?(?:[A-Za-z_][\w.]*\.)?"
    r"[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Failure|Fault)\b\)?[:\s]"
)
"""A line that starts with an exception name (Python, Elixir ``** (Error)``, flake8 ``E999 SyntaxError``)."""

ERROR_MARKERS = re.compile(
    r"\berror\b|\bfatal\b|\bfailed\b|\bfailure\b|command not found|no such file|not found\b"
    r"|permission denied|\bdenied\b|cannot |can't |could not|couldn't|unable to|\bE: |refused|timed out"
    r"|timeout|too long|not available|does not exist|is closed|is required|invalid|not allowed|did not appear"
    r"|no replacement was performed|not enough|does not add up|unknown (option|command)"
    r"|usage: ",
    re.IGNORECASE,
)
"""Words that mark a line as stating an error."""

LEVEL_LINE = re.compile(r"^(?:\w+: )?(?:error|fatal|E)(?:\[\w+\])?: ", re.IGNORECASE)
"""A line that starts with a severity: ``error: …``, ``fatal: …``, ``E: …``, ``rg: error: …``."""

LINE_LIMIT = 200
"""The meaningful line is cut to this many characters (its key is made from the whole line)."""

BARE_LABEL = re.compile(r"^(?:\w+ )?(?:error|fatal|failure|exception)s?:?$", re.IGNORECASE)
"""A line that only announces an error (``ERROR:``); the message is the text after it."""


@dataclass(frozen=True)
class ParsedError:
    """An error result, normalised.

    Attributes:
        line: the meaningful line, verbatim (whitespace collapsed), '' when the text has none.
        key: :func:`error_key` of ``line`` ('' when there is no line).
        exit_code: the exit code a wrapper states, or None.
        body: the text without wrappers and ANSI escapes (lines whitespace-collapsed, blank lines dropped).
    """

    line: str
    key: str
    exit_code: int | None
    body: str


def strip_wrappers(text: str) -> tuple[str, int | None]:
    """The text without ANSI escapes and harness wrappers, and the exit code a wrapper stated (or None)."""
    text = ANSI.sub("", text or "")
    exit_code = None
    for pattern in EXIT_CODE_PATTERNS:
        match = pattern.search(text)
        if match:
            exit_code = int(match.group(1))
            break
    text = re.sub(r"</?(returncode|output|warning|tool_use_error)>", "\n", text, flags=re.IGNORECASE)
    lines = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if any(pattern.match(line) for pattern in WRAPPER_LINES):
            continue
        if re.match(r"^(?:error: )?exit code:? ?-?\d+$|^process exited with code -?\d+$", line, re.IGNORECASE):
            continue
        if re.match(r"^command `.*` executed with exit code -?\d+\.?$", line, re.IGNORECASE):
            continue
        lines.append(line)
    return "\n".join(lines), exit_code


def meaningful_line(body: str) -> str:
    """The line of ``body`` (wrappers already stripped) that states the error (module doc), or ''.

    The first line is taken when it states an error (a harness's or tool's headline: ``fatal: …``,
    ``Your proposed edit has introduced new syntax error(s).``); else the first exception or
    ``error:``/``fatal:``/``E:`` line (the last exception line of a Python traceback); else the first
    line with an :data:`ERROR_MARKERS` word. A line of several sentences is cut after the first.
    After a bare label (:data:`BARE_LABEL`) the whole text is the line, uncut (:func:`parse_error`
    cuts it to :data:`LINE_LIMIT` and keys it whole).
    """
    lines = body.splitlines()
    if not lines:
        return ""
    if BARE_LABEL.match(lines[0]) and len(lines) > 1:
        return " ".join(lines)  # the whole message: its first sentence can be generic ("No replacement…")
    if not lines[0].startswith("Traceback") and (ERROR_MARKERS.search(lines[0]) or EXCEPTION_LINE.match(lines[0])):
        return _first_sentence(lines[0])
    candidates = [line for line in lines if EXCEPTION_LINE.match(line) or LEVEL_LINE.match(line)]
    if candidates:
        traceback = any(line.startswith("Traceback") for line in lines)
        exceptions = [line for line in candidates if EXCEPTION_LINE.match(line)]
        return _first_sentence(exceptions[-1] if traceback and exceptions else candidates[0])
    for line in lines:
        if not line.startswith("Traceback") and ERROR_MARKERS.search(line):
            return _first_sentence(line)
    return ""


def _first_sentence(line: str) -> str:
    cut = re.search(r"[.!] (?=[A-Z])", _QUOTED.sub(lambda m: "x" * len(m.group(0)), line))  # not inside quotes
    if cut and cut.start() >= 20:
        line = line[: cut.start() + 1]
    return line[:LINE_LIMIT].rstrip()


def parse_error(text: str) -> ParsedError:
    """Normalise an error result (module doc)."""
    body, exit_code = strip_wrappers(text)
    whole = meaningful_line(body)
    line = whole[:LINE_LIMIT].rstrip()
    return ParsedError(line, error_key(whole) if whole else "", exit_code, body)


_QUOTED = re.compile(r"(\"[^\"]*\"|(?<!\w)'[^']*'(?!\w)|`[^`]*`)")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?\b")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\w.@~-]*/[\w.@~-]+)+/?")
_ID_WITH_DIGITS = re.compile(r"\b(?=[\w-]*\d)[\w-]+\b")


def error_key(line: str) -> str:
    """Generalise an error line so that errors differing only in literals compare equal.

    Paths become ``{path}``, dates ``{date}``, quoted strings ``{str}``, tokens containing a digit
    ``{id}`` (braces, not angle brackets, so the key is safe in markdown); case and spacing are
    normalised. ``"Error: flight HAT030 not available on date 2024-05-13"`` →
    ``"error: flight {id} not available on date {date}"``.
    """
    text = _DATE.sub("{date}", line)
    text = _QUOTED.sub("{str}", text)
    text = _PATH.sub("{path}", text)
    text = _ID_WITH_DIGITS.sub("{id}", text)
    return " ".join(text.lower().split())
