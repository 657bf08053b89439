"""Find and redact secrets in text: Yelp's detect-secrets detectors behind a one-pass RE2 prefilter.

Used by ingest redaction (every trajectory, right after parsing; :mod:`skillforge.ingest.redact`)
and by the skill safety scan, so both see the same secrets.

How a text is scanned (:func:`find_secrets`):

1. **Prefilter, one pass.** Every detector has a *gate* pattern; all gates are compiled into one
   ``re2.Set`` (google-re2, a DFA: linear time, no backtracking). One ``Set.Match`` over the text
   says which detectors can possibly match; a text no gate matches (most of them) costs that
   single pass. Texts shorter than :data:`MIN_SECRET_CHARS` are not scanned at all. Large ingests
   run the same gates with Hyperscan, when installed (:mod:`.hyperscan_gates`).
2. **Named detectors**, run with Python ``re`` only when their gate fired:

   * every regex plugin of detect-secrets (``detect_secrets.plugins``: AWS, GitHub, GitLab, Slack,
     Stripe, OpenAI, JWT, private-key headers, basic-auth URLs, SendGrid, Twilio, npm, PyPI, Azure
     storage, Discord, Telegram, Square, Mailchimp, Artifactory, Cloudant, IBM, SoftLayer), minus
     the public-IP plugin (addresses are not secrets);
   * patterns detect-secrets misses, added here (:data:`_EXTRA_PATTERNS`): JSON Web Tokens whole
     (detect-secrets' pattern stops before the signature), Google API keys and OAuth tokens,
     Hugging Face and npm tokens, Groq, Replicate, Slack app tokens, Azure ``SharedAccessKey``;
     whole PEM private-key blocks (also with ``
``-escaped newlines, as in service-account JSON);
     ``Authorization: Bearer``/``Basic`` headers;
   * tokens with a provider's secret prefix (``sk_live_``, ``sk-proj-``, ``xoxb-``, ``ghp_``…),
     whatever their length and to the end of their character class, and ``.env``-style
     ``NAME_KEY`` / ``NAME_TOKEN`` / ``NAME_SECRET`` assignments with a random-looking value
     (:mod:`skillforge.secret_scan.rules`).
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
from functools import lru_cache

from skillforge.secret_scan.detectors import (
    PEM_BLOCK,
    SECRET_WORDS,
    Detector,
    Rule,
    batch_gates,
    fast_gates,
    gate_rules,
    gates,
    re2_patterns,
    rules_in_order,
)
from skillforge.secret_scan.values import (
    ID_WINDOW_CHARS,
    MIN_ENTROPY_TOKEN,
    is_id_window,
    looks_random,
    plausible_secret_value,
    plausible_url_password,
)

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


BLOB_CHARS = 300
"""A base64 region at least this long is data (an image, an encrypted blob, a signature), not a key."""


ID_PREFIXES = frozenset(
    "toolu srvtoolu msg call req chatcmpl gen resp rs fc ws item run thread asst step evt file batch "
    "span trace ctx conv sess session job task tool cmpl completion chunk".split()
)
"""Prefixes of provider object ids (``toolu_…``, ``call_…``, ``chatcmpl-…``): random, but not secrets."""


_KEYWORD_NAME = re.compile(r"(?i)(?:^|[^A-Za-z0-9])(?:" + SECRET_WORDS + r")$|^(?:" + SECRET_WORDS + r")$")


_COUNT_NAME = re.compile(r"(?i)tokens$|_count$|^max_|^num_")


_BASE64_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"
"""The characters of a base64-ish region (url-safe and standard alphabets, padding)."""


_BARE_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z_$]*$")


# Value-checked kinds: a match of these is kept only when its value passes plausible_secret_value.
_VALUE_CHECKED = {"basic-auth-credentials", "bearer-token"}


_GENERIC = {"high-entropy-string", "secret-keyword"}


# Kinds found from their context (a URL's password part, a header's value) rather than from the
# token's own shape: where such a span equals a token detector's, the token's kind names it.
_CONTEXTUAL = {"basic-auth-credentials", "bearer-token"}


_SEPARATOR = "\n\x00\n"


OWN_PASS_CHARS = 2048
"""A text this long or longer is gated on its own (:func:`_scan`); shorter ones are joined."""


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
    once over the short texts joined (UTF-8, a NUL line between them, which no gate pattern
    crosses) and once over each long one (:func:`_scan`), and only the texts a gate fired in are
    scanned, by the rules of those gates. Long texts seen before (:data:`CACHE_MIN_CHARS`) are not
    scanned again.

    Returns:
        ``(texts, counts)``: the texts in the same order (unchanged ones are the same objects)
        and the number of secrets replaced per kind, kinds in the order of the texts they were
        first found in (whatever the cache held: ingest in worker processes relies on it).
    """
    out = list(texts)
    short: list[int] = []  # to scan, shorter than OWN_PASS_CHARS
    long: list[int] = []  # to scan, OWN_PASS_CHARS or longer
    fresh: list[int] = []  # to scan and then remember (CACHE_MIN_CHARS or longer)
    found_in: dict[int, Counter] = {}  # index of a text with secrets -> its counts
    cached_get = _CACHE.get
    for index, text in enumerate(texts):
        size = len(text)
        if size < CACHE_MIN_CHARS:
            if size >= MIN_SECRET_CHARS:
                short.append(index)
            continue
        cached = cached_get(text)
        if cached is not None:
            out[index] = cached[0]
            if cached[1]:
                found_in[index] = cached[1]
            continue
        fresh.append(index)
        (short if size < OWN_PASS_CHARS else long).append(index)
    if short or long:
        _scan(texts, short, long, out, found_in)
    nothing: Counter = Counter()
    for index in fresh:
        _remember(texts[index], out[index], found_in.get(index, nothing))
    counts: Counter = Counter()
    for index in sorted(found_in):
        counts.update(found_in[index])
    return out, counts


