"""Failure alerts for the DAGs: a JSON webhook and/or an e-mail, from configuration.

Use as `on_failure_callback` (task level, e.g. in `default_args`, or DAG level):

    from cchc.alerts import on_failure_callback

Settings (environment; unset means that channel is off, and with both off the callback
only logs that no alert channel is configured):

- `CCHC_ALERT_WEBHOOK_URL`: POSTed a JSON object (below). Works with any endpoint that
  takes JSON: a chat-ops relay, an incident tool, a provincial monitoring service.
- `CCHC_ALERT_EMAIL_TO`: comma-separated recipients, sent through `CCHC_SMTP_HOST`,
  `CCHC_SMTP_PORT` (587), `CCHC_SMTP_USER`, `CCHC_SMTP_PASSWORD`, `CCHC_SMTP_FROM`,
  `CCHC_SMTP_SECURITY` (`starttls` default, `ssl`, or `none` for a relay on localhost).

The alert: `dag_id`, `task_id`, `run_id`, `logical_date`, `try_number`, `max_tries`,
`log_url`, `exception` (its type and message, secrets redacted, at most 2000 characters),
`state`, `hostname`. A failing alert channel is logged and never fails or retries the task.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from typing import Any
from urllib.parse import urlsplit

import httpx

from cchc.security.masking import redact

log = logging.getLogger(__name__)

MAX_EXCEPTION_CHARS = 2000
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
    email_to: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_security: str = "starttls"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(name) or None

        security = (get("CCHC_SMTP_SECURITY") or "starttls").lower()
        if security not in ("starttls", "ssl", "none"):
            raise ValueError("CCHC_SMTP_SECURITY must be starttls, ssl or none")
        return cls(
            webhook_url=get("CCHC_ALERT_WEBHOOK_URL"),
            email_to=tuple(
                a.strip() for a in (get("CCHC_ALERT_EMAIL_TO") or "").split(",") if a.strip()
            ),
            smtp_host=get("CCHC_SMTP_HOST"),
            smtp_port=int(get("CCHC_SMTP_PORT") or (465 if security == "ssl" else 587)),
            smtp_user=get("CCHC_SMTP_USER"),
            smtp_password=get("CCHC_SMTP_PASSWORD"),
            smtp_from=get("CCHC_SMTP_FROM"),
            smtp_security=security,
        )

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url or self.email_to)


def _attr(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    try:
        return getattr(obj, name)
    except Exception:  # a property that needs a configured Airflow (log_url) must not break us
        return None


def build_alert(context: Mapping[str, Any]) -> dict[str, Any]:
    """The alert body from an Airflow callback context (task or DAG level)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    logical_date = context.get("logical_date") or _attr(dag_run, "logical_date")
    exception = context.get("exception")
    if exception is not None:
        text = (
            f"{type(exception).__name__}: {exception}"
            if isinstance(exception, BaseException)
            else str(exception)
        )
    else:
        text = context.get("reason")  # DAG-level callbacks carry a reason instead
    text = redact(str(text))[:MAX_EXCEPTION_CHARS] if text else None
    return {
        "dag_id": _attr(ti, "dag_id") or _attr(dag, "dag_id") or _attr(dag_run, "dag_id"),
        "task_id": _attr(ti, "task_id"),
        "run_id": context.get("run_id") or _attr(ti, "run_id") or _attr(dag_run, "run_id"),
        "logical_date": logical_date.isoformat()
        if hasattr(logical_date, "isoformat")
        else logical_date,
        "try_number": _attr(ti, "try_number"),
        "max_tries": _attr(ti, "max_tries"),
        "log_url": _attr(ti, "log_url"),
        "state": str(_attr(ti, "state") or "failed"),
        "exception": text,
        "hostname": socket.gethostname(),
    }


def _subject(alert: Mapping[str, Any]) -> str:
    where = alert["dag_id"] + (f".{alert['task_id']}" if alert.get("task_id") else "")
    return f"[CCHC] {where} failed ({alert.get('run_id')})"


def post_webhook(url: str, alert: Mapping[str, Any], timeout: float = TIMEOUT_SECONDS) -> None:
    response = httpx.post(url, json=dict(alert), timeout=timeout)
    response.raise_for_status()


