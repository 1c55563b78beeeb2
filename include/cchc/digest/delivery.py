"""Sending digests by SMTP, once per agency and week.

What was sent is recorded in the week's folder (`sent.json`, rewritten atomically after each
message), so a rerun of the week sends only what is not recorded there: a digest already
sent is not sent again, one that failed is sent by the rerun. The files are written before
any sending, so a digest is never lost, whatever the SMTP server does.
"""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from pathlib import Path

from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from cchc.alerts import encoded_header, smtp_send
from cchc.digest.settings import SmtpSettings
from cchc.exports.files import write_atomically

log = logging.getLogger(__name__)

LEDGER = "sent.json"
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Digest:
    """One agency's written digest: what the e-mail is made of."""

    agency_code: str
    subject: str
    html_path: Path
    xlsx_path: Path


def read_ledger(folder: Path) -> dict[str, dict]:
    path = folder / LEDGER
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _record(folder: Path, agency: str, entry: dict) -> None:
    ledger = read_ledger(folder)
    ledger[agency] = entry
    text = json.dumps(ledger, ensure_ascii=False, indent=2, sort_keys=True)
    write_atomically(folder / LEDGER, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def build_message(digest: Digest, smtp: SmtpSettings, to: tuple[str, ...],
                  message_id: str) -> MIMEMultipart:  # fmt: skip
    """The HTML digest (with a plain-text line for clients without HTML) and the XLSX."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText("Bản tin tuần ở dạng HTML; số liệu đầy đủ trong tệp Excel đính kèm.",
                         "plain", "utf-8"))  # fmt: skip
    body.attach(MIMEText(digest.html_path.read_text(encoding="utf-8"), "html", "utf-8"))
    attachment = MIMEApplication(digest.xlsx_path.read_bytes(), XLSX_SUBTYPE)
    attachment.add_header("Content-Disposition", "attachment", filename=digest.xlsx_path.name)
    message = MIMEMultipart("mixed")
    message.attach(body)
    message.attach(attachment)
    message["Subject"] = encoded_header(digest.subject)
    message["From"] = smtp.from_address
    message["To"] = ", ".join(to)
    message["Message-ID"] = message_id
    message["Date"] = formatdate(localtime=True)
    return message


def _transient(error: BaseException) -> bool:
    """Worth another try: the server was unreachable, hung up, or answered 4xx."""
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError)


def send_message(smtp: SmtpSettings, message: Message, *, attempts: int = 4,
                 wait_max: float = 60.0) -> None:  # fmt: skip
    """Send one message, retrying transient failures with exponential back-off."""

    @retry(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=1, max=wait_max),
        reraise=True,
    )
    def attempt() -> None:
        smtp_send(message, smtp.host, smtp.port, smtp.security, smtp.login, smtp.password,
                  smtp.timeout, smtp.ca_file)  # fmt: skip

    attempt()


def send_digests(folder: Path, digests: list[Digest], recipients: dict[str, tuple[str, ...]],
                 smtp: SmtpSettings, *, attempts: int = 4, wait_max: float = 60.0
                 ) -> dict[str, list[str]]:  # fmt: skip
    """Send each digest not yet recorded as sent; returns {"sent", "already_sent",
    "no_recipient", "failed"} → agency codes. Raises after trying every agency when one
    failed, so the task fails (and is retried) with the others already recorded."""
    ledger = read_ledger(folder)
    outcome: dict[str, list[str]] = {"sent": [], "already_sent": [], "no_recipient": [],
                                     "failed": []}  # fmt: skip
    errors = []
    for digest in digests:
        to = recipients.get(digest.agency_code, ())
        if digest.agency_code in ledger:
            outcome["already_sent"].append(digest.agency_code)
            continue
        if not to:
            outcome["no_recipient"].append(digest.agency_code)
            continue
        domain = smtp.from_address.rpartition("@")[2] or "localhost"
        message_id = make_msgid(idstring=f"{folder.name}.{digest.agency_code}", domain=domain)
        try:
            send_message(smtp, build_message(digest, smtp, to, message_id), attempts=attempts,
                         wait_max=wait_max)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - the others are still sent, then we raise
            log.error("digest of %s not sent: %s", digest.agency_code, error)
            outcome["failed"].append(digest.agency_code)
            errors.append(error)
            continue
        _record(folder, digest.agency_code, {
            "to": list(to), "subject": digest.subject, "message_id": message_id,
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": [digest.html_path.name, digest.xlsx_path.name],
        })  # fmt: skip
        outcome["sent"].append(digest.agency_code)
    if errors:
        raise RuntimeError(
            f"{len(errors)} digest(s) not sent ({', '.join(outcome['failed'])}); their files"
            f" are in {folder}; a rerun sends only those"
        ) from errors[0]
    return outcome