def _scan(texts: list[str], short: list[int], long: list[int], out: list[str], found_in: dict[int, Counter]) -> None:
    """Scan ``texts[i]`` for ``i`` in ``short`` and ``long``, write each redacted text to ``out[i]``
    and its counts to ``found_in[i]``.

    A text of :data:`OWN_PASS_CHARS` or more (``long``) gets a gate pass of its own, which says at
    once which gates fire in it; the shorter ones share one pass over them joined, and then each
    gate that fired is looked for again to find the texts it fired in (one more pass per gate,
    over the short texts only)."""
    match_gates = gates().Match
    fast = fast_gates()  # Hyperscan, for UTF-8 only (large inputs, when installed)
    match_utf8 = match_gates if fast is None else fast.Match
    for index in long:
        text = texts[index]
        data, utf8 = _utf8(text)
        if hits := (match_utf8 if utf8 else match_gates)(data):  # the rules search these bytes too
            _redact_one(index, text, hits, out, found_in, data)
    if short:
        pending = [texts[index] for index in short]
        joined, utf8 = _utf8(_SEPARATOR.join(pending))
        gate_hits = (match_utf8 if utf8 else match_gates)(joined)
        if gate_hits:
            fired = _fired_texts(joined, pending, gate_hits)
            for position in sorted(fired):
                _redact_one(short[position], pending[position], fired[position], out, found_in)


def _utf8(text: str) -> tuple[bytes, bool]:
    """``text`` in UTF-8, and whether that is valid UTF-8: a lone surrogate (which Python strings
    may hold) is written as ``surrogatepass`` writes it, which is not."""
    try:
        return text.encode("utf-8"), True
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass"), False


def _redact_one(
    index: int, text: str, hits, out: list[str], found_in: dict[int, Counter], data: bytes | None = None
) -> None:
    """Run the rules of the gates ``hits`` on ``text`` (``texts[index]``; ``data``: its UTF-8, when
    at hand); write what it becomes."""
    spans = list(_spans(text, hits, data))
    if spans:
        out[index], found_in[index] = _replace(text, _merge(spans, text))


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
    singles = batch_gates()
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


