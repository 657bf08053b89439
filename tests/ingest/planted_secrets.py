"""A corpus of realistic secrets, generated at test time (never committed: push protection and
secret scanners must not see real-looking keys in the repository).

Each secret follows its provider's published format (prefix, alphabet, length) and is random, so
a detector cannot pass by knowing documentation examples. ``PLANTED`` lists ``(kind, context,
secret)``: ``context`` is the text around it as it appears in a log (``{}`` marks the secret), and
``kind`` is the family the test expects at least one detector to cover.
"""

from __future__ import annotations

import base64
import random
import string

_RNG = random.Random(20260222)
ALNUM = string.ascii_letters + string.digits


def _pick(alphabet: str, n: int) -> str:
    while True:
        value = "".join(_RNG.choice(alphabet) for _ in range(n))
        # random strings of these lengths practically always mix classes; keep it certain
        if alphabet != ALNUM or (
            any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value)
        ):
            return value


def _jwt() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    payload = (
        base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"deploy-bot","iat":1716239022}').rstrip(b"=").decode()
    )
    return f"{header}.{payload}.{_pick(ALNUM + '-_', 43)}"


def _pem() -> str:
    body = base64.b64encode(bytes(_RNG.getrandbits(8) for _ in range(600))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----"


def _discord() -> str:
    return f"M{_pick(ALNUM, 23)}.{_pick(ALNUM, 6)}.{_pick(ALNUM + '-_', 27)}"


PLANTED: list[tuple[str, str, str]] = [
    ("aws-access-key", "export AWS_ACCESS_KEY_ID={}", "AKIA" + _pick(string.ascii_uppercase + string.digits, 16)),
    ("aws-access-key", "aws_access_key_id = {}", "ASIA" + _pick(string.ascii_uppercase + string.digits, 16)),
    ("aws-secret", 'aws_secret_access_key = "{}"', _pick(ALNUM + "+/", 40)),
    ("github-token", "git clone https://x-access-token:{}@github.com/acme/app.git", "ghp_" + _pick(ALNUM, 36)),
    ("github-token", "GITHUB_TOKEN={}", "gho_" + _pick(ALNUM, 36)),
    ("github-token", "token: {}", "github_pat_" + _pick(ALNUM, 22) + "_" + _pick(ALNUM, 59)),
    (
        "gitlab-token",
        "curl --header 'PRIVATE-TOKEN: {}' https://gitlab.example.com/api/v4/projects",
        "glpat-" + _pick(ALNUM, 20),
    ),
    (
        "slack-token",
        "SLACK_BOT_TOKEN={}",
        f"xoxb-{_pick(string.digits, 12)}-{_pick(string.digits, 13)}-{_pick(string.ascii_lowercase + string.digits, 24)}",
    ),
    (
        "slack-webhook",
        "posting to {}",
        f"https://hooks.slack.com/services/T{_pick(string.ascii_uppercase + string.digits, 8)}/B{_pick(string.ascii_uppercase + string.digits, 10)}/{_pick(ALNUM, 24)}",
    ),
    ("stripe-key", "stripe.api_key = '{}'", "sk_live_" + _pick(ALNUM, 24)),
    ("stripe-key", "STRIPE_SECRET={}", "rk_test_" + _pick(ALNUM, 40)),
    ("openai-key", "OPENAI_API_KEY={}", "sk-proj-" + _pick(ALNUM + "-_", 100)),
    ("openai-key", "client = OpenAI(api_key='{}')", "sk-" + _pick(ALNUM, 20) + "T3BlbkFJ" + _pick(ALNUM, 20)),
    ("anthropic-key", "x-api-key: {}", "sk-ant-api03-" + _pick(ALNUM + "-_", 93) + "AA"),
    ("google-api-key", "https://maps.googleapis.com/maps/api/geocode/json?key={}", "AIza" + _pick(ALNUM + "-_", 35)),
    ("google-oauth", "access token {}", "ya29." + _pick(ALNUM + "-_", 120)),
    ("jwt", "Cookie: session={}", _jwt()),
    ("private-key", "{}", _pem()),
    ("basic-auth-url", "DATABASE_URL=postgres://app_user:{}@db.internal:5432/app", _pick(ALNUM, 14) + "!"),
    ("basic-auth-url", "redis://default:{}@cache.prod.example.net:6379/0", _pick(ALNUM, 24)),
    ("env-assignment", "DB_PASSWORD={}", _pick(ALNUM, 10) + "#" + _pick(ALNUM, 5)),
    ("env-assignment", 'SECRET_KEY = "{}"', _pick(ALNUM + "!@%^*-_", 50)),
    ("env-assignment", 'password: "{}"', "Tr0ub4dor&" + _pick(string.digits, 3)),
    ("bearer", "Authorization: Bearer {}", _pick(ALNUM, 40)),
    ("bearer", "curl -H 'authorization: bearer {}' https://api.example.com/v1/me", _pick(ALNUM + "._-", 64)),
    ("sendgrid", "SENDGRID_API_KEY={}", f"SG.{_pick(ALNUM + '-_', 22)}.{_pick(ALNUM + '-_', 43)}"),
    ("npm-token", "//registry.npmjs.org/:_authToken={}", "npm_" + _pick(ALNUM, 36)),
    ("huggingface", "huggingface-cli login --token {}", "hf_" + _pick(string.ascii_letters, 34)),
    ("pypi", "password = {}", "pypi-AgEIcHlwaS5vcmc" + _pick(ALNUM + "-_", 80)),
    ("twilio", "TWILIO_API_KEY_SID {}", "SK" + _pick(string.hexdigits.lower()[:16], 32)),
    (
        "telegram",
        "https://api.telegram.org/bot{}/sendMessage",
        f"{_pick(string.digits, 9)}:AA{_pick(ALNUM + '-_', 33)}",
    ),
    ("discord", "DISCORD_BOT {}", _discord()),
    (
        "azure-storage",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net",
        _pick(ALNUM + "+/", 86) + "==",
    ),
    ("mailchimp", "mailchimp key {}", _pick(string.hexdigits.lower()[:16], 32) + "-us12"),
    ("square", "SQUARE_SECRET {}", "sq0csp-" + _pick(ALNUM + "-_", 43)),
    ("digitalocean", "doctl auth init -t {}", "dop_v1_" + _pick(string.hexdigits.lower()[:16], 64)),
    ("shopify", "X-Shopify-Access-Token: {}", "shpat_" + _pick(string.hexdigits.lower()[:16], 32)),
    ("high-entropy", "the deploy key is {} (rotate it monthly)", _pick(ALNUM, 40)),
    # issue 16: a JWT with a long signature, tokens longer than their usual length
    ("jwt", "Authorization: JWT {}", _jwt() + _pick(ALNUM + "-_", 300)),
    ("github-token", "remote: https://{}@github.com/acme/app.git", "ghp_" + _pick(ALNUM, 48)),
    ("github-token", "runner token {} issued", "ghs_" + _pick(ALNUM + "_", 70)),
    (
        "slack-token",
        "slack bot {} posted",
        f"xoxb-{_pick(string.digits, 13)}-{_pick(string.digits, 13)}-" + _pick(ALNUM, 24),
    ),
    # a provider's secret prefix, whatever the length
    ("prefixed-short", "charged with {} then refunded", "sk_live_" + _pick(ALNUM, 12)),
    ("prefixed-short", "restricted key {} for reports", "rk_live_" + _pick(ALNUM, 9)),
    ("prefixed-short", "curl -u {}: https://api.example.com", "sk-proj-" + _pick(ALNUM + "-_", 16)),
    ("prefixed-short", "bot={} channel=#ops", "xoxb-" + _pick(string.digits, 6) + "-" + _pick(ALNUM, 7)),
    ("prefixed-short", "clone with {} please", "ghp_" + _pick(ALNUM, 20)),
    ("prefixed-short", "deploy {} ok", "glpat-" + _pick(ALNUM + "_-", 12)),
    ("prefixed-short", "admin {} rotated", "sk-ant-admin01-" + _pick(ALNUM + "_-", 24)),
    # .env-style lines whose name ends in _KEY / _TOKEN / _SECRET, a random value
    ("env-by-name", "STRIPE_KEY={}", _pick(ALNUM, 18)),
    ("env-by-name", "export MAILGUN_SIGNING_KEY='{}'", _pick(string.hexdigits.lower()[:16], 32)),
    ("env-by-name", '  ALGOLIA_ADMIN_KEY: "{}"', _pick(ALNUM, 32)),
    ("env-by-name", "PUSHER_APP_SECRET={}", _pick(string.ascii_lowercase + string.digits, 20)),
    ("env-by-name", "CI_DEPLOY_TOKEN={} ./deploy.sh", _pick(ALNUM + "_-", 26)),
    ("env-by-name", "AWS_SESSION_TOKEN={}", _pick(ALNUM + "+/", 400)),
    # secrets in file paths and in JSON-escaped strings (a log inside a log)
    ("in-path", "cat /home/dev/.config/tokens/{}.json", "ghp_" + _pick(ALNUM, 36)),
    ("in-path", "open('/srv/keys/{}/id')", "sk_live_" + _pick(ALNUM, 24)),
    ("json-escaped", '"{{\\"env\\": \\"OPENAI_API_KEY={}\\"}}"', "sk-proj-" + _pick(ALNUM + "-_", 60)),
    (
        "json-escaped",
        '"output": "line one\\n{}\\nline two"',
        "xoxb-" + _pick(string.digits, 12) + "-" + _pick(ALNUM, 24),
    ),
    ("json-escaped", '{{\\"STRIPE_KEY\\": \\"{}\\"}}', _pick(ALNUM, 24)),
    ("json-escaped", '"{{\\"token\\": \\"{}\\"}}"', _jwt()),
]
"""(kind, context, secret) triples: 61 secrets of 33 kinds (with the ones below, 71 secrets in all)."""

ARGUMENT_SECRETS: dict[str, str] = {
    "password": "Hunter2" + _pick(string.digits, 4) + "!",
    "api_key": _pick(ALNUM, 32),
    "GITHUB_TOKEN": "ghs_" + _pick(ALNUM, 36),
}
"""Secrets that only a dict key names (tool-call arguments such as ``{"password": "…"}``)."""

ENV_ARGUMENT_SECRETS: dict[str, str] = {
    "STRIPE_KEY": _pick(ALNUM, 28),
    "SENDGRID_SIGNING_KEY": _pick(string.hexdigits.lower()[:16], 40),
}
"""Secrets that only an environment-style key names (``{"env": {"STRIPE_KEY": "…"}}``), with a random value."""

PLACED: dict[str, str] = {
    "session_id": "ghp_" + _pick(ALNUM, 40),
    "file_path": "sk_live_" + _pick(ALNUM, 30),
    "reasoning": "sk-ant-api03-" + _pick(ALNUM + "-_", 60),
    "tool_argument": "xoxp-" + _pick(string.digits, 12) + "-" + _pick(string.digits, 12) + "-" + _pick(ALNUM, 32),
    "json_escaped": _jwt(),
}
"""Secrets placed in the parts of a trajectory that are not message text: a session id, a file
path in a tool call, a reasoning block, a nested tool-call argument, a JSON-escaped string."""


def planted_lines() -> list[str]:
    """Every planted secret in its context, one text each."""
    return [context.format(secret) for _, context, secret in PLANTED]


def all_secrets() -> list[str]:
    """Every secret value, for the 'nothing left anywhere' check."""
    named = [*ARGUMENT_SECRETS.values(), *ENV_ARGUMENT_SECRETS.values(), *PLACED.values()]
    return [secret for _, _, secret in PLANTED] + named