def encoded_header(text: str) -> str | Header:
    """A header (e.g. a Vietnamese subject) encoded and folded so every space survives: the
    standard library's newer folder (EmailMessage) drops the space where it folds between
    two encoded words, and mail clients then show "trễhạn" for "trễ hạn". ASCII stays as is."""
    return text if text.isascii() else Header(text, "utf-8", header_name="Subject")


def smtp_send(message: Message, host: str, port: int, security: str, user: str | None,
              password: str | None, timeout: float, cafile: str | None = None) -> None:  # fmt: skip
    """Send one message: `security` starttls, ssl or none; the server's certificate is
    verified (against `cafile` when given, else the system's CAs); login when both given."""
    context = ssl.create_default_context(cafile=cafile)
    if security == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        if security == "starttls":
            server.starttls(context=context)
        if user and password:
            server.login(user, password)
        server.send_message(message)


def send_email(
    settings: AlertSettings, alert: Mapping[str, Any], subject: str | None = None
) -> None:
    if not settings.smtp_host:
        raise ValueError("CCHC_ALERT_EMAIL_TO is set but CCHC_SMTP_HOST is not")
    lines = [f"{key}: {value}" for key, value in alert.items() if key != "exception"]
    message = MIMEText("\n".join([*lines, "", alert.get("exception") or ""]), "plain", "utf-8")
    message["Subject"] = encoded_header(subject or _subject(alert))
    message["From"] = settings.smtp_from or settings.smtp_user or "cchc-airflow@localhost"
    message["To"] = ", ".join(settings.email_to)
    smtp_send(message, settings.smtp_host, settings.smtp_port, settings.smtp_security,
              settings.smtp_user, settings.smtp_password, TIMEOUT_SECONDS)  # fmt: skip


def _host(url: str) -> str:
    # Webhook URLs often carry their secret in the path: log the host only.
    return urlsplit(url).hostname or "?"


def notify_failure(
    context: Mapping[str, Any], settings: AlertSettings | None = None
) -> dict[str, bool]:
    """Send the alert on every configured channel; returns {channel: delivered}."""
    try:
        settings = settings or AlertSettings.from_env()
        alert = build_alert(context)
    except Exception:
        log.exception("could not prepare the failure alert")
        return {}
    if not settings.configured:
        log.info(
            "no alert channel configured (CCHC_ALERT_WEBHOOK_URL, CCHC_ALERT_EMAIL_TO): "
            "failure of %s.%s not sent",
            alert["dag_id"],
            alert["task_id"],
        )
        return {}
    return send_alert(alert, _subject(alert), settings, kind="failure alert")


def send_alert(
    alert: Mapping[str, Any],
    subject: str,
    settings: AlertSettings | None = None,
    kind: str = "alert",
) -> dict[str, bool]:
    """An alert on every configured channel: `alert` POSTed as JSON to the webhook and
    e-mailed under `subject`; returns {channel: delivered}. Failure alerts and others (e.g.
    an indicator crossing its threshold) go through here; a failing channel is logged, never
    raised."""
    settings = settings or AlertSettings.from_env()
    if not settings.configured:
        log.info("no alert channel configured: %s %r not sent", kind, subject)
        return {}
    outcome = {}
    if settings.webhook_url:
        try:
            post_webhook(settings.webhook_url, alert)
            outcome["webhook"] = True
            log.info("%s posted to webhook on %s", kind, _host(settings.webhook_url))
        except Exception as error:
            outcome["webhook"] = False
            log.error("%s to webhook on %s failed: %s", kind, _host(settings.webhook_url),
                      redact(str(error), [settings.webhook_url]))  # fmt: skip
    if settings.email_to:
        try:
            send_email(settings, alert, subject)
            outcome["email"] = True
            log.info("%s e-mailed to %d recipient(s)", kind, len(settings.email_to))
        except Exception as error:
            outcome["email"] = False
            log.error("%s e-mail failed: %s", kind, redact(str(error)))
    return outcome


def on_failure_callback(context: Mapping[str, Any]) -> None:
    """Airflow `on_failure_callback`: alert on the configured channels, never raise."""
    notify_failure(context)


__all__ = ["AlertSettings", "build_alert", "notify_failure", "on_failure_callback", "send_alert"]
