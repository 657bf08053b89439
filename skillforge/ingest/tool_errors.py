"""Deciding whether a tool result is an error, the same way in every format.

Evidence is taken in this order (issue 14):

1. the format's **structured signal**: a return or exit code, ``is_error``, ``error: true``, a
   status, the harness's own interrupt type — decided in the format module;
2. the **harness's own messages**, as the upstream harness writes them: a small list kept in each
   format module (:class:`HarnessMessage`, each with the upstream file it comes from), e.g. SWE-agent's
   "Wrong flag!" or Codex's "patch rejected: empty patch";
3. a **generic** last resort (:func:`generic_error`), only for outputs with no structured signal:
   a Python traceback, or a line that *starts* with ``Error:``/``ValueError:``/``fatal:``… or
   says ``command not found`` / ``No such file or directory``. A word inside an identifier never
   counts: ``_curses.error: …`` in a harmless warning is not an error.

Whatever decides is recorded as the result's *kind* in the step's ``extra["error_kinds"]``
(call id → kind), so ``skillforge ingest --check`` can count errors by kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from skillforge.trajectory import ObservationResult, Step


class _Builder(Protocol):
    """What :func:`add_result` needs of :class:`~skillforge.ingest.steps.StepBuilder` (which marks
    kinds through this module, so this module does not import it)."""

    def result(self, call_id: Any, content: Any, is_error: bool = False, **orphan_fields: Any) -> ObservationResult: ...

    def step_of(self, call_id: str | None) -> Step | None: ...

    def last(self, source: Any = None) -> Step | None: ...


ErrorKind = Literal["exit_code", "flag", "status", "timeout", "format_error", "rejected", "harness", "generic"]
"""``exit_code``: a non-zero return/exit code; ``flag``: the format's own error field
(``is_error``, ``error``); ``status``: a non-success status; ``timeout``: the harness's timeout
message; ``format_error``: the harness rejected the agent's reply for its format; ``rejected``: a
human or a policy refused the call; ``harness``: one of the harness's error messages;
``generic``: the last-resort text match."""


@dataclass(frozen=True)
class HarnessMessage:
    """One error message a harness writes into a tool result.

    Attributes:
        pattern: a regular expression searched in the result text (``re.MULTILINE``).
        kind: what the message means (usually ``harness``; ``timeout``, ``rejected``, ``format_error``).
        source: the upstream file (and version) that writes it.
    """

    pattern: str
    kind: ErrorKind
    source: str

    def search(self, text: str) -> bool:
        """True when the message is in ``text`` (its first 8,000 and last 2,000 characters)."""
        return _compiled(self.pattern).search(_ends(text)) is not None


def harness_error(text: str, messages: tuple[HarnessMessage, ...]) -> ErrorKind | None:
    """The kind of the first of ``messages`` found in ``text``, or None (:func:`classify` without
    the generic tests)."""
    return classify(text, messages, generic=False)


def _first_message(ends: str, messages: tuple[HarnessMessage, ...]) -> ErrorKind | None:
    for message in messages:
        if _compiled(message.pattern).search(ends) is not None:
            return message.kind
    return None


_ANY: dict[tuple[int, bool], tuple[tuple[HarnessMessage, ...], Any]] = {}
"""Prefilters by the ``id`` of their message tuple (a format's constant: hashing the tuple would hash
every message, for every output) and whether the generic patterns are in, with the tuple itself,
which keeps the id from being reused."""


_GENERIC_SUPERSET = (
    r"^Traceback \(most recent call last\):"
    r"|^(?:[A-Z][A-Za-z0-9]*(?:Error|Exception)|[Ee]rror|ERROR|[Ff]atal|FATAL)(?:\[[^\]]*\])?:\s"
    r"|command not found|No such file or directory"
)
"""Matches wherever one of :func:`generic_error`'s three tests can pass (its look-behind left out)."""


def _any_of(messages: tuple[HarnessMessage, ...], generic: bool) -> Any:
    """A prefilter for ``messages`` (and, with ``generic``, for :func:`generic_error`): an RE2
    pattern (google-re2, one linear pass) that matches wherever one of them matches in Python ``re``,
    and perhaps elsewhere; the exact tests then run in order. Falls back to the patterns joined in
    ``re`` when RE2 cannot take them."""
    entry = _ANY.get((id(messages), generic))
    if entry is None or entry[0] is not messages:
        joined = "|".join([*(f"(?:{m.pattern})" for m in messages), *([_GENERIC_SUPERSET] if generic else [])])
        pattern = _re2_superset(joined) or re.compile(joined or "(?!)", re.MULTILINE)
        entry = _ANY[(id(messages), generic)] = (messages, pattern)
    return entry[1]


