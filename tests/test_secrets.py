"""Secret detection shared by ingest redaction and the skill safety scan (first cut)."""

from __future__ import annotations

from skillforge.secret_scan import find_secrets, redact_text


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
    for secret in ("AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "s3cretPass", "s3cr3tvalue123", "MIIEowIBAAKCAQEA1234abcd"):
        assert secret not in redacted
    assert counts["aws-access-key"] == 1 and counts["github-token"] == 1 and counts["private-key"] == 1
    assert "[REDACTED:basic-auth-credentials]" in redacted
    assert [f.line for f in find_secrets(text)][:2] == [1, 2]


def test_ordinary_log_text_is_kept() -> None:
    text = "Error: flight HAT030 not available on date 2024-05-13\nsha256 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert redact_text(text) == (text, {})
