"""Two secret rules the scanner (:mod:`skillforge.secret_scan`) adds to detect-secrets' detectors.

* **Provider prefixes** (:data:`PREFIXES`, :func:`prefixed_spans`): a token that starts with a
  prefix a provider reserves for secrets (``sk_live_``, ``sk-proj-``, ``xoxb-``, ``ghp_``…) is a
  secret whatever its length, and it ends where the provider's character class ends. Fixed-length
  patterns (detect-secrets' GitHub rule takes 36 characters) leave the tail of a longer token in
  clear and miss a shorter one; these rules take the whole run. Prefixes that also begin ordinary
  identifiers (``hf_hub_download``, ``npm_config``) stay with their length-checked patterns in
  :mod:`skillforge.secret_scan`.
* **Secret-named variables** (:func:`env_spans`, :func:`is_env_secret_name`): an environment-style
  assignment ``NAME_KEY=value``, ``NAME_TOKEN=…``, ``NAME_SECRET=…`` (a ``.env`` line, ``export``,
  a YAML ``NAME_KEY: value``, also inside JSON-escaped text) whose value looks random
  (:func:`random_value`) is redacted because of its name, as a dict key with such a name is in
  tool-call arguments. ``_KEY`` alone is too common a suffix (``SORT_KEY=created_at``) to redact
  any value, hence the randomness test; names that end with a stronger secret word (``_PASSWORD``,
  ``_API_KEY``) are handled by the keyword rule of :mod:`skillforge.secret_scan`.

Both yield ``(start, end, kind)`` spans of the secret value, as every rule of the scanner does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from skillforge.secret_scan.values import HEX, PLACEHOLDERS, WORD, entropy, entropy_limit, plausible_secret_value

ESCAPES = ("\\n", "\\r", "\\t")
"""JSON and shell escapes a token may directly follow in escaped text (``"…\\nghp_…"``)."""


@dataclass(frozen=True)
class TokenPrefix:
    """A prefix a provider reserves for its secrets.

    Attributes:
        kind: the slug findings get (the same one detect-secrets' detector of that provider uses).
        prefix: RE2 pattern of the prefix (case-sensitive).
        body: RE2 character class of the characters after the prefix; the token ends where it ends.
        source: where the format is documented.
    """

    kind: str
    prefix: str
    body: str
    source: str


PREFIXES: tuple[TokenPrefix, ...] = (
    TokenPrefix(
        "stripe-access-key",
        r"(?:sk|rk)_(?:live|test|prod)_",
        "[A-Za-z0-9]",
        "docs.stripe.com/keys (secret sk_, restricted rk_ keys)",
    ),
    TokenPrefix(
        "openai-token",
        r"sk-(?:proj|svcacct|admin)-",
        r"[A-Za-z0-9_\-]",
        "platform.openai.com/api-keys (project, service-account and admin keys); gitleaks rules/openai.go",
    ),
    TokenPrefix(
        "anthropic-api-key",
        r"sk-ant-(?:api|admin|oat|ort)[0-9]{2}-",
        r"[A-Za-z0-9_\-]",
        "gitleaks cmd/generate/config/rules/anthropic.go (api03, admin01, oat01, ort01)",
    ),
    TokenPrefix(
        "slack-token",
        r"(?:xox[abprse]|xoxe\.xox[bp]|xapp)-",
        r"[A-Za-z0-9\-]",
        "api.slack.com/authentication/token-types; gitleaks rules/slack.go",
    ),
    TokenPrefix(
        "github-token",
        r"(?:gh[pousr]|github_pat)_",
        "[A-Za-z0-9_]",
        "github.blog/2021-04-05-behind-githubs-new-authentication-token-formats; fine-grained github_pat_ (2022-10-18)",
    ),
    TokenPrefix(
        "gitlab-token",
        r"gl(?:pat|dt|rt|ptt|ft|ffct|imt|agent|oas|cbt|soat)-",
        r"[A-Za-z0-9_.\-]",
        "docs.gitlab.com/ee/security/tokens/#token-prefixes",
    ),
    TokenPrefix(
        "pypi-token",
        "pypi-AgE",
        r"[A-Za-z0-9_\-]",
        "pypi.org/help/#apitoken (macaroons, base64 of a header starting AgE)",
    ),
    TokenPrefix(
        "digitalocean-token",
        "do[por]_v1_",
        "[a-f0-9]",
        "docs.digitalocean.com/reference/api/create-personal-access-token (dop_v1_, doo_v1_, dor_v1_)",
    ),
    TokenPrefix(
        "shopify-token", "shp(?:at|ss|ca|pa)_", "[a-fA-F0-9]", "shopify.dev access tokens; gitleaks rules/shopify.go"
    ),
    TokenPrefix(
        "square-oauth-secret",
        "sq0(?:csp|atp)-",
        r"[A-Za-z0-9_\-]",
        "developer.squareup.com/docs/build-basics/access-tokens",
    ),
)
"""Provider prefixes whose tokens are redacted whatever their length (see the module docstring)."""

PLACEHOLDER_WORDS = (
    "xxx",
    "...",
    "***",
    "your",
    "example",
    "sample",
    "placeholder",
    "redacted",
    "dummy",
    "fake",
    "token",
    "secret",
    "here",
)
"""Words in a token's body that mark a documentation placeholder (``sk_live_YOUR_KEY``, ``xoxb-xxx``)."""

ENV_SUFFIXES = ("KEY", "TOKEN", "SECRET")
MIN_ENV_VALUE = 12
"""Shortest value a secret-named variable's randomness is judged on (characters)."""

HEX_ENTROPY_LIMIT = 3.0
"""Bits per character a hex value must reach (detect-secrets' default limit for hex strings; a
hex digit carries at most 4)."""

_ENV_NAME = r"[A-Z][A-Z0-9_]*_(?:" + "|".join(ENV_SUFFIXES) + ")S?"
_ENV_SOURCE = (
    r"(?:^|[^A-Za-z0-9_]|\\[nrt])\\?[\"']?("
    + _ENV_NAME
    + r")\\?[\"']?[ \t]*(?:=|:)[ \t]*\\?[\"'`]?([^\s\"'`\\,;&|)}\]]+)"
)
ENV_GATE = r"_(?:" + "|".join(ENV_SUFFIXES) + r")S?\\?[\"']?[ \t]*[=:]"
"""RE2 pattern that fires wherever :func:`env_spans` can find something."""
_ENV_NAME_ONLY = re.compile(r"^" + _ENV_NAME + r"$")


def prefix_gate() -> str:
    """RE2 pattern that fires wherever :func:`prefixed_spans` can find something (the prefixes)."""
    return "|".join(f"(?:{p.prefix})" for p in PREFIXES)


@cache
def _prefix_regex():
    """One RE2 pattern: groups ``2i + 1`` and ``2i + 2`` are the token and the body of ``PREFIXES[i]``."""
    import re2

    return re2.compile("|".join(f"((?:{p.prefix})({p.body}+))" for p in PREFIXES))


@cache
def _env_regex():
    import re2

    return re2.compile(_ENV_SOURCE)


def prefixed_spans(
    text: str, data: bytes | None = None, chars: Callable[[int], int] | None = None
) -> Iterator[tuple[int, int, str]]:
    """Tokens in ``text`` with a prefix of :data:`PREFIXES`, each to the end of its character class.

    A prefix counts only at the start of a token: not right after a letter or digit (``task_live_``
    is not ``sk_live_``), except after a JSON or shell escape (``\\n``). Trailing dots are not part
    of a token (the end of a sentence); a body that is a documentation placeholder
    (:data:`PLACEHOLDER_WORDS`, one repeated character) is not a secret.

    Args:
        text: the text.
        data: its UTF-8, searched instead when given; ``chars`` then maps its byte offsets to
            character offsets (None when the text is ASCII: they are the same).

    Yields:
        ``(start, end, kind)`` for each token, in characters.
    """
    for match in _prefix_regex().finditer(text if data is None else data):
        index = next(i for i in range(len(PREFIXES)) if match.group(2 * i + 1) is not None)
        (start, end), body_start = match.span(2 * index + 1), match.start(2 * index + 2)
        if chars is not None:
            start, body_start, end = chars(start), chars(body_start), chars(end)
        if start > 0 and text[start - 1].isalnum() and text[max(0, start - 2) : start] not in ESCAPES:
            continue
        whole = text[body_start:end]
        body = whole.rstrip(".")
        if body and not _placeholder(body):
            yield start, end - (len(whole) - len(body)), PREFIXES[index].kind


def _placeholder(body: str) -> bool:
    lowered = body.lower()
    return (
        len(set(lowered.strip("-_"))) <= 2
        or re.sub(r"[^a-z0-9]", "", lowered) in PLACEHOLDERS
        or any(word in lowered for word in PLACEHOLDER_WORDS)
    )


def env_spans(
    text: str, data: bytes | None = None, chars: Callable[[int], int] | None = None
) -> Iterator[tuple[int, int, str]]:
    """Values of environment-style variables named ``*_KEY``, ``*_TOKEN`` or ``*_SECRET`` (upper
    case, as ``.env`` files write them) that look random (:func:`random_value`).

    Args:
        text, data, chars: as :func:`prefixed_spans` takes them.

    Yields:
        ``(start, end, "secret-keyword")`` for each value, in characters.
    """
    for match in _env_regex().finditer(text if data is None else data):
        start, end = match.span(2)
        if chars is not None:
            start, end = chars(start), chars(end)
        if random_value(text[start:end]):
            yield start, end, "secret-keyword"


@lru_cache(maxsize=4096)
def is_env_secret_name(name: str) -> bool:
    """True for an upper-case variable name ending in ``_KEY``, ``_TOKEN`` or ``_SECRET`` (plural too)."""
    return bool(_ENV_NAME_ONLY.match(name))


def random_value(value: str) -> bool:
    """True when ``value`` looks like a generated key rather than a word, path or setting.

    It must pass :func:`skillforge.secret_scan.values.plausible_secret_value` (no placeholder, path, URL,
    code reference or number; two character classes), hold at least :data:`MIN_ENV_VALUE`
    characters, not be mostly English-like words (``user_profile_v2``) nor a sequence
    (``ABCDEF123456``, detect-secrets' ``is_sequential_string``), and reach a Shannon entropy of
    :data:`HEX_ENTROPY_LIMIT` bits per character for hex (dashes aside: UUIDs), else
    :func:`skillforge.secret_scan.values.entropy_limit` for its length.
    """
    value = value.strip()
    if len(value) < MIN_ENV_VALUE or not plausible_secret_value(value):
        return False
    if sum(len(word) for word in WORD.findall(value)) * 2 >= len(value):
        return False
    from detect_secrets.filters.heuristic import is_sequential_string

    if is_sequential_string(value):
        return False
    core = value.replace("-", "")
    if core and all(c in HEX for c in core):
        return entropy(core) >= min(HEX_ENTROPY_LIMIT, entropy_limit(len(core)))
    return entropy(value) >= entropy_limit(len(value))
