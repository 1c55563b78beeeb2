"""Source credentials are registered with Airflow's secrets masker and scrubbed from texts."""

from __future__ import annotations

from cchc.security.masking import mask_connection_secrets, redact, secret_forms


def test_connection_uri_is_masked_in_every_form():
    from airflow.sdk.log import _secrets_masker

    uri = "https://:tok%2Fen-4f9a@motcua.example.gov.vn/api"
    assert secret_forms(uri) == {uri, "tok%2Fen-4f9a", "tok/en-4f9a"}
    # Three forms of the URI's token plus the bare token (already its own encoded form).
    assert mask_connection_secrets(uri, None, "bare-token-77") == 4
    masked = _secrets_masker().redact(
        f"GET {uri} failed; token tok/en-4f9a; header Bearer bare-token-77"
    )
    assert "tok" not in masked.replace("token", "") and "bare-token-77" not in masked


def test_redact_without_airflow(monkeypatch):
    monkeypatch.setenv("CCHC_SMTP_PASSWORD", "smtp-pass-123")
    monkeypatch.setenv("AIRFLOW_CONN_CCHC_PORTAL", "https://:portal-tok-9@portal.example.gov.vn/p")
    text = redact(
        "postgresql://cchc:db-pass@warehouse:5432/cchc; Bearer abc.def; password=hunter22;"
        " smtp smtp-pass-123; portal-tok-9 https://user@host/x"
    )
    for secret in ("db-pass", "abc.def", "hunter22", "smtp-pass-123", "portal-tok-9"):
        assert secret not in text, secret
    assert "warehouse:5432/cchc" in text
