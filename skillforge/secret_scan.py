"""Find and redact secrets in text: Yelp's detect-secrets detectors behind a one-pass RE2 prefilter.

Used by ingest redaction (every trajectory, right after parsing; :mod:`skillforge.ingest.redact`)
and by the skill safety scan, so both see the same secrets.

How a text is scanned (:func:`find_secrets`):

1. **Prefilter, one pass.** Every detector has a *gate* pattern; all gates are compiled into one
   ``re2.Set`` (google-re2, a DFA: linear time, no backtracking). One ``Set.Match`` over the text
   says which detectors can possibly match; a text no gate matches (most of them) costs that
   single pass. Texts shorter than :data:`MIN_SECRET_CHARS` are not scanned at all.
2. **Named detectors**, run with Python ``re`` only when their gate fired:

   * every regex plugin of detect-secrets (``detect_secrets.plugins``: AWS, GitHub, GitLab, Slack,
     Stripe, OpenAI, JWT, private-key headers, basic-auth URLs, SendGrid, Twilio, npm, PyPI, Azure
     storage, Discord, Telegram, Square, Mailchimp, Artifactory, Cloudant, IBM, SoftLayer), minus
     the public-IP plugin (addresses are not secrets);
   * patterns detect-secrets misses, added here (:data:`_EXTRA_PATTERNS`): Anthropic and current
     OpenAI project keys, Google API keys and OAuth tokens, Hugging Face, npm and GitHub
     fine-grained tokens, DigitalOcean, Shopify, Stripe test keys, Groq, Replicate, Slack app
     tokens, Azure ``SharedAccessKey``; whole PEM private-key blocks (also with ``\\n``-escaped
     newlines, as in service-account JSON); ``Authorization: Bearer``/``Basic`` headers.
3. **Keyword assignments** (``password = "…"``, ``"api_key": "…"``, ``DB_PASSWORD=…``, ``.env``
   lines, ``?token=…`` in URLs): the name must *end* with a secret word (after detect-secrets'
   keyword list), and the value must look like a secret (:func:`plausible_secret_value`: not a
   placeholder, template, code reference, path or number).
4. **High-entropy tokens**: runs of 24+ base64 alphanumerics (``[A-Za-z0-9+]``, ``=`` padding) with upper case,
   lower case and a digit whose Shannon entropy (detect-secrets' calculation) reaches
   :func:`entropy_limit` for their length — except what is known not to be a secret: tool-call and
   message ids (``toolu_…``, ``call_…``, ``msg_…``; detect-secrets' ``is_likely_id_string``),
   UUIDs, hex hashes, parts of paths and URLs, and long base64 regions (images, encrypted blobs,
   signatures: :data:`BLOB_CHARS` characters or more).

Spans found by several layers are merged; each is replaced by ``[REDACTED:<kind>]`` where
``<kind>`` is a slug of the detector's secret type (``aws-access-key``, ``private-key``…).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from math import log2
from typing import Any, cast

MIN_SECRET_CHARS = 8
"""Texts shorter than this are not scanned (no detector matches fewer characters)."""

MIN_GROUP_SECRET = 8
"""A regex group at least this long is the secret value itself (else the whole match is redacted)."""

CACHE_MIN_CHARS = 1024
"""Texts at least this long are remembered with their redaction: system prompts, policies and
files read again and again recur across the trajectories of one run and are scanned once."""

CACHE_MAX_CHARS = 64 * 1024 * 1024
"""The cache is emptied when it would hold more characters than this (0 turns it off)."""

_CACHE: dict[str, tuple[str, Counter]] = {}
_CACHED_CHARS = 0

MIN_ENTROPY_TOKEN = 24
"""Shortest run of base64 alphanumerics the entropy rule looks at (22-character short UUIDs, as
Inspect AI uses for every id, stay below it)."""

BLOB_CHARS = 300
"""A base64 region at least this long is data (an image, an encrypted blob, a signature), not a key."""

ID_PREFIXES = frozenset(
    "toolu srvtoolu msg call req chatcmpl gen resp rs fc ws item run thread asst step evt file batch "
    "span trace ctx conv sess session job task tool cmpl completion chunk".split()
)
"""Prefixes of provider object ids (``toolu_…``, ``call_…``, ``chatcmpl-…``): random, but not secrets."""

PLACEHOLDERS = frozenset(
    "password passwd pass pwd secret token apikey key changeme changeit example test testing none null nil "
    "true false undefined default user username admin root foo bar baz xxx redacted hidden masked dummy "
    "sample placeholder yourpassword yourtoken yourapikey yoursecret mypassword mytoken mysecret".split()
)
"""Values (lower-cased, letters and digits only) that stand in for a secret rather than being one."""

_SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secrets?|token|api[_\-]?keys?|apikeys?|access[_\-]?keys?|private[_\-]?keys?"
    r"|secret[_\-]?keys?|client[_\-]?secret|credentials?|auth[_\-]?key|signing[_\-]?key|encryption[_\-]?key"
)
# A name that ends with a secret word, an assignment, then a quoted or bare value (RE2 syntax:
# groups 2-4 are the value in double, single or back quotes, group 5 a bare value). Backslashes
# before quotes are allowed so that JSON shown inside a tool output (\"password\": \"…\") matches.
_KEYWORD_SOURCE = (
    r"(?i)([A-Za-z0-9_.\-]*(?:" + _SECRET_WORDS + r"))\\?[\"']?[ \t]*(?:=|:=|:|=>)[ \t]*"
    r'(?:\\?"([^"\\\r\n]{1,200})\\?"|\\?\'([^\'\\\r\n]{1,200})\\?\'|`([^`\\\r\n]{1,200})`'
    r"|([^\s\"'`,;&)}\]\\]{1,200}))"
)
_KEYWORD_NAME = re.compile(r"(?i)(?:^|[^A-Za-z0-9])(?:" + _SECRET_WORDS + r")$|^(?:" + _SECRET_WORDS + r")$")
_COUNT_NAME = re.compile(r"(?i)tokens$|_count$|^max_|^num_")
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
_HEX = frozenset("0123456789abcdefABCDEF")
_WORD = re.compile(r"[A-Z]?[a-z]{3,}")
_BARE_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z_$]*$")
_EMAIL = re.compile(r"^[\w.+\-]+@[\w\-]+\.[\w.\-]+$")
_CODE_REFERENCE = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|^[A-Z][A-Z0-9_]*$")
_PEM_BLOCK = re.compile(
    r"-----BEGIN[A-Z ]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s:,\-]|\\[nr])*?(?:-----END[A-Z ]*PRIVATE KEY(?: BLOCK)?-----|(?=[\"'`]|$))",
)

# Patterns detect-secrets misses: (kind, regex, gate). A gate is a cheap RE2 pattern (mostly a
# literal) that fires wherever the regex could match.
_EXTRA_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("anthropic-api-key", r"sk-ant-(?:api|admin|oat)[0-9]{2}-[A-Za-z0-9_\-]{32,}", r"\bsk-"),
    ("openai-token", r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}", r"\bsk-"),
    ("openai-token", r"\bsk-[A-Za-z0-9]{48}\b", r"\bsk-"),
    ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}", "AIza"),
    ("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-]{20,}", r"ya29\."),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}", r"\bhf_"),
    ("npm-tokens", r"\bnpm_[A-Za-z0-9]{36}\b", r"\bnpm_"),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{50,}", "github_pat_"),
    ("digitalocean-token", r"\bdo[por]_v1_[a-f0-9]{64}\b", "do[por]_v1_"),
    ("shopify-token", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", "shp(?:at|ss|ca|pa)_"),
    ("stripe-access-key", r"\b(?:sk|rk)_(?:test|live)_[0-9a-zA-Z]{24,}", "k_(?:test|live)_"),
    ("groq-api-key", r"\bgsk_[A-Za-z0-9]{48,}", r"\bgsk_"),
    ("replicate-token", r"\br8_[A-Za-z0-9]{37,}", r"\br8_"),
    ("slack-token", r"\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+", "xapp-"),
    ("azure-storage-account-access-key", r"(?:SharedAccessKey|AccountKey)=([A-Za-z0-9+/]{20,}=*)", "AccountKey="),
    ("bearer-token", r"(?i)\bbearer[ \t]+([A-Za-z0-9._~+/\-]{16,}=*)", "(?i)bearer"),
    # detect-secrets' basic-auth regex stops at "!$&'()*+,;=" in the password; real ones have them
    ("basic-auth-credentials", r"://[^\s:/?#@]+:([^\s/?#@]{3,})@", r"://[^\s/@]+:[^\s/@]*@"),
    ("basic-auth-credentials", r"(?i)\bauthorization[\"']?[ \t]*[:=][ \t]*[\"']?basic[ \t]+([A-Za-z0-9+/]{8,}=*)", "(?i)authorization"),
)

_ENTROPY_GATE_KEY = "entropy"
"""Gate name of rules that run wherever the entropy rule's gate fires (a long base64 run)."""

