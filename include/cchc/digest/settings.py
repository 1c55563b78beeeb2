"""What the digest is configured with: thresholds, recipients and the SMTP server.

- `CCHC_DIGEST_THRESHOLDS`: the share of a component's maximum points an agency is held to,
  comma-separated (default `0.8,0.9`, as provinces grade: below 80% weak, 90% good).
- `CCHC_DIGEST_RECIPIENTS`: a CSV file `agency_code,email` (one row per recipient; an agency
  may have several). An agency without a recipient gets its files only.
- `CCHC_DIGEST_MIN_DENOMINATOR`: a threshold alert needs at least this many dossiers (the
  component's denominator) in both periods (default 10): below, a share is chance.
- `CCHC_DIGEST_MONTH_CLOSE_DAY`: until this day of a month (default 5) the previous month's
  data-entry flags are still listed, as its report is not closed yet.
- `CCHC_DIGEST_LINK_BASE`: the URL under which `exports/` is published (an intranet share);
  alerts then link the digest, else they carry its path.
- SMTP: the Airflow connection `cchc_smtp` (host, port, login, password; extra
  `{"security": "starttls" | "ssl" | "none", "from": "...", "timeout": 30, "ca_file": "..."}`;
  `ca_file` is the CA bundle that signed the server's certificate when it is not a public CA,
  e.g. a provincial mail server's own). Without it the
  digests are written as files only.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

SMTP_CONNECTION_ID = "cchc_smtp"
DEFAULT_THRESHOLDS = (Decimal("0.8"), Decimal("0.9"))
SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    login: str | None = None
    password: str | None = None
    from_address: str = "cchc-digest@localhost"
    security: str = "starttls"
    timeout: float = 30.0
    ca_file: str | None = None

    @classmethod
    def from_connection(cls, conn: Any) -> SmtpSettings:
        """From an Airflow connection (anything with host, port, login, password, extra)."""
        extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else dict(conn.extra or {})
        security = str(extra.get("security") or "starttls").lower()
        if security not in SECURITY:
            raise ValueError(f"{SMTP_CONNECTION_ID}: security must be one of {', '.join(SECURITY)}")
        if not conn.host:
            raise ValueError(f"{SMTP_CONNECTION_ID}: the connection has no host")
        return cls(
            host=conn.host,
            port=int(conn.port or (465 if security == "ssl" else 587)),
            login=conn.login or None,
            password=conn.password or None,
            from_address=extra.get("from") or conn.login or cls.from_address,
            security=security,
            timeout=float(extra.get("timeout") or 30),
            ca_file=extra.get("ca_file") or None,
        )


@dataclass(frozen=True)
class DigestSettings:
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    recipients: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    link_base: str | None = None
    month_close_day: int = 5
    min_denominator: int = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DigestSettings:
        env = os.environ if environ is None else environ
        raw = env.get("CCHC_DIGEST_THRESHOLDS") or ""
        thresholds = tuple(sorted(Decimal(t.strip()) for t in raw.split(",") if t.strip()))
        if any(not 0 < t <= 1 for t in thresholds):
            raise ValueError("CCHC_DIGEST_THRESHOLDS: shares between 0 and 1, e.g. 0.8,0.9")
        path = env.get("CCHC_DIGEST_RECIPIENTS")
        return cls(
            thresholds=thresholds or DEFAULT_THRESHOLDS,
            recipients=read_recipients(Path(path)) if path else {},
            link_base=(env.get("CCHC_DIGEST_LINK_BASE") or "").rstrip("/") or None,
            month_close_day=int(env.get("CCHC_DIGEST_MONTH_CLOSE_DAY") or 5),
            min_denominator=int(env.get("CCHC_DIGEST_MIN_DENOMINATOR") or 10),
        )


def read_recipients(path: Path) -> dict[str, tuple[str, ...]]:
    """`agency_code,email` rows (a header row is allowed) → {agency: (emails, …)}."""
    found: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 2 or row[0].strip().lower() in ("", "agency_code") or "@" not in row[1]:
                continue
            found.setdefault(row[0].strip(), []).append(row[1].strip())
    return {agency: tuple(dict.fromkeys(emails)) for agency, emails in found.items()}
