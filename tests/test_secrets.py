"""Secret detection shared by ingest redaction and the skill safety scan (first cut)."""

from __future__ import annotations

import re

import pytest

from skillforge.secret_scan import find_secrets, redact_text
from skillforge.secret_scan.rules import PREFIXES


def test_common_secrets_are_redacted() -> None:
    text = "\n".join(
        [
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "token: ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "postgres://user:s3cretPass@db.example.com/x",
            "DB_PASSWORD=s3cr3tvalue123",
            "-----BEGIN RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEA1234abcd",
            "-----END RSA PRIVATE KEY-----",
        ]
    )
    redacted, counts = redact_text(text)
    for secret in (
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "s3cretPass",
        "s3cr3tvalue123",
        "MIIEowIBAAKCAQEA1234abcd",
    ):
        assert secret not in redacted
    assert counts["aws-access-key"] == 1 and counts["github-token"] == 1 and counts["private-key"] == 1
    assert "[REDACTED:basic-auth-credentials]" in redacted
    assert [f.line for f in find_secrets(text)][:2] == [1, 2]


def test_ordinary_log_text_is_kept() -> None:
    text = "Error: flight HAT030 not available on date 2024-05-13\nsha256 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert redact_text(text) == (text, {})


# issue 16: prefixed tokens whatever their length, JWTs and long GitHub tokens whole

_PREFIX_EXAMPLES = {
    "sk_live_": "A", "rk_live_": "A", "sk_test_": "A", "rk_test_": "A",
    "sk-proj-": "A_", "sk-svcacct-": "A_", "sk-admin-": "A_",
    "sk-ant-api03-": "A_", "sk-ant-admin01-": "A_", "sk-ant-oat01-": "A_",
    "xoxb-": "A-", "xoxp-": "A-", "xoxa-": "A-", "xoxe.xoxp-": "A-", "xapp-": "A-",
    "ghp_": "A_", "gho_": "A_", "ghu_": "A_", "ghs_": "A_", "ghr_": "A_", "github_pat_": "A_",
    "glpat-": "A_", "gldt-": "A_", "glrt-": "A_", "glptt-": "A_", "pypi-AgE": "A_",
    "dop_v1_": "f", "doo_v1_": "f", "shpat_": "f", "shpss_": "f", "sq0csp-": "A_", "sq0atp-": "A_",
}  # fmt: skip
"""A concrete prefix for every entry of PREFIXES, with the alphabet of its body: ``A`` letters and
digits, ``f`` lower-case hex, plus the listed punctuation."""


def _body(alphabet: str, length: int, seed: int) -> str:
    import random
    import string

    chars = string.hexdigits.lower()[:16] if alphabet == "f" else string.ascii_letters + string.digits + alphabet[1:]
    rng = random.Random(seed)
    return "".join(rng.choice(chars) for _ in range(length))


@pytest.mark.parametrize("prefix", sorted(_PREFIX_EXAMPLES))
@pytest.mark.parametrize("length", [7, 36, 180])
def test_a_token_with_a_secret_prefix_is_redacted_whole_whatever_its_length(prefix: str, length: int) -> None:
    token = prefix + _body(_PREFIX_EXAMPLES[prefix], length, length)
    redacted, counts = redact_text(f"used {token} here")
    assert redacted == f"used [REDACTED:{next(iter(counts))}] here" and sum(counts.values()) == 1, redacted
    kinds = {p.kind for p in PREFIXES if re.match(p.prefix, prefix)}
    assert set(counts) <= kinds | {"github-token", "slack-token", "gitlab-token", "high-entropy-string"}


def test_every_listed_prefix_has_a_source_and_an_example() -> None:
    for entry in PREFIXES:
        assert entry.source and any(re.fullmatch(entry.prefix, example) for example in _PREFIX_EXAMPLES), entry


def test_jwt_and_long_github_token_leave_nothing_behind() -> None:
    jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    github = "ghp_" + _body("A", 52, 1)
    expected = ("Cookie: session=[REDACTED:json-web-token]; Path=/", {"json-web-token": 1})
    assert redact_text(f"Cookie: session={jwt}; Path=/") == expected
    assert redact_text(f"token: {github}.")[0] == "token: [REDACTED:github-token]."