# Gates of detect-secrets' plugins, by kind: literals and short classes that every match of the
# plugin's regexes contains (RE2 runs a Set of literals at memory speed; the plugins' own regexes,
# with their long counted repetitions, would make the combined automaton explode). A plugin missing
# here (a newer detect-secrets) gets a gate derived from its regex (:func:`_gate_source`).
_PLUGIN_GATES: dict[str, str] = {
    "artifactory-credentials": "AKC|AP[0-9A-F]",
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
_ENTROPY_GATE = r"[A-Za-z0-9+]{%d,}={0,2}" % MIN_ENTROPY_TOKEN
# The entropy rule's gate in the Set: a run of exactly MIN_ENTROPY_TOKEN characters is found
# wherever _ENTROPY_GATE matches, and a fixed count keeps the Set's automaton small.
_ENTROPY_RUN = r"[A-Za-z0-9+]{%d}" % MIN_ENTROPY_TOKEN

# Value-checked kinds: a match of these is kept only when its value passes plausible_secret_value.
_VALUE_CHECKED = {"basic-auth-credentials", "bearer-token"}
_GENERIC = {"high-entropy-string", "secret-keyword"}
# Kinds found from their context (a URL's password part, a header's value) rather than from the
# token's own shape: where such a span equals a token detector's, the token's kind names it.
_CONTEXTUAL = {"basic-auth-credentials", "bearer-token"}
_EXCLUDED_TYPES = {"Public IP (ipv4)"}
_SEPARATOR = "\n\x00\n"


@dataclass(frozen=True)
class SecretFinding:
    """One secret: ``text[start:end]`` is the secret value; ``line`` is 1-based; ``kind`` a slug."""

    kind: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class _Detector:
    kind: str
    regexes: tuple  # compiled re or re2 patterns (same match API)


def find_secrets(text: str) -> list[SecretFinding]:
    """Return the secrets in ``text``, sorted by position, overlapping spans merged.

    Args:
        text: any text (a tool result, a SKILL.md, a script).

    Returns:
        Non-overlapping findings; where spans overlap, the earliest-starting finding's kind wins
        (a named detector over the generic keyword/entropy ones) and the span is the union.
        A named detector's kind also wins over a generic finding that starts earlier.
    """
    if len(text) < MIN_SECRET_CHARS:
        return []
    spans = list(_spans(text))
    return _merge(spans, text) if spans else []


def redact_text(text: str) -> tuple[str, Counter]:
    """Replace every secret in ``text`` with ``[REDACTED:<kind>]``.

    Returns:
        ``(redacted_text, counts)`` where ``counts`` maps kind → number of secrets replaced.
        The same string object is returned when nothing was found.
    """
    return _replace(text, find_secrets(text))


def _replace(text: str, findings: list[SecretFinding]) -> tuple[str, Counter]:
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


def redact_texts(texts: list[str]) -> tuple[list[str], Counter]:
    """Redact many texts at once (all the text fields of one trajectory, say).

    Same result as :func:`redact_text` on each, much faster on many small texts: the gates run
    once over all texts joined (UTF-8, a NUL line between them, which no gate pattern crosses), and
    only the texts a gate fired in are scanned, by the rules of those gates. Long texts seen before
    (:data:`CACHE_MIN_CHARS`) are not scanned again.

    Returns:
        ``(texts, counts)``: the texts in the same order (unchanged ones are the same objects)
        and the number of secrets replaced per kind, kinds in the order of the texts they were
        first found in (whatever the cache held: ingest in worker processes relies on it).
    """
    out = list(texts)
    todo: list[int] = []
    found_in: dict[int, Counter] = {}  # index of a text with secrets -> its counts
    cached_get = _CACHE.get
    for index, text in enumerate(texts):
        size = len(text)
        if size >= CACHE_MIN_CHARS:
            cached = cached_get(text)
            if cached is not None:
                out[index] = cached[0]
                if cached[1]:
                    found_in[index] = cached[1]
                continue
        if size >= MIN_SECRET_CHARS:
            todo.append(index)
    if todo:
        _scan(texts, todo, out, found_in)
    counts: Counter = Counter()
    for index in sorted(found_in):
        counts.update(found_in[index])
    return out, counts


def _scan(texts: list[str], todo: list[int], out: list[str], found_in: dict[int, Counter]) -> None:
    """Scan ``texts[i]`` for ``i`` in ``todo`` (gates over all of them joined), write each redacted
    text to ``out[i]`` and its counts to ``found_in[i]``, and remember the long ones."""
    pending = [texts[index] for index in todo]
    joined = _SEPARATOR.join(pending).encode("utf-8", "surrogatepass")
    gate_hits = _gates().Match(joined)
    if gate_hits:
        fired = _fired_texts(joined, pending, gate_hits)
        for position in sorted(fired):
            text = pending[position]
            spans = list(_spans(text, fired[position]))
            if spans:
                index = todo[position]
                out[index], found_in[index] = _replace(text, _merge(spans, text))
    nothing: Counter = Counter()
    for position, text in enumerate(pending):
        if len(text) >= CACHE_MIN_CHARS:
            index = todo[position]
            _remember(text, out[index], found_in.get(index, nothing))


def _fired_texts(joined: bytes, texts: list[str], gate_hits: list[int]) -> dict[int, set[int]]:
    """For each of ``texts`` (joined into ``joined``) that a gate fires in, the gates that fire."""
    starts = []
    offset = 0
    separator = len(_SEPARATOR)
    for text in texts:  # byte offsets; an ASCII text has as many bytes as characters
        starts.append(offset)
        offset += (len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))) + separator
    starts.append(offset)
    end = len(joined)
    singles = _batch_gates()
    fired: dict[int, set[int]] = {}
    for gate in gate_hits:
        # search, and after a hit go on from the next text: one search per text with a hit,
        # however many hits it holds
        pattern, position = singles[gate], 0
        while position < end and (match := pattern.search(joined, position)) is not None:
            where = bisect_right(starts, match.start()) - 1
            fired.setdefault(where, set()).add(gate)
            position = starts[where + 1]
    return fired


