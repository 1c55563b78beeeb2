"""Failure alerts: a real webhook on 127.0.0.1, e-mail through a stand-in SMTP class,
nothing secret in what is sent or logged."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from cchc import alerts
from cchc.alerts import AlertSettings, notify_failure, on_failure_callback

TOKEN = "s3cr3t-onestop-token"
SALT = "pii-salt-value-0123456789"


class Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers["Content-Length"])
        type(self).received.append(
            (self.path, self.headers["Content-Type"], json.loads(self.rfile.read(length)))
        )
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):  # fmt: skip
        monkeypatch.delenv(proxy, raising=False)
    Receiver.received, Receiver.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/cchc-secret-path"
    server.shutdown()
    server.server_close()


def context(exception: BaseException | None = None) -> dict:
    ti = SimpleNamespace(
        dag_id="cchc_nightly",
        task_id="extract_onestop__dossiers",
        run_id="scheduled__2025-01-15T18:00:00+00:00",
        try_number=3,
        max_tries=2,
        state="failed",
        log_url="http://airflow.local:8080/dags/cchc_nightly/runs/r/tasks/t?try_number=3",
    )
    return {
        "ti": ti,
        "run_id": ti.run_id,
        "logical_date": datetime(2025, 1, 15, 18, tzinfo=UTC),
        "exception": exception
        or RuntimeError(
            f"GET https://:{TOKEN}@motcua.example.gov.vn/api/v1/dossiers failed;"
            f" Authorization: Bearer {TOKEN}; salt={SALT}"
        ),
    }


def test_webhook_receives_the_alert_without_secrets(webhook, monkeypatch):
    monkeypatch.setenv("CCHC_PII_SALT", SALT)
    monkeypatch.setenv("AIRFLOW_CONN_CCHC_ONESTOP", f"https://:{TOKEN}@motcua.example.gov.vn/x")
    monkeypatch.setenv("CCHC_ALERT_WEBHOOK_URL", webhook)
    monkeypatch.delenv("CCHC_ALERT_EMAIL_TO", raising=False)
    on_failure_callback(context())
    ((path, content_type, body),) = Receiver.received
    assert path == "/hooks/cchc-secret-path" and content_type == "application/json"
    assert body["dag_id"] == "cchc_nightly"
    assert body["task_id"] == "extract_onestop__dossiers"
    assert body["run_id"] == "scheduled__2025-01-15T18:00:00+00:00"
    assert body["logical_date"] == "2025-01-15T18:00:00+00:00"
    assert body["try_number"] == 3
    assert body["log_url"].endswith("?try_number=3")
    assert body["exception"].startswith("RuntimeError: GET https://***@motcua.example.gov.vn")
    assert TOKEN not in json.dumps(body) and SALT not in json.dumps(body)


def test_failing_webhook_is_logged_not_raised(webhook, caplog):
    Receiver.status = 500
    with caplog.at_level(logging.INFO, logger="cchc.alerts"):
        outcome = notify_failure(context(), AlertSettings(webhook_url=webhook))
    assert outcome == {"webhook": False}
    assert "cchc-secret-path" not in caplog.text  # the webhook's secret path is not logged
    assert "127.0.0.1" in caplog.text


def test_unconfigured_is_a_logged_no_op(monkeypatch, caplog):
    monkeypatch.delenv("CCHC_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CCHC_ALERT_EMAIL_TO", raising=False)
    with caplog.at_level(logging.INFO, logger="cchc.alerts"):
        on_failure_callback(context())
    assert "no alert channel configured" in caplog.text


def test_email(monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self, context):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, message):
            sent.append(("message", message))

    monkeypatch.setattr(alerts.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setenv("CCHC_ALERT_EMAIL_TO", "ops@sonv.example.gov.vn, dba@sonv.example.gov.vn")
    monkeypatch.setenv("CCHC_SMTP_HOST", "smtp.example.gov.vn")
    monkeypatch.setenv("CCHC_SMTP_USER", "airflow")
    monkeypatch.setenv("CCHC_SMTP_PASSWORD", "smtp-password")
    monkeypatch.delenv("CCHC_ALERT_WEBHOOK_URL", raising=False)
    assert notify_failure(context()) == {"email": True}
    assert sent[:3] == [
        ("connect", "smtp.example.gov.vn", 587),
        ("starttls",),
        ("login", "airflow"),
    ]
    message = sent[3][1]
    assert message["To"] == "ops@sonv.example.gov.vn, dba@sonv.example.gov.vn"
    assert "cchc_nightly.extract_onestop__dossiers failed" in message["Subject"]
    assert TOKEN not in message.as_string()


def test_dag_level_context():
    dag_run = SimpleNamespace(dag_id="cchc_nightly", run_id="manual__1", logical_date=None)
    alert = alerts.build_alert({"dag_run": dag_run, "reason": "task_failure"})
    assert alert["dag_id"] == "cchc_nightly" and alert["task_id"] is None
    assert alert["exception"] == "task_failure"