def test_env_style_names_redact_random_values_only() -> None:
    random_value = _body("A", 20, 2)
    for line in (
        f"STRIPE_KEY={random_value}",
        f"export SERVICE_TOKEN='{random_value}'",
        f'APP_SECRET: "{random_value}"',
    ):
        assert random_value not in redact_text(line)[0], line
    kept = ("SORT_KEY=created_at_desc", "PRIMARY_KEY=user_id", "ROUTE_KEY=ABCDEF123456", "PUBLIC_KEY=/etc/ssl/app.pem")
    for line in kept:
        assert redact_text(line) == (line, {}), line


def _looks_random_one_by_one(token: str) -> bool:
    """looks_random's rule read character by character (the slow, obvious way): the oracle."""
    from detect_secrets.filters.heuristic import is_sequential_string

    from skillforge.secret_scan.values import HEX, MIN_ENTROPY_TOKEN, WORD, entropy, entropy_limit

    if len(token) < MIN_ENTROPY_TOKEN or all(c in HEX for c in token):
        return False
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)):
        return False
    if is_sequential_string(token) or sum(len(word) for word in WORD.findall(token)) * 2 >= len(token):
        return False
    return entropy(token) >= entropy_limit(len(token))


def test_looks_random_equals_a_character_by_character_reading(shared_traces) -> None:
    """looks_random (class and hex checks run with str methods and regexes) gives what the rule read
    character by character gives, on every base64 run of the real corpus and on random tokens
    each missing one class (or only hex)."""
    import random

    from skillforge.secret_scan.values import looks_random

    runs = {
        match.group()
        for path in shared_traces.rglob("*.json*")
        for match in re.finditer(r"[A-Za-z0-9+]{24,}", path.read_text(errors="replace"))
    }
    pick = random.Random(7)
    alphabets = ("abcdefghij0123456789", "ABCDEFGHIJ0123456789", "abcdefghijABCDEFGHIJ", "0123456789abcdef", "aB3")
    for alphabet in alphabets:
        runs.update("".join(pick.choice(alphabet) for _ in range(pick.randint(20, 60))) for _ in range(100))
    verdicts = {token: looks_random(token) for token in runs}
    assert verdicts == {token: _looks_random_one_by_one(token) for token in runs}
    assert len(runs) > 1000 and 0 < sum(verdicts.values()) < len(runs)


def _entropy_spans_by_character(text: str) -> list[tuple[int, int, str]]:
    """The entropy rule read on the text's characters (as it was before it read UTF-8 bytes): the
    oracle for the byte reading."""
    import skillforge.secret_scan as scan
    from skillforge.secret_scan.values import ID_KEY, MIN_ENTROPY_TOKEN, looks_random

    base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"
    spans, skip_until = [], -1
    if len(text) < MIN_ENTROPY_TOKEN:
        return spans

    def region_end(at: int, limit: int) -> int:
        while at < min(limit, len(text)) and text[at] in base64:
            at += 1
        return at

    for match in re.finditer(r"[A-Za-z0-9+]{24,}={0,2}", text, re.ASCII):
        start, end = match.span()
        if start < skip_until:
            continue
        left = start
        while left > max(0, start - scan.BLOB_CHARS) and text[left - 1] in base64:
            left -= 1
        right = region_end(end, end + scan.BLOB_CHARS)
        if right - left >= scan.BLOB_CHARS:
            skip_until = region_end(right, len(text))
            continue
        if left > 0 and text[left - 1] == "\\" and start == left:
            start += 1
        before = text[left:start]
        if not looks_random(text[start:end]):
            continue
        if "/" in before or "/" in text[end:right] or (left > 0 and text[left - 1] in "/.:@"):
            continue
        if before and before[-1] in "_-" and any(p.lower() in scan.ID_PREFIXES for p in re.split(r"[_\-]", before)):
            continue
        if ID_KEY.search(text[max(0, left - 40) : left]):
            continue
        spans.append((start, end, "high-entropy-string"))
    return spans