def _spans(text: str, hits=None, data: bytes | None = None) -> Iterator[tuple[int, int, str]]:
    """Spans of every rule whose gate fires in ``text``; ``hits`` (indices of the gates of
    :func:`gates` that fire, the entropy gate's included) are computed here unless the caller
    already knows them, as is ``text``'s UTF-8 (``data``; lone surrogates as ``surrogatepass``
    writes them)."""
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    if hits is None:
        hits = gates().Match(data) or ()
    rules = rules_in_order()
    gate_rules_of = gate_rules()
    # RE2 searches the bytes (its wrapper would encode a text again for every rule, and map the
    # offsets of every match); the offsets of an ASCII text's bytes are its characters', others'
    # are mapped for the matches a rule looks at (Python ``re`` rules search the text itself)
    chars = None if len(data) == len(text) else _CharOffsets(data)
    seen: set[int] = set()
    for gate in sorted(hits):
        for index in gate_rules_of[gate]:
            if index in seen:
                continue
            seen.add(index)
            if index < 0:
                yield from _entropy_spans(text, data, chars)
            else:
                yield from _run(rules[index], text, data, chars)


class _CharOffsets:
    """Character offsets of byte offsets into ``data``, a text's UTF-8 (at character boundaries, as
    RE2's matches are): counted from the last offset asked for, so a search's increasing offsets
    decode each byte about once."""

    __slots__ = ("data", "byte", "char")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.byte = 0
        self.char = 0

    def __call__(self, at: int) -> int:
        if at >= self.byte:
            self.char += len(self.data[self.byte : at].decode("utf-8", "surrogatepass"))
        else:
            self.char -= len(self.data[at : self.byte].decode("utf-8", "surrogatepass"))
        self.byte = at
        return self.char


def _run(rule: Rule, text: str, data: bytes, chars: _CharOffsets | None) -> Iterator[tuple[int, int, str]]:
    """The spans ``rule`` finds in ``text``: RE2 patterns search its UTF-8 ``data`` (``chars`` maps
    their offsets, None for an ASCII text), Python ``re`` patterns and span functions the text."""
    if callable(rule):
        yield from rule(text, data, chars)
    elif rule == "pem":
        for match in PEM_BLOCK.finditer(text):
            yield match.start(), match.end(), "private-key"
    elif rule == "keyword":
        yield from _keyword_spans(text, data, chars)
    else:
        assert isinstance(rule, Detector)
        for regex in rule.regexes:
            subject: str | bytes = text if isinstance(regex, re.Pattern) else data
            offsets = None if subject is text else chars
            for match in regex.finditer(subject):
                start, end = _secret_span(match, subject, offsets)
                if rule.kind in _VALUE_CHECKED and not plausible_secret_value(text[start:end]):
                    continue
                if rule.kind == "basic-auth-credentials" and not plausible_url_password(text[start:end]):
                    continue
                yield start, end, rule.kind


def _keyword_spans(text: str, data: bytes, chars: _CharOffsets | None) -> Iterator[tuple[int, int, str]]:
    for match in re2_patterns()[0].finditer(data):
        start, end = match.span(1)
        if chars is not None:
            start, end = chars(start), chars(end)
        if _COUNT_NAME.search(text[start:end]):
            continue
        group = next(g for g in (2, 3, 4, 5) if match.span(g)[0] >= 0)
        start, end = match.span(group)
        if chars is not None:
            start, end = chars(start), chars(end)
        value = text[start:end]
        if group == 5 and _BARE_IDENTIFIER.match(value):
            continue  # token = csrfToken, password: String: a variable or a type, not a value
        if plausible_secret_value(value):
            # a bare value's trailing full stop ends the sentence, not the secret
            yield start, end - (len(value) - len(value.rstrip(".")) if group == 5 else 0), "secret-keyword"


