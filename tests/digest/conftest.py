"""A small warehouse with what the weekly digest reads, written by hand once per module, and
a local SMTP server on 127.0.0.1 that keeps what it receives.

The relations' columns are those of the marts' contracts (the digest reads only these); the
rows are chosen so every case shows up: dossiers at risk, late with and without an apology
letter, an unregistered agency code, flags of this month, of last month, of an older run and
structural ones, and components that cross each threshold or none.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from aiosmtpd.controller import Controller

from cchc import warehouse
from tests.conftest import free_port, settings_using
from tests.exports.conftest import AGENCIES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = date(2024, 4, 5)  # Friday: the last night built before the digest
RUN_DATE = date(2024, 4, 8)  # Monday of ISO week 2024-W15
WEEK = "2024-W15"
UNREGISTERED = "H40.99"

DDL = """
create schema marts; create schema dq;
create table marts.dim_agencies (agency_code text, agency_name text,
    province_code text not null default 'H40', is_known_unit boolean not null default true);
create table marts.mart_dossiers_at_risk (province_code text, dossier_code text,
    agency_code text, procedure_code text, field_code text, level_code int,
    received_at timestamptz, due_date date, as_of_date date, working_days_left int,
    holding_step text, holding_agency_code text, expected_remaining_working_days numeric,
    risk_probability numeric, is_at_risk boolean, risk_reason text, is_late boolean,
    apology_letter_due boolean, has_apology_letter boolean, is_late_without_apology boolean);
create table marts.mart_qd766_scores (province_code text, scope_kind text, scope_code text,
    period_grain text, period_start date, period_label text, component_code text,
    component_name text, points numeric, max_points numeric, numerator int, denominator int);
create table dq.validation_runs (run_id text, suite text, rule_id text, severity text,
    success boolean, validated_at timestamptz, source text, entity text);
create table dq.record_flags (run_id text, source text, entity text, record_key text,
    rule_id text, severity text, flagged_at timestamptz, province_code text,
    agency_code text, period_month date);
