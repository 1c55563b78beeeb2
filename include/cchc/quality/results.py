"""The `dq` schema: per-rule results of each run and per-record flags.

Only rule ids, counts and record keys are written here, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg

from cchc.config import PgParams

DDL = """
create schema if not exists dq;
create table if not exists dq.validation_runs (
    run_id text not null,
    suite text not null,
    rule_id text not null,
    severity text not null check (severity in ('structural', 'data_entry')),
    element_count bigint,
    unexpected_count bigint,
    success boolean not null,
    validated_at timestamptz not null,
    primary key (run_id, suite, rule_id)
);
create table if not exists dq.record_flags (
    run_id text not null,
    source text not null,
    entity text not null,
    record_key text not null,
    rule_id text not null,
    severity text not null check (severity in ('structural', 'data_entry')),
    flagged_at timestamptz not null,
    primary key (run_id, source, entity, rule_id, record_key)
);
-- BI joins flags to records by key.
create index if not exists record_flags_record_idx on dq.record_flags (source, entity, record_key);
"""


def ensure_tables(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def write_results(
    pg: PgParams,
    *,
    run_id: str,
    suite: str,
    source: str,
    entity: str,
    validated_at: datetime,
    rules: Iterable,
) -> None:
    """Replace this run's rows for the suite in one transaction (reruns never duplicate)."""
    rules = list(rules)
    with psycopg.connect(pg.url()) as conn, conn.transaction():
        ensure_tables(conn)
        conn.execute(
            "delete from dq.validation_runs where run_id = %s and suite = %s", [run_id, suite]
        )
        conn.execute(
            "delete from dq.record_flags where run_id = %s and source = %s and entity = %s",
            [run_id, source, entity],
        )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into dq.validation_runs (run_id, suite, rule_id, severity, element_count,"
                " unexpected_count, success, validated_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        suite,
                        r.rule_id,
                        r.severity,
                        r.element_count,
                        r.unexpected_count,
                        r.success,
                        validated_at,
                    )
                    for r in rules
                ],
            )
            # COPY: a bad night can flag tens of thousands of records.
            with cur.copy(
                "copy dq.record_flags (run_id, source, entity, record_key, rule_id, severity,"
                " flagged_at) from stdin"
            ) as copy:
                for r in rules:
                    for key in r.record_keys:
                        copy.write_row(
                            (run_id, source, entity, key, r.rule_id, r.severity, validated_at)
                        )
