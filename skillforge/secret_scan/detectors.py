"""The detectors the secret scanner (:mod:`skillforge.secret_scan`) runs, and their gates.

Every rule is a detector (a secret kind and its Python regexes), a named span function, or one of
the strings ``"pem"``/``"keyword"``; each has a *gate* pattern that RE2 can run (google-re2). All
gates are compiled into one ``re2.Set`` so that one pass over a text says which rules can match.
The table is detect-secrets' regex plugins (``detect_secrets/plugins/*.py``, public-IP excluded),
the patterns it misses (:data:`_EXTRA_PATTERNS`, sources listed there), PEM blocks, keyword
assignments and the prefix and ``.env``-name rules of :mod:`skillforge.secret_scan.rules`. A
detect-secrets regex RE2 cannot run (look-arounds) gets an RE2-safe gate derived from it, while
the regex itself still runs in Python ``re``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from skillforge.secret_scan.rules import ENV_GATE, env_spans, prefix_gate, prefixed_spans
from skillforge.secret_scan.values import MIN_ENTROPY_TOKEN

SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secrets?|token|api[_\-]?keys?|apikeys?|access[_\-]?keys?|private[_\-]?keys?"
    r"|secret[_\-]?keys?|client[_\-]?secret|credentials?|auth[_\-]?key|signing[_\-]?key|encryption[_\-]?key"
)


# A name that ends with a secret word, an assignment, then a quoted or bare value (RE2 syntax:
# groups 2-4 are the value in double, single or back quotes, group 5 a bare value). Backslashes
# before quotes are allowed so that JSON shown inside a tool output (\"password\": \"…\") matches.
_KEYWORD_SOURCE = (
    r"(?i)([A-Za-z0-9_.\-]*(?:" + SECRET_WORDS + r"))\\?[\"']?[ \t]*(?:=|:=|:|=>)[ \t]*"
    r'(?:\\?"([^"\\\r\n]+)\\?"|\\?\'([^\'\\\r\n]+)\\?\'|`([^`\\\r\n]+)`'
    r"|([^\s\"'`,;&)}\]\\]+))"
)


PEM_BLOCK = re.compile(
    r"-----BEGIN[A-Z ]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,\-]|\\[nr])*?"
    r"(?:-----END[A-Z ]*PRIVATE KEY(?: BLOCK)?-----|(?=[\"'`]|$))",
)


# Patterns detect-secrets misses: (kind, regex, gate). A gate is a cheap RE2 pattern (mostly a
# literal) that fires wherever the regex could match.
_EXTRA_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # detect-secrets' own JWT pattern ends lazily before the signature: the whole token here
    ("json-web-token", r"eyJ[A-Za-z0-9_=\-]+\.[A-Za-z0-9_=\-]+(?:\.[A-Za-z0-9_.+/=\-]*)?", "eyJ"),
    ("openai-token", r"sk-None-[A-Za-z0-9_\-]{20,}", r"\bsk-"),
    ("openai-token", r"\bsk-[A-Za-z0-9]{48}\b", r"\bsk-"),
    ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}", "AIza"),
    ("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-]{20,}", r"ya29\."),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}", r"\bhf_"),
    ("npm-tokens", r"\bnpm_[A-Za-z0-9]{36,}", r"\bnpm_"),
    ("groq-api-key", r"\bgsk_[A-Za-z0-9]{48,}", r"\bgsk_"),
    ("replicate-token", r"\br8_[A-Za-z0-9]{37,}", r"\br8_"),
    ("slack-token", r"\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+", "xapp-"),
    ("azure-storage-account-access-key", r"(?:SharedAccessKey|AccountKey)=([A-Za-z0-9+/]{20,}=*)", "AccountKey="),
    ("bearer-token", r"(?i)\bbearer[ \t]+([A-Za-z0-9._~+/\-]{16,}=*)", "(?i)bearer"),
    # detect-secrets' basic-auth regex stops at "!$&'()*+,;=" in the password; real ones have them
    ("basic-auth-credentials", r"://[^\s:/?#@]+:([^\s/?#@]{3,})@", r"://[^\s/@]+:[^\s/@]*@"),
    (
        "basic-auth-credentials",
        r"(?i)\bauthorization[\"']?[ \t]*[:=][ \t]*[\"']?basic[ \t]+([A-Za-z0-9+/]{8,}=*)",
        "(?i)authorization",
    ),
)


_ENTROPY_GATE_KEY = "entropy"
"""Gate name of rules that run wherever the entropy rule's gate fires (a long base64 run)."""