_WIDER = {r"\w": r"[\pL\pN\pM_]", r"\d": r"\pN", r"\s": r"[\s\v\x1c-\x1f\x85\pZ]", r"\b": ""}
r"""Python ``re`` takes ``\w``, ``\d``, ``\s`` and ``\b`` of a text in their Unicode sense, RE2 in the
ASCII one: they are written wider for RE2 (a letter, digit or mark of any script; any digit; any
character ``str.isspace`` accepts; no word boundary at all), so that the prefilter never misses a
match ``re`` would find."""


def _re2_superset(pattern: str) -> Any | None:
    r"""``pattern`` (``re.MULTILINE``) compiled with RE2, widened by :data:`_WIDER`; None when it
    holds a construct not widened safely (``\w``/``\d``/``\s`` inside a class, ``\B``, an escaped
    backslash, a look-around, a back reference) or RE2 refuses it."""
    import re2

    if re.search(r"\\[1-9B\\]|\(\?<?[=!]|(?<!\\)\[[^\]]*\\[wds]", pattern):
        return None
    wider = re.sub(r"\\[wdsb]", lambda m: _WIDER[m.group()], pattern)
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(f"(?m){wider}", options)
    except re2.error:
        return None


_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.MULTILINE)
_LABEL = re.compile(
    r"^(?:[A-Z][A-Za-z0-9]*(?:Error|Exception)|[Ee]rror|ERROR|[Ff]atal|FATAL)(?:\[[^\]]*\])?:\s", re.MULTILINE
)
_SHELL = re.compile(r"(?<![\w.])(?:command not found|No such file or directory)\b")
_LABEL_WORDS = ("rror", "RROR", "xception", "atal", "ATAL")
"""Substrings one of which every :data:`_LABEL` match holds: a cheap test, so the expression runs
only on the few outputs that could match."""


def generic_error(text: str) -> bool:
    """The last resort: a traceback, a line starting with an error label (``ValueError:``,
    ``error:``, ``FATAL:``…), or a shell's "command not found" / "No such file or directory" —
    never a word inside an identifier (``_curses.error:`` is not a label at a line's start)."""
    ends = _ends(text)
    if "Traceback (most recent call last):" in ends and _TRACEBACK.search(ends):
        return True
    if any(word in ends for word in _LABEL_WORDS) and _LABEL.search(ends):
        return True
    return ("command not found" in ends or "No such file or directory" in ends) and _SHELL.search(ends) is not None


def classify(text: str, messages: tuple[HarnessMessage, ...] = (), generic: bool = True) -> ErrorKind | None:
    """Steps 2 and 3 above for a result without a structured signal: the harness's messages, then
    (with ``generic``) the generic match."""
    if not messages and not generic:
        return None
    ends = _ends(text)
    if _any_of(messages, generic).search(ends) is None:  # the common case, in one pass over the text
        return None
    kind = _first_message(ends, messages)
    if kind is None and generic and generic_error(text):
        kind = "generic"
    return kind


def mark(step: Step, result: ObservationResult, kind: ErrorKind) -> None:
    """Make ``result`` (one of ``step``'s) an error of ``kind``, recorded in ``extra["error_kinds"]``."""
    result.is_error = True
    step.extra.setdefault("error_kinds", {})[result.source_call_id or f"result-{_index(step, result)}"] = kind


def add_result(
    builder: _Builder, call_id: Any, content: Any, kind: ErrorKind | None, **orphan_fields: Any
) -> ObservationResult:
    """:meth:`StepBuilder.result` that records the error's ``kind`` (None: not an error) on the
    step holding the call (or on the orphan step made for it)."""
    result = builder.result(call_id, content, kind is not None, **orphan_fields)
    if kind is not None:
        step = builder.step_of(result.source_call_id) or builder.last()
        if step is not None:
            mark(step, result, kind)
    return result


def _index(step: Step, result: ObservationResult) -> int:
    results = step.observation.results if step.observation else []
    return next((i for i, r in enumerate(results) if r is result), len(results)) + 1


def _ends(text: str) -> str:
    return text if len(text) <= 10_000 else f"{text[:8000]}\n{text[-2000:]}"


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _CACHE.get(pattern)
    if compiled is None:
        compiled = _CACHE[pattern] = re.compile(pattern, re.MULTILINE)
    return compiled
