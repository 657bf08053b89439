"""Find and redact secrets in text, with Yelp's detect-secrets as the detector.

Used by ingest redaction (every trajectory, right after parsing) and by the skill safety scan,
so both see the same secrets. Detection layers, in order:

1. detect-secrets' regex plugins (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, JWT, private-key
   headers, basic-auth URLs, …; ``detect_secrets.plugins``), minus the public-IP plugin;
2. detect-secrets' ``KeywordDetector`` (``password = "…"`` and friends) and its high-entropy
   string plugins (quoted strings, Base64 limit 4.5, hex limit 3.0 — the library defaults);
3. patterns detect-secrets misses, added here: whole PEM private-key blocks, ``.env``-style
   ``NAME_WITH_SECRET_WORD=value`` assignments, ``Authorization: Bearer`` headers, and long
   unquoted high-entropy tokens (Shannon entropy ≥ :data:`UNQUOTED_ENTROPY_LIMIT`).

Spans found by several layers are merged; each is replaced by ``[REDACTED:<kind>]`` where
``<kind>`` is a slug of the detector's secret type (``aws-access-key``, ``private-key``…).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

UNQUOTED_ENTROPY_LIMIT = 4.5
"""Shannon entropy (bits/char) above which an unquoted token of 24+ characters is a secret."""

MIN_GROUP_SECRET = 8
"""A regex group at least this long is the secret value itself (else the whole match is redacted)."""

_EXCLUDED_TYPES = {"Public IP (ipv4)"}
_PEM_BLOCK = re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY-----.*?-----END[A-Z ]*PRIVATE KEY-----", re.DOTALL)
_ENV_ASSIGNMENT = re.compile(
    r"(?im)^[ \t]*(?:export[ \t]+)?[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Z0-9_]*"
    r"[ \t]*[=:][ \t]*[\"']?([^\s\"']{6,})"
)
_BEARER = re.compile(r"(?i)\b(?:authorization:\s*)?bearer\s+([A-Za-z0-9._~+/=-]{16,})")
_TOKEN = re.compile(r"[A-Za-z0-9+/_.-]{24,}={0,2}")


@dataclass(frozen=True)
class SecretFinding:
    """One secret: ``text[start:end]`` is the secret value; ``line`` is 1-based; ``kind`` a slug."""

    kind: str
    start: int
    end: int
    line: int


def find_secrets(text: str) -> list[SecretFinding]:
    """Return the secrets in ``text``, sorted by position, overlapping spans merged.

    Args:
        text: any text (a tool result, a SKILL.md, a script).

    Returns:
        Non-overlapping findings; where spans overlap, the earliest-starting finding's kind wins
        (a named detector over the generic keyword/entropy ones) and the span is the union.
    """
    spans: list[tuple[int, int, str]] = []
    for match in _PEM_BLOCK.finditer(text):
        spans.append((match.start(), match.end(), "private-key"))
    offset = 0
    for line in text.splitlines(keepends=True):
        for start, end, kind in _line_secrets(line.rstrip("\r\n")):
            spans.append((offset + start, offset + end, kind))
        offset += len(line)
    return _merge(spans, text)


def redact_text(text: str) -> tuple[str, Counter]:
    """Replace every secret in ``text`` with ``[REDACTED:<kind>]``.

    Returns:
        ``(redacted_text, counts)`` where ``counts`` maps kind → number of secrets replaced.
    """
    findings = find_secrets(text)
    if not findings:
        return text, Counter()
    parts = []
    position = 0
    counts: Counter = Counter()
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(f"[REDACTED:{finding.kind}]")
        counts[finding.kind] += 1
        position = finding.end
    parts.append(text[position:])
    return "".join(parts), counts


def _line_secrets(line: str) -> list[tuple[int, int, str]]:
    if not line.strip():
        return []
    found: list[tuple[int, int, str]] = []
    for kind, regexes in _regex_plugins():
        for regex in regexes:
            for match in regex.finditer(line):
                start, end = _secret_span(match)
                found.append((start, end, kind))
    for plugin_kind, plugin in _value_plugins():
        for secret in plugin.analyze_line(filename="adhoc.py", line=line, line_number=1):
            value = secret.secret_value
            if value:
                for match in re.finditer(re.escape(value), line):
                    found.append((match.start(), match.end(), plugin_kind))
    for regex, kind in ((_ENV_ASSIGNMENT, "secret-keyword"), (_BEARER, "bearer-token")):
        for match in regex.finditer(line):
            found.append((match.start(1), match.end(1), kind))
    for match in _TOKEN.finditer(line):
        token = match.group(0)
        if _mixed(token) and _entropy(token) >= UNQUOTED_ENTROPY_LIMIT:
            found.append((match.start(), match.end(), "high-entropy-string"))
    return found


def _secret_span(match: re.Match) -> tuple[int, int]:
    groups = [i for i in range(1, (match.re.groups or 0) + 1) if match.group(i)]
    if groups:
        last = groups[-1]
        if len(match.group(last)) >= MIN_GROUP_SECRET:
            return match.span(last)
    return match.span()


def _merge(spans: list[tuple[int, int, str]], text: str) -> list[SecretFinding]:
    findings: list[SecretFinding] = []
    # at the same start, the longest span first, and a named detector before the generic ones
    generic = {"high-entropy-string", "secret-keyword"}
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1], s[2] in generic)):
        if findings and start < findings[-1].end:
            last = findings[-1]
            if end > last.end:
                findings[-1] = SecretFinding(last.kind, last.start, end, last.line)
            continue
        findings.append(SecretFinding(kind, start, end, text.count("\n", 0, start) + 1))
    return findings


def _mixed(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token) and not token.startswith(("http", "/"))


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


@cache
def _regex_plugins() -> tuple[tuple[str, tuple[re.Pattern, ...]], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    plugins = []
    for secret_type, plugin_class in get_mapping_from_secret_type_to_class().items():
        if secret_type in _EXCLUDED_TYPES or not issubclass(plugin_class, RegexBasedDetector):
            continue
        plugins.append((_slug(secret_type), tuple(plugin_class().denylist)))
    return tuple(plugins)


@cache
def _value_plugins():
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
    from detect_secrets.plugins.keyword import KeywordDetector

    return (
        ("secret-keyword", KeywordDetector()),
        ("high-entropy-string", Base64HighEntropyString()),
        ("high-entropy-string", HexHighEntropyString()),
    )


def _entropy(token: str) -> float:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return Base64HighEntropyString().calculate_shannon_entropy(token)