def _texts_beyond_ascii(count: int) -> list[str]:
    """Texts mixing characters of two, three and four UTF-8 bytes (and lone surrogates, Unicode
    spaces, letters that fold to ASCII) with secrets of every rule, ids and base64 runs."""
    import random

    pick = random.Random(5)
    wide = ["é", "日本語", "😀", "ß", "\u00a0", "\u3000", "ſ", "\u212a", "ü", "\ud800"]
    values = [
        "Abc{}def12",
        "sk_live_{}abcdEFGH1234567890",
        "AKIAIOSFODNN7EXAMPL{}",
        "ghp_{}aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{}sig_Abc123",
        "aB3dE5gH7jK9mN1pQ3sT5vX7zA9c{}",
        "q8ZpL2vN7xR4tY6wK1mB9cD3fG5hJ0sA{}",
    ]
    shapes = [
        'password="{v}"',
        "token: '{v}'",
        "Authorization: Bearer {v}",
        "https://user{n}:{v}@host.example/x",
        "{n}{v}{n}",
        "export MY_TOKEN={v}",
        '"request_id":{n} "{v}"',
        "path/{v}/x",
        "\\n{v}",
        "AccountKey={v}==",
        "toolu_{v}",
    ]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(pick.randint(1, 5)):
            noise = "".join(pick.choice(wide) for _ in range(pick.randint(0, 3)))
            value = pick.choice(values).format(noise if pick.random() < 0.5 else "")
            parts.append(pick.choice(shapes).format(v=value, n=noise))
            parts.append(pick.choice([" ", "\n", noise, " , ", noise * 9]))
        texts.append(pick.choice(wide) + "".join(parts))
    return texts


def test_rules_read_utf8_bytes_and_give_the_spans_of_the_characters() -> None:
    """The rules search a text's UTF-8 (RE2 then maps no offsets per match) and report character
    offsets: on texts beyond ASCII, every rule whose gate fires gives the spans its pattern gives
    read on the text itself (RE2's wrapper mapping the offsets; for the entropy rule, the rule
    read character by character), and whole texts redact without error."""
    import skillforge.secret_scan as scan
    from skillforge.secret_scan.detectors import gate_rules, gates, rules_in_order

    texts = _texts_beyond_ascii(1500)
    rules, opened = rules_in_order(), gate_rules()
    checked = found = 0
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        assert len(data) > len(text)
        for gate in gates().Match(data) or ():
            for index in opened[gate]:
                if index < 0:
                    spans = list(scan._entropy_spans(text, data, scan._CharOffsets(data)))
                    assert spans == _entropy_spans_by_character(text), text
                elif "\ud800" not in text:  # RE2's wrapper cannot encode a lone surrogate itself
                    spans = list(scan._run(rules[index], text, data, scan._CharOffsets(data)))
                    assert spans == list(scan._run(rules[index], text, text, None)), (rules[index], text)
                checked += 1
                found += bool(spans)
        redacted, counts = redact_text(text)
        assert sum(counts.values()) == redacted.count("[REDACTED:")
    assert checked > 5000 and found > 2000


def test_secrets_in_a_batch_of_short_texts_are_found_as_in_each_text_alone() -> None:
    """redact_texts gates the short texts joined (a newline-NUL-newline between them) and then finds
    which texts each gate fired in: every secret is found as in its text scanned alone, also one at
    the very start of a text (a gate must fire inside its own text, not on the separator), and
    words that merely contain a detector's letters ("CAPE", "MAPBOX") open no gate."""
    from skillforge.secret_scan import redact_texts
    from skillforge.secret_scan.detectors import _gate_list, gates

    artifactory = ["AKCp8jQ7gT2rXkWd", "APBt9Lq2Wx8ZkR", "AP6xhKqLm2ZtPp"]
    texts = ["plain words", *artifactory]
    texts += [f"{before}{token} end" for token in artifactory for before in (" ", "=", ":", '"', "\n")]
    texts += ["not a token: xAKCp8jQ7gT2rXkWd"]
    texts += [text for text in _texts_beyond_ascii(600) if len(text) < 1024]
    batch, counts = redact_texts(texts)
    single = [redact_text(text) for text in texts]
    assert batch == [redacted for redacted, _ in single]
    assert counts["artifactory-credentials"] == 3 * 6 == sum(c["artifactory-credentials"] for _, c in single)
    artifactory_gate = next(i for i, gate in enumerate(_gate_list()) if "AKC" in gate)
    assert artifactory_gate not in (gates().Match(b"CAPE MAPBOX SNAPDRAGON XAPB0") or ())