# Gates of detect-secrets' plugins, by kind: literals and short classes that every match of the
# plugin's regexes contains (RE2 runs a Set of literals at memory speed; the plugins' own regexes,
# with their long counted repetitions, would make the combined automaton explode). A plugin missing
# here (a newer detect-secrets) gets a gate derived from its regex (:func:`_gate_source`).
_PLUGIN_GATES: dict[str, str] = {
    # its regexes want a space, "=", ":", '"' or the text's start before the token, each a word
    # boundary (else "CAPE", "MAPBOX" would open the gate)
    "artifactory-credentials": r"\b(?:AKC|AP[0-9A-F])",
    "aws-access-key": "AKIA|ASIA|ABIA|ACCA|A3T|(?i:aws)",
    "azure-storage-account-access-key": "AccountKey=",
    "basic-auth-credentials": r"://[^\s/@]+:[^\s/@]*@",
    "cloudant-credentials": r"(?i:cloudant|\bcl(?:ou)?[_\-]?(?:api)?(?:key|pwd|pw|pass|token))",
    "discord-bot-token": _ENTROPY_GATE_KEY,  # its first part is a 24+ character base64 run
    "github-token": r"gh[pousr]_",
    "gitlab-token": r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941",
    # the keyword-style plugins also take a space as the assignment ("key abc…"); those variants are
    # left to the entropy rule, the gates want "=" or ":"
    "ibm-cloud-iam-key": r"(?i:(?:key|pwd|pass|token)[\"'\]]*[ \t]*(?:=|:))",
    "ibm-cos-hmac-credentials": r"(?i:secret[_\-]?(?:access)?[_\-]?key)",
    "json-web-token": "eyJ",
    "mailchimp-access-key": "-us[0-9]",
    "npm-tokens": "_authToken",
    "openai-token": "T3BlbkFJ",
    "private-key": "BEGIN|PuTTY-User-Key",
    "pypi-token": "pypi-AgE",
    "sendgrid-api-key": r"SG\.",
    "slack-token": r"(?i:xox)|hooks\.slack\.com",
    "softlayer-credentials": r"(?i:softlayer|\bsl[_\-]?(?:api)?[_\-]?(?:key|pwd|pass|token))",
    "square-oauth-secret": "sq0csp-",
    "stripe-access-key": "k_live_",
    "telegram-bot-token": "[0-9]{8}:",
    "twilio-api-key": "AC[a-z0-9]{4}|SK[a-z0-9]{4}",
}


# Gates of the rules that are not plain regexes. The entropy rule's gate (a counted repetition that
# would multiply the Set's automaton) runs as a separate RE2 pass.
_PEM_GATE = r"-----BEGIN[A-Z ]*PRIVATE KEY"


_KEYWORD_GATE = r"(?i)(?:pass|passwd|password|passphrase|pwd|secrets?|token|keys?|credentials?)[\"'\\\]]*[ \t]*(?:=|:)"


_ENTROPY_GATE = rf"[A-Za-z0-9+]{{{MIN_ENTROPY_TOKEN},}}={{0,2}}"


# The entropy rule's gate in the Set: a run of exactly MIN_ENTROPY_TOKEN characters is found
# wherever _ENTROPY_GATE matches, and a fixed count keeps the Set's automaton small.
_ENTROPY_RUN = rf"[A-Za-z0-9+]{{{MIN_ENTROPY_TOKEN}}}"