def _remember(text: str, redacted: str, found: Counter) -> None:
    global _CACHED_CHARS
    if _CACHED_CHARS + len(text) > CACHE_MAX_CHARS:
        _CACHE.clear()
        _CACHED_CHARS = 0
    if CACHE_MAX_CHARS:
        _CACHE[text] = (redacted, found)
        _CACHED_CHARS += len(text)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True when a field name (a dict key, an environment variable) names a secret.

    The name must end with a secret word (``password``, ``api_key``, ``GITHUB_TOKEN``,
    ``client_secret``…); counters such as ``max_tokens`` or ``input_tokens`` are not secret names.
    """
    return bool(_KEYWORD_NAME.search(name)) and not _COUNT_NAME.search(name)


def plausible_secret_value(value: str) -> bool:
    """True when ``value`` (assigned to a secret-named field) looks like a real secret.

    Rejected, as detect-secrets' heuristic filters do for its keyword plugin: fewer than 6
    characters, placeholders (``changeme``, ``REDACTED``, ``xxxx``, ``****``, ``<token>``,
    ``${TOKEN}``, ``{{ secret }}``, ``%s``), code references (``self.password``,
    ``os.environ[...]``, ``get_token()``, ``API_KEY``), paths and URLs, numbers, and values made of
    one character class only (``proxy-handled``: a real password mixes cases, digits or symbols).
    """
    value = value.strip()
    if len(value) < 6 or value[0] in "$<{%/~.[(#*" or value[-1] in ">})]":
        return False
    lowered = value.lower()
    if lowered.startswith(("http:", "https:", "file:", "env:", "vault:")) or "redacted" in lowered:
        return False
    normalized = re.sub(r"[^a-z0-9]", "", lowered)
    if normalized in PLACEHOLDERS or len(set(normalized)) <= 2 or "xxxx" in lowered or "****" in value or "..." in value or "…" in value:
        return False
    if "(" in value or "[" in value or _CODE_REFERENCE.match(value) or _EMAIL.match(value):
        return False
    if any(c.isspace() for c in value):
        return False  # prose, a command line
    if value.replace(".", "", 1).replace("-", "", 1).isdigit():
        return False
    classes = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() and c not in "-_." for c in value)
    )
    return classes >= 2


def entropy_limit(length: int) -> float:
    """Shannon entropy (bits per character) a token of ``length`` characters must reach.

    A random base62 token of n characters has about ``log2(n)`` bits per character up to ~5.5;
    English-like identifiers and ids of repeated characters stay well below. The limit is 85 % of
    ``log2(length)``, capped at 4.5 (detect-secrets' default for base64 strings).
    """
    return min(4.5, 0.85 * log2(length))


# --------------------------------------------------------------------------- scanning


def _spans(text: str, hits=None) -> Iterator[tuple[int, int, str]]:
    """Spans of every rule whose gate fires in ``text``; ``hits`` (indices of the gates of
    :func:`_gates` that fire, the entropy gate's included) are computed here unless the caller
    already knows them."""
    if hits is None:
        hits = _gates().Match(text) or ()
    rules = _rules()
    gate_rules = _gate_rules()
    seen: set[int] = set()
    for gate in sorted(hits):
        for index in gate_rules[gate]:
            if index in seen:
                continue
            seen.add(index)
            if index < 0:
                yield from _entropy_spans(text)
            else:
                yield from _run(rules[index], text)


def _run(rule: _Detector | str, text: str) -> Iterator[tuple[int, int, str]]:
    if rule == "pem":
        for match in _PEM_BLOCK.finditer(text):
            yield match.start(), match.end(), "private-key"
    elif rule == "keyword":
        yield from _keyword_spans(text)
    else:
        assert isinstance(rule, _Detector)
        for regex in rule.regexes:
            for match in regex.finditer(text):
                start, end = _secret_span(match)
                if rule.kind in _VALUE_CHECKED and not plausible_secret_value(text[start:end]):
                    continue
                if rule.kind == "basic-auth-credentials" and not _plausible_url_password(text[start:end]):
                    continue
                yield start, end, rule.kind


def _keyword_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _re2_patterns()[0].finditer(text):
        if _COUNT_NAME.search(match.group(1)):
            continue
        group = next(g for g in (2, 3, 4, 5) if match.group(g) is not None)
        value = match.group(group)
        if group == 5 and _BARE_IDENTIFIER.match(value):
            continue  # token = csrfToken, password: String: a variable or a type, not a value
        if plausible_secret_value(value):
            yield match.start(group), match.end(group), "secret-keyword"


def _entropy_spans(text: str) -> Iterator[tuple[int, int, str]]:
    if len(text) < MIN_ENTROPY_TOKEN:
        return
    skip_until = -1
    for match in _re2_patterns()[1].finditer(text):
        start, end = match.span()
        if start < skip_until:
            continue
        # the whole base64-ish region around the run (url-safe and standard alphabets, paths)
        left = start
        while left > 0 and text[left - 1] in _BASE64_CHARS:
            left -= 1
        right = end
        size = len(text)
        while right < size and text[right] in _BASE64_CHARS:
            right += 1
        if right - left >= BLOB_CHARS:
            skip_until = right
            continue
        if left > 0 and text[left - 1] == "\\" and start == left:
            start += 1  # "\nAbc…": the n belongs to the escape, not to the token
        token = text[start:end]
        if not _looks_random(token):
            continue
        before = text[left:start]
        if "/" in before or "/" in text[end:right] or (left > 0 and text[left - 1] in "/.:@"):
            continue  # a path or URL segment
        if before and before[-1] in "_-" and any(part.lower() in ID_PREFIXES for part in re.split(r"[_\-]", before)):
            continue
        if _id_context(text, left):
            continue
        yield start, end, "high-entropy-string"


def _looks_random(token: str) -> bool:
    if len(token) < MIN_ENTROPY_TOKEN or all(c in _HEX for c in token):
        return False
    upper = lower = digit = False
    for c in token:
        if c.isdigit():
            digit = True
        elif c.isupper():
            upper = True
        elif c.islower():
            lower = True
    if not (upper and lower and digit):
        return False
    from detect_secrets.filters.heuristic import is_sequential_string

    if is_sequential_string(token) or sum(len(word) for word in _WORD.findall(token)) * 2 >= len(token):
        return False  # an identifier made of words (ThreadSafeFinalizeIvZNS), not random
    return _entropy(token) >= entropy_limit(len(token))


_ID_KEY = re.compile(
    r"(?i)(?:^|[^a-z0-9])(?:id|ids|uuid|guid|hash|sha|digest|checksum|etag|nonce|[a-z]+_id|[a-z]+Id)"
    r'[\\"\']*\s*[:=]\s*[\\"\']*$'
)


def _id_context(text: str, start: int) -> bool:
    """True when the token is the value of an id-like field (``"request_id": "…"``)."""
    window = text[max(0, start - 40) : start]
    return bool(_ID_KEY.search(window))


def _plausible_url_password(password: str) -> bool:
    from urllib.parse import unquote

    return plausible_secret_value(unquote(password)) or (
        len(password) >= 6 and re.sub(r"[^a-z0-9]", "", unquote(password).lower()) not in PLACEHOLDERS and any(c.isdigit() for c in password) and any(c.isalpha() for c in password)
    )


def _secret_span(match) -> tuple[int, int]:
    groups = [i for i, value in enumerate(match.groups(), start=1) if value]
    if groups:
        last = groups[-1]
        if len(match.group(last)) >= MIN_GROUP_SECRET or match.group(0).startswith("://"):
            return match.span(last)
    return match.span()


def _merge(spans: list[tuple[int, int, str]], text: str) -> list[SecretFinding]:
    findings: list[SecretFinding] = []
    # at the same start, the longest span first, and a token detector before a contextual one
    # before the generic ones (the order rules ran in never decides)
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1], _rank(s[2]), s[2])):
        if findings and start < findings[-1].end:
            last = findings[-1]
            named = kind if last.kind in _GENERIC and kind not in _GENERIC else last.kind
            if end > last.end or named != last.kind:
                findings[-1] = SecretFinding(named, last.start, max(end, last.end), last.line)
            continue
        findings.append(SecretFinding(kind, start, end, text.count("\n", 0, start) + 1))
    return findings


def _rank(kind: str) -> int:
    return 2 if kind in _GENERIC else 1 if kind in _CONTEXTUAL else 0


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


# --------------------------------------------------------------------------- detector tables


def load_detectors() -> None:
    """Load and compile every detector now rather than on the first text (about 0.2 s, mostly
    importing detect-secrets' plugins): a process about to fork workers calls it first, so that
    they start with them compiled."""
    _rules()
    _gates()
    _batch_gates()
    _re2_patterns()
    _gate_rules()


@cache
def _rules() -> tuple[_Detector | str, ...]:
    """Every rule: detect-secrets' regex plugins, ours, then ``"pem"`` and ``"keyword"``."""
    return tuple(rule for rule, _ in _rules_and_gates())


@cache
def _rules_and_gates() -> tuple[tuple[_Detector | str, str], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    pairs: list[tuple[_Detector | str, str]] = []
    # detect-secrets is untyped; Any keeps mypy's inference the same across its versions.
    plugins: dict[str, Any] = dict(get_mapping_from_secret_type_to_class())
    for secret_type in sorted(plugins):
        plugin_class: Any = plugins[secret_type]
        if secret_type in _EXCLUDED_TYPES or not issubclass(plugin_class, RegexBasedDetector):
            continue
        kind = _slug(secret_type)
        plugin: Any = cast(Any, plugin_class)()
        for regex in plugin.denylist:
            pairs.append((_Detector(kind, (_fast_regex(regex),)), _PLUGIN_GATES.get(kind) or _gate_source(regex)))
    for kind, source, gate in _EXTRA_PATTERNS:
        pairs.append((_Detector(kind, (_fast_regex(re.compile(source)),)), gate))
    pairs.append(("pem", _PEM_GATE))
    pairs.append(("keyword", _KEYWORD_GATE))
    return tuple(pairs)


@cache
def _gate_list() -> tuple[str, ...]:
    """The distinct gate patterns of the Set, in Set order; the last is the entropy rule's gate
    (:data:`_ENTROPY_RUN`)."""
    named = dict.fromkeys(gate for _, gate in _rules_and_gates() if gate != _ENTROPY_GATE_KEY)
    return (*named, _ENTROPY_RUN)


@cache
def _gate_rules() -> tuple[tuple[int, ...], ...]:
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
    plugins' secrets are capture groups, so the redacted span does not move.
    """
    import re2

    source = regex.pattern.replace(_WORD_START, "(?:^|\\W)")
    if regex.groups:  # a trailing "not followed by" may consume its character outside the secret group
        source = _NOT_FOLLOWED_BY.sub(lambda m: "(?:\\W|$)" if m.group(1) == "\\w" else f"(?:[^{m.group(1)[1:-1]}]|$)", source)
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
def _gates():
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


@cache
def _batch_gates():
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
def _re2_patterns():
    """The keyword-assignment and token-run patterns, compiled with RE2 (linear-time finditer)."""
    import re2

    return re2.compile(_KEYWORD_SOURCE), re2.compile(_ENTROPY_GATE)


def _entropy(token: str) -> float:
    """Shannon entropy in bits per character (the quantity detect-secrets' entropy plugins use,
    computed over the token's own characters instead of once per alphabet character: same value,
    a tenth of the time)."""
    length = len(token)
    return -sum(n / length * log2(n / length) for n in Counter(token).values())