"""

# (agency, working days left, has apology letter) of each open dossier
DOSSIERS = [
    ("H40.12", 0, False), ("H40.12", 1, False), ("H40.12", 2, False), ("H40.12", 5, False),
    ("H40.12", 7, False), ("H40.12", -2, False), ("H40.12", -4, True),
    ("H40.41", 1, False), ("H40.41", -1, False), ("H40.41", -3, False), ("H40.41", 9, False),
    (UNREGISTERED, 0, False), (UNREGISTERED, -1, False),
]  # fmt: skip
# (agency, component, max, points in February, in March, in April to date): the closed
# months February → March are compared; April is running and never alerts
SCORES = [
    ("H40.12", "DOSSIER_HANDLING_ON_TIME", 20, 18, 15, 10),  # 90% → 75%: below 80% (and 90%)
    ("H40.12", "DOSSIER_SYNC", 6, 6, 5.7, 3),  # 100% → 95%: no crossing (April's 50% is to date)
    ("H40.41", "DOSSIER_HANDLING_ON_TIME", 20, 16, 17, 20),  # 80% → 85%: up, no crossing
    ("H40.41", "DOSSIER_SYNC", 6, 5.5, 5.2, 6),  # 91.7% → 86.7%: below 90% only
    ("H40.41.01", "DOSSIER_SYNC", 6, 3, 2, 1),  # 50% → 33%: was already below both
    # 100% → 50% of 2 dossiers: chance, under the minimum denominator (10): no alert
    ("H40.41.01", "DOSSIER_HANDLING_ON_TIME", 20, 20, 10, 10),
]
NAMES = {"DOSSIER_HANDLING_ON_TIME": "Tỷ lệ hồ sơ giải quyết đúng hạn",
         "DOSSIER_SYNC": "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG"}  # fmt: skip


def _at_risk_rows() -> list[tuple]:
    rows = []
    for n, (agency, left, apology) in enumerate(DOSSIERS):
        late = left < 0
        rows.append(("H40", f"{agency}-240{n:03d}", agency, f"TT{n % 3}", "LV01", 1,
                     datetime(2024, 3, 20, 9, tzinfo=TZ), AS_OF + timedelta(days=left), AS_OF,
                     left, "2", agency, 1.5, 0.7, left <= 2,
                     "đã quá hạn" if late else f"còn {left} ngày làm việc, bước thẩm định"
                     " thường mất 3 ngày", late, late, apology, late and not apology))  # fmt: skip
    return rows


def _score_rows() -> list[tuple]:
    rows = []
    for agency, component, mx, february, march, april in SCORES:
        for start, points in ((date(2024, 2, 1), february), (date(2024, 3, 1), march),
                              (date(2024, 4, 1), april)):  # fmt: skip
            denominator = 2 if agency == "H40.41.01" else 40
            rows.append(("H40", "agency", agency, "month", start, f"{start:%m/%Y}", component,
                         NAMES[component], points, mx, round(denominator * points / mx),
                         denominator))  # fmt: skip
        # other grains and scopes: never in an agency's weekly digest
        rows.append(("H40", "agency", agency, "quarter", date(2024, 1, 1), "2024Q1", component,
                     NAMES[component], 0, mx, 0, 100))  # fmt: skip
    rows.append(("H40", "province", "H40", "month", date(2024, 4, 1), "04/2024",
                 "DOSSIER_SYNC", NAMES["DOSSIER_SYNC"], 0, 6, 0, 100))  # fmt: skip
    return rows


FLAGS = [  # (run, agency, record, rule, severity, month[, source, entity]: one-stop dossiers)
    ("run-2", "H40.12", "H40.12-240000", "multiple_supplement_requests", "data_entry", 4),
    ("run-2", "H40.12", "H40.12-240000", "end_before_receipt", "data_entry", 4),
    ("run-2", "H40.12", "H40.12-240001", "end_before_receipt", "data_entry", 4),
    ("run-2", "H40.12", "H40.12-230001", "end_before_receipt", "data_entry", 3),  # March: open
    ("run-2", "H40.12", "H40.12-220001", "end_before_receipt", "data_entry", 2),  # closed
    ("run-2", "H40.12", "H40.12-240002", "duplicate_key", "structural", 4),  # not data entry
    ("run-1", "H40.12", "H40.12-240003", "end_before_receipt", "data_entry", 4),  # older run
    ("run-2", "H40.41", "H40.41-240007", "completed_without_end_date", "data_entry", 4),
    ("run-2", "H40.12", "VB-2024-0042", "incoming_document_overdue", "data_entry", 4,
     "ioffice", "incoming_documents"),
]  # fmt: skip


def load_warehouse(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists marts cascade; drop schema if exists dq cascade")
        cur.execute(DDL)
        cur.executemany("insert into marts.dim_agencies values (%s, %s)", AGENCIES)
        cur.execute("insert into marts.dim_agencies values (%s, 'Mã lỗi', 'H40', false)",
                    [UNREGISTERED])  # fmt: skip
        cur.executemany(f"insert into marts.mart_dossiers_at_risk values ({', '.join(['%s'] * 20)})",
                        _at_risk_rows())  # fmt: skip
        cur.executemany(f"insert into marts.mart_qd766_scores values ({', '.join(['%s'] * 12)})",
                        _score_rows())  # fmt: skip
        for run, day in (("run-1", 3), ("run-2", 5)):
            for source, entity in (("onestop", "dossiers"), ("ioffice", "incoming_documents")):
                cur.execute("insert into dq.validation_runs values (%s, 'suite', 'r',"
                            " 'data_entry', false, %s, %s, %s)",
                            [run, datetime(2024, 4, day, 2, tzinfo=TZ), source, entity])  # fmt: skip
        cur.executemany(
            "insert into dq.record_flags values (%s, %s, %s, %s, %s, %s, %s, 'H40', %s, %s)",
            [(run, *(where or ("onestop", "dossiers")), key, rule, sev,
              datetime(2024, 4, 5, 2, tzinfo=TZ), agency, date(2024, m, 1))
             for run, agency, key, rule, sev, m, *where in FLAGS],
        )  # fmt: skip


@pytest.fixture(scope="module")
def digest_settings(settings, make_database, tmp_path_factory):
    """The warehouse, as the tasks see it: read by the transformer login after the bootstrap."""
    database = make_database("digest")
    config = dataclasses.replace(settings_using(settings, database),
                                 export_dir=tmp_path_factory.mktemp("exports"))  # fmt: skip
    load_warehouse(database.url())
    with psycopg.connect(database.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, config)
    return config


class Inbox:
    """aiosmtpd handler: keeps every message received, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()
