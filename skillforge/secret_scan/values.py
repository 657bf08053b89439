"""What a secret value looks like: placeholders, code references, entropy (shared by the scanner,
:mod:`skillforge.secret_scan`, and its extra rules, :mod:`skillforge.secret_scan.rules`).

The filters follow detect-secrets' heuristic filters for its keyword plugin
(``detect_secrets/filters/heuristic.py``); the entropy is Shannon's, as its entropy plugins use.
"""

from __future__ import annotations

import re
from collections import Counter
from math import log2

MIN_ENTROPY_TOKEN = 24
"""Shortest run of base64 alphanumerics the entropy rule looks at (22-character short UUIDs, as
Inspect AI uses for every id, stay below it)."""

HEX = frozenset("0123456789abcdefABCDEF")
"""Hex digits (a token made only of them is a hash or an id, not a secret)."""

_HEX_RUN = re.compile(r"[0-9a-fA-F]*")

_DIGIT = re.compile(r"[0-9]")


PLACEHOLDERS = frozenset(
    "password passwd pass pwd secret token apikey key changeme changeit example test testing none null nil "
    "true false undefined default user username admin root foo bar baz xxx redacted hidden masked dummy "
    "sample placeholder yourpassword yourtoken yourapikey yoursecret mypassword mytoken mysecret".split()
)
"""Values (lower-cased, letters and digits only) that stand in for a secret rather than being one."""


WORD = re.compile(r"[A-Z]?[a-z]{3,}")


EMAIL = re.compile(r"^[\w.+\-]+@[\w\-]+\.[\w.\-]+$")


CODE_REFERENCE = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|^[A-Z][A-Z0-9_]*$")


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
    if (
        normalized in PLACEHOLDERS
        or len(set(normalized)) <= 2
        or "xxxx" in lowered
        or "****" in value
        or "..." in value
        or "…" in value
    ):
        return False
    if "(" in value or "[" in value or CODE_REFERENCE.match(value) or EMAIL.match(value):
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


def entropy(token: str) -> float:
    """Shannon entropy in bits per character (the quantity detect-secrets' entropy plugins use,
    computed over the token's own characters instead of once per alphabet character: same value,
    a tenth of the time)."""
    length = len(token)
    return -sum(n / length * log2(n / length) for n in Counter(token).values())


def looks_random(token: str) -> bool:
    """True when ``token`` (a run of ASCII base64 alphanumerics) looks random: long enough, not hex, upper
    case, lower case and a digit, not a sequence or a word compound, entropy at its length's limit."""
    if len(token) < MIN_ENTROPY_TOKEN or _HEX_RUN.fullmatch(token):
        return False
    # upper case, lower case and a digit (ASCII: the characters of a base64 run), each found in C
    if token.lower() == token or token.upper() == token or not _DIGIT.search(token):
        return False
    from detect_secrets.filters.heuristic import is_sequential_string

    if is_sequential_string(token) or sum(len(word) for word in WORD.findall(token)) * 2 >= len(token):
        return False  # an identifier made of words (ThreadSafeFinalizeIvZNS), not random
    return entropy(token) >= entropy_limit(len(token))


ID_KEY = re.compile(
    r"(?i)(?:^|[^a-z0-9])(?:id|ids|uuid|guid|hash|sha|digest|checksum|etag|nonce|[a-z]+_id|[a-z]+Id)"
    r'[\\"\']*\s*[:=]\s*[\\"\']*$'
)


ID_WINDOW_CHARS = 40
"""How many characters before a token :func:`is_id_window` is given."""


def is_id_window(window: str) -> bool:
    """True when ``window``, the :data:`ID_WINDOW_CHARS` characters before a token, ends with an
    id-like field name and its assignment (``"request_id": "``): the token is an id's value."""
    return bool(ID_KEY.search(window))


def plausible_url_password(password: str) -> bool:
    """True when the password of a ``user:password@host`` URL (percent-encoded) looks real."""
    from urllib.parse import unquote

    return plausible_secret_value(unquote(password)) or (
        len(password) >= 6
        and re.sub(r"[^a-z0-9]", "", unquote(password).lower()) not in PLACEHOLDERS
        and any(c.isdigit() for c in password)
        and any(c.isalpha() for c in password)
    )