_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=_\-]*")
"""The bytes of :data:`_BASE64_TEXT`, as a run (to find where a base64-ish region ends)."""


_BASE64_BYTES = _BASE64_TEXT.encode("ascii")


def _entropy_spans(text: str, data: bytes, chars: _CharOffsets | None) -> Iterator[tuple[int, int, str]]:
    """The high-entropy tokens of ``text`` (module docstring, layer 4), found in its UTF-8 ``data``.

    Every character the rule looks at (a base64-ish region, the character before it) is ASCII,
    one byte in UTF-8, so the rule reads the bytes, which RE2 searches without mapping offsets;
    only a token it keeps has its offsets turned into character offsets (``chars``, None when
    ``text`` is ASCII: they are the same).
    """
    if len(text) < MIN_ENTROPY_TOKEN:
        return
    skip_until = -1
    for match in re2_patterns()[1].finditer(data):
        start, end = match.span()
        if start < skip_until:
            continue
        # the whole base64-ish region around the run (url-safe and standard alphabets, paths),
        # looked for at most BLOB_CHARS either way: a region reaching that far is a blob anyway
        window = data[max(0, start - BLOB_CHARS) : start]
        left = start - (len(window) - len(window.rstrip(_BASE64_BYTES)))
        right = _region_end(data, end, end + BLOB_CHARS)
        if right - left >= BLOB_CHARS:
            skip_until = _region_end(data, right, len(data))
            continue
        if left > 0 and data[left - 1] == 0x5C and start == left:  # a backslash
            start += 1  # "\nAbc…": the n belongs to the escape, not to the token
        token = data[start:end].decode("ascii")
        if not looks_random(token):
            continue
        before = data[left:start].decode("ascii")
        if "/" in before or b"/" in data[end:right] or (left > 0 and data[left - 1] in b"/.:@"):
            continue  # a path or URL segment
        if before and before[-1] in "_-" and any(part.lower() in ID_PREFIXES for part in re.split(r"[_\-]", before)):
            continue
        if is_id_window(_chars_before(data, left, ID_WINDOW_CHARS)):
            continue
        offset = start if chars is None else chars(start)
        yield offset, offset + end - start, "high-entropy-string"


def _chars_before(data: bytes, at: int, count: int) -> str:
    """The last ``count`` characters of UTF-8 ``data`` before byte ``at`` (a character boundary):
    they take at most four bytes each, and a character cut at the window's start is left out."""
    begin = max(0, at - 4 * count)
    while begin < at and 0x80 <= data[begin] < 0xC0:  # continuation bytes of a cut character
        begin += 1
    return data[begin:at].decode("utf-8", "surrogatepass")[-count:]


def _region_end(data: bytes, start: int, limit: int) -> int:
    """Where the base64-ish region of ``data`` that goes on at ``start`` ends (at most ``limit``)."""
    match = _BASE64_RUN.match(data, start, limit)
    return match.end() if match is not None else start


def _secret_span(match, subject: str | bytes, chars: _CharOffsets | None = None) -> tuple[int, int]:
    """The span (in characters) to redact for a detector's ``match`` in ``subject`` (a text, or its
    UTF-8 with ``chars`` mapping byte offsets when it is not ASCII): its last non-empty group when
    that is the secret value itself (long enough, or the password of a ``://`` URL), else the match."""
    for group in range(_group_count(match.re), 0, -1):
        start, end = match.span(group)
        if end > start >= 0:
            if chars is not None:
                start, end = chars(start), chars(end)
            if end - start >= MIN_GROUP_SECRET or subject[match.start() : match.start() + 3] in _URL_MARKS:
                return start, end
            break
    start, end = match.span()
    return (chars(start), chars(end)) if chars is not None else (start, end)


_URL_MARKS = ("://", b"://")


@lru_cache(maxsize=256)
def _group_count(regex) -> int:
    """The number of groups of a compiled ``re`` or RE2 pattern."""
    return regex.groups


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
