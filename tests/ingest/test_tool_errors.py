"""The RE2 prefilter of the harness messages and the generic tests
(:func:`skillforge.ingest.tool_errors._any_of`) never misses a message Python ``re`` finds, including
in text outside ASCII, where RE2's ``\\w``, ``\\d``, ``\\s`` and ``\\b`` differ from ``re``'s; so
``classify`` decides as the exact tests, run one after the other, decide."""

from __future__ import annotations

import re

import pytest

from skillforge.ingest import codex, openhands, swe_agent
from skillforge.ingest.tool_errors import HarnessMessage, _any_of, _re2_superset, classify, generic_error, harness_error

MESSAGE_LISTS = {
    "codex": codex.HARNESS_MESSAGES,
    "swe_agent": swe_agent.HARNESS_MESSAGES,
    "openhands": openhands.HARNESS_MESSAGES,
}

# each a message upstream writes, then variants that only Unicode-aware \w, \d, \s or \b tell apart
TEXTS = [
    "patch rejected: empty patch",
    "output\napply_patch verification failed: no such hunk",
    "shell failed: exit 1",
    "aborted by user",
    "aborted by useré",  # re: no word boundary after "user"
    "Browser Use rejected this action",
    "Wrong flag!",
    "EXECUTION TIMED OUT",
    "The command 'sleep 99' was cancelled because it took more than ٣٠ seconds",  # Arabic-Indic digits
    "[Your proposed edit has introduced new syntax error(s).",
    "Your proposed edit has introduced new syntax error",
    "Usage: ñame [options]",  # a non-ASCII word character after "Usage: "
    "ERROR:\u00a0Invalid `path` parameter",  # a no-break space: whitespace to re, not to RE2's \s
    "ERROR:\u2003Invalid `ruta_ñ` parameter",
    "ERROR:\nInvalid `path` parameter: /x does not exist",
    "all good\nnothing failed here",
    "",
    # the generic tests: a traceback, a label at a line's start (any whitespace after it), a shell
    'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad',
    "ok\nValueError:\u00a0bad value",
    "fatal: not a git repository",
    "warn\nERROR[E0425]: cannot find value",
    "_curses.error: setupterm",
    "sh: foo: command not found",
    "cat: x.txt: No such file or directory",
    "x.No such file or directory",
    "an error: mid-line is no label",
]


@pytest.mark.parametrize("name", sorted(MESSAGE_LISTS))
def test_prefilter_is_re2_and_misses_nothing_re_finds(name: str) -> None:
    messages = MESSAGE_LISTS[name]
    prefilter = _any_of(messages, False)
    assert type(prefilter).__module__ == "re2", "every format's messages are RE2-compatible once widened"
    found = 0
    for text in TEXTS:
        by_re = [m for m in messages if re.search(m.pattern, text, re.MULTILINE)]
        if by_re:
            found += 1
            assert prefilter.search(text) is not None, (name, text)
            assert harness_error(text, messages) == by_re[0].kind
        else:
            assert harness_error(text, messages) is None
    assert found >= 2  # the texts hold messages of every list


def test_constructs_not_widened_safely_fall_back_to_re() -> None:
    for pattern in (r"a\Bb", r"(?<=x)y", r"(?!x)y", r"[\w-]+", r"\\w", r"(a)\1"):
        assert _re2_superset(pattern) is None, pattern
    assert _re2_superset(r"\[\w+") is not None  # an escaped bracket opens no class
    messages = (HarnessMessage(r"(?<!x)boom", "harness", "test"),)
    assert type(_any_of(messages, True)).__module__ == "re"
    assert harness_error("a boom", messages) == "harness" and harness_error("xboom", messages) is None


@pytest.mark.parametrize("generic", [True, False])
@pytest.mark.parametrize("name", [*sorted(MESSAGE_LISTS), "none"])
def test_classify_decides_as_the_exact_tests_in_order(name: str, generic: bool, shared_traces) -> None:
    """One prefilter pass over messages and generic tests together, then the exact tests: the same
    kind as the harness messages, then the generic test, each run on its own, on the texts above
    and on every tool output of the real corpus."""
    from skillforge.ingest import ingest
    from skillforge.ingest.report import IngestReport

    messages = MESSAGE_LISTS.get(name, ())
    outputs = [
        result.content
        for trajectory in ingest([shared_traces], IngestReport())
        for step in trajectory.steps
        if step.observation
        for result in step.observation.results
    ]
    decided = 0
    for text in [*TEXTS, *outputs]:
        expected = harness_error(text, messages) or ("generic" if generic and generic_error(text) else None)
        assert classify(text, messages, generic) == expected, text[:200]
        decided += expected is not None
    assert len(outputs) > 1000 and decided >= (10 if generic else 0)