_EXCLUDED_TYPES = {"Public IP (ipv4)"}


@dataclass(frozen=True)
class Detector:
    """A named detector: the secret kind it reports (a slug such as ``aws-access-key``) and the
    patterns that find it."""

    kind: str
    regexes: tuple  # compiled re or re2 patterns (same match API)


Rule = Detector | str | Callable[..., Iterator[tuple[int, int, str]]]
"""A rule: compiled regexes, ``"pem"``/``"keyword"`` (run here), or a function ``(text, its UTF-8,
byte-to-character offsets or None) -> spans`` (:func:`~skillforge.secret_scan.rules.prefixed_spans`)."""


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


def load_detectors() -> None:
    """Load and compile every detector now rather than on the first text (about 0.2 s, mostly
    importing detect-secrets' plugins): a process about to fork workers calls it first, so that
    they start with them compiled."""
    rules_in_order()
    gates()
    batch_gates()
    re2_patterns()
    gate_rules()


@cache
def rules_in_order() -> tuple[Rule, ...]:
    """Every rule: detect-secrets' regex plugins, ours, ``"pem"``, ``"keyword"``, then the span
    functions of :mod:`skillforge.secret_scan.rules`."""
    return tuple(rule for rule, _ in _rules_and_gates())


@cache
def _rules_and_gates() -> tuple[tuple[Rule, str], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    pairs: list[tuple[Rule, str]] = []
    # detect-secrets is untyped; Any keeps mypy's inference the same across its versions.
    plugins: dict[str, Any] = dict(get_mapping_from_secret_type_to_class())
    for secret_type in sorted(plugins):
        plugin_class: Any = plugins[secret_type]
        if secret_type in _EXCLUDED_TYPES or not issubclass(plugin_class, RegexBasedDetector):
            continue
        kind = _slug(secret_type)
        plugin: Any = cast(Any, plugin_class)()
        for regex in plugin.denylist:
            pairs.append((Detector(kind, (_fast_regex(regex),)), _PLUGIN_GATES.get(kind) or _gate_source(regex)))
    for kind, source, gate in _EXTRA_PATTERNS:
        pairs.append((Detector(kind, (_fast_regex(re.compile(source)),)), gate))
    pairs.append(("pem", _PEM_GATE))
    pairs.append(("keyword", _KEYWORD_GATE))
    pairs.append((prefixed_spans, prefix_gate()))
    pairs.append((env_spans, ENV_GATE))
    return tuple(pairs)


@cache
def _gate_list() -> tuple[str, ...]:
    """The distinct gate patterns of the Set, in Set order; the last is the entropy rule's gate
    (:data:`_ENTROPY_RUN`)."""
    named = dict.fromkeys(gate for _, gate in _rules_and_gates() if gate != _ENTROPY_GATE_KEY)
    return (*named, _ENTROPY_RUN)


@cache
def gate_rules() -> tuple[tuple[int, ...], ...]:
    """For each gate (Set index), the indices of the rules it opens; ``-1`` stands for the
    entropy rule itself, opened (with the rules that share its gate) by the last gate."""
    gates = _gate_list()
    opened: list[list[int]] = [[] for _ in gates]
    opened[-1].append(-1)
    for index, (_, gate) in enumerate(_rules_and_gates()):
        opened[-1 if gate == _ENTROPY_GATE_KEY else gates.index(gate)].append(index)
    return tuple(tuple(rules) for rules in opened)


_LOOKAROUND = re.compile(r"\(\?<?[=!]")


_WORD_START = "(?:(?<=\\W)|(?<=^))"


_NOT_FOLLOWED_BY = re.compile(r"\(\?!(\\w|\[[^\]^]*\])\)")


def _fast_regex(regex: re.Pattern):
    """``regex`` compiled with RE2 when RE2 can take it (same matches, linear time), else as is.

    detect-secrets' keyword-style plugins open with ``(?:(?<=\\W)|(?<=^))`` (a word start); RE2
    has no lookbehind, so that prefix becomes ``(?:^|\\W)``, which consumes one character: those
    plugins' secrets are capture groups, so the redacted span does not move. A "not followed by"
    inside a pattern becomes the same kind of consuming class; one that ends the pattern is kept
    (Python ``re``), since the consumed character would then be redacted with the token.
    """
    import re2

    source = regex.pattern.replace(_WORD_START, "(?:^|\\W)")
    if any(found.end() == len(source) for found in _NOT_FOLLOWED_BY.finditer(source)):
        return regex  # at the very end the consumed character would be part of the match (GitLab's tokens)
    if regex.groups:  # a trailing "not followed by" may consume its character outside the secret group
        source = _NOT_FOLLOWED_BY.sub(
            lambda m: "(?:\\W|$)" if m.group(1) == "\\w" else f"(?:[^{m.group(1)[1:-1]}]|$)", source
        )
    if _LOOKAROUND.search(source) or regex.flags & re.VERBOSE:
        return regex
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(("(?i)" if regex.flags & re.IGNORECASE else "") + source, options)
    except re2.error:
        return regex


def _gate_source(regex: re.Pattern) -> str:
    """An RE2-compatible pattern that matches at least wherever ``regex`` does.

    RE2 has no lookarounds and caps counted repetition at 1000; removing a lookaround or an
    upper bound only widens a pattern, which is what a gate may do.
    """
    source = regex.pattern
    if regex.flags & re.VERBOSE:
        source = re.sub(r"\s+|#[^\n]*", "", source)
    while (found := _LOOKAROUND.search(source)) is not None:
        depth, index = 0, found.start()
        while index < len(source):
            char = source[index]
            if char == "\\":
                index += 2
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        source = source[: found.start()] + source[index + 1 :]
    source = re.sub(r"\{(\d+),\d{4,}\}", r"{\1,}", source)
    return ("(?i)" if regex.flags & re.IGNORECASE else "") + source


@cache
def gates():
    """The RE2 Set of every gate; ``Match(text)`` returns the indices of the gates that fire."""
    import re2

    options = re2.Options()
    options.log_errors = False
    gate_set = re2.Set.SearchSet(options)
    for gate in _gate_list():
        try:
            gate_set.Add(gate)
        except re2.error:
            gate_set.Add("")  # a pattern RE2 cannot take: always run its detectors
    gate_set.Compile()
    return gate_set


_fast: Any = None
"""The Hyperscan gates once :func:`use_fast_gates` made them, False when it could not."""


def use_fast_gates(cache: Path | None) -> bool:
    """Run the gate pass with Hyperscan from now on, in this process and in the workers it forks
    (:mod:`skillforge.secret_scan.hyperscan_gates`; ``cache``: the folder of compiled databases, or
    None). Returns False, and the RE2 Set stays, when Hyperscan is not installed or cannot take a
    gate."""
    global _fast
    if _fast is None:
        from skillforge.secret_scan.hyperscan_gates import compile_gates

        _fast = compile_gates(_gate_list(), cache) or False
    return bool(_fast)


def fast_gates():
    """The Hyperscan gates (``Match`` as :func:`gates`' has it) once :func:`use_fast_gates` switched
    them on, else None."""
    return _fast or None


@cache
def batch_gates():
    """Each gate of the Set as its own RE2 pattern, in Set order (to find which texts it fires in)."""
    import re2

    options = re2.Options()
    options.log_errors = False
    singles = []
    for gate in _gate_list():
        try:
            singles.append(re2.compile(gate, options))
        except re2.error:
            singles.append(re2.compile("(?s).", options))  # like the Set: the gate always fires
    return tuple(singles)


@cache
def re2_patterns():
    """The keyword-assignment and token-run patterns, compiled with RE2 (linear-time finditer)."""
    import re2

    return re2.compile(_KEYWORD_SOURCE), re2.compile(_ENTROPY_GATE)
