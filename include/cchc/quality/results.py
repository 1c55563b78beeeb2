"""The `dq` schema: per-rule results of each run and per-record flags.

Only rule ids, counts and record keys are written here, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
alter table dq.validation_runs add column if not exists source text;
alter table dq.validation_runs add column if not exists entity text;
-- Agency and month a flagged record counts under (no personal data), for the per-agency mart.
alter table dq.record_flags add column if not exists agency_code text;
alter table dq.record_flags add column if not exists period_month date;
-- Records checked per agency and month: the denominators of the flag rates.
create table if not exists dq.record_counts (
    run_id text not null,
    source text not null,
    entity text not null,
    agency_code text,
    period_month date,
    record_count bigint not null,
    counted_at timestamptz not null
);
create index if not exists record_counts_run_idx on dq.record_counts (run_id, source, entity);
-- BI joins flags to records by key.
create index if not exists record_flags_record_idx on dq.record_flags (source, entity, record_key);
"""


def ensure_tables(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


@dataclass(frozen=True)
class SuiteWrite:
    """One suite's rule results, and its scope query (record_key, agency_code, period_month of
    every record the suite checks: flags are attributed through it, the per-agency record
    counts come from it)."""

    suite: str
    source: str
    entity: str
    rules: Sequence
    scope_query: str | None = None


def write_results(
    pg: PgParams, *, run_id: str, validated_at: datetime, suites: Iterable[SuiteWrite]
) -> None:
    """Replace this run's rows for the suites in one transaction (reruns never duplicate)."""
    with psycopg.connect(pg.url()) as conn, conn.transaction():
        ensure_tables(conn)
        for s in suites:
            _write_suite(conn, run_id=run_id, validated_at=validated_at, suite=s)


def _write_suite(
    conn: psycopg.Connection, *, run_id: str, validated_at: datetime, suite: SuiteWrite
) -> None:
    source, entity, rules, scope_query = suite.source, suite.entity, suite.rules, suite.scope_query
    conn.execute(
        "delete from dq.validation_runs where run_id = %s and suite = %s", [run_id, suite.suite]
    )
    conn.execute(
        "delete from dq.record_flags where run_id = %s and source = %s and entity = %s",
        [run_id, source, entity],
    )
    conn.execute(
        "delete from dq.record_counts where run_id = %s and source = %s and entity = %s",
        [run_id, source, entity],
    )
    conn.execute("drop table if exists pg_temp.flagged, pg_temp.scope")
    conn.execute(
        "create temp table flagged (record_key text, rule_id text, severity text) on commit drop"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into dq.validation_runs (run_id, suite, rule_id, severity, element_count,"
            " unexpected_count, success, validated_at, source, entity)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    run_id,
                    suite.suite,
                    r.rule_id,
                    r.severity,
                    r.element_count,
                    r.unexpected_count,
                    r.success,
                    validated_at,
                    source,
                    entity,
                )
                for r in rules
            ],
        )
        # COPY: a bad night can flag tens of thousands of records.
        with cur.copy("copy flagged (record_key, rule_id, severity) from stdin") as copy:
            for r in rules:
                for key in r.record_keys:
                    copy.write_row((key, r.rule_id, r.severity))
        scope = (
            f"({scope_query})"
            if scope_query
            else (
                "(select null::text as record_key, null::text as agency_code,"
                " null::date as period_month where false)"
            )
        )
        cur.execute(f"create temp table scope on commit drop as select * from {scope} s")
        cur.execute(
            "insert into dq.record_flags (run_id, source, entity, record_key, rule_id,"
            " severity, flagged_at, agency_code, period_month)"
            " select %s, %s, %s, f.record_key, f.rule_id, f.severity, %s, s.agency_code,"
            " s.period_month from flagged f"
            " left join (select distinct on (record_key) * from scope) s"
            " on s.record_key = f.record_key",
            [run_id, source, entity, validated_at],
        )
        if scope_query:
            cur.execute(
                "insert into dq.record_counts (run_id, source, entity, agency_code,"
                " period_month, record_count, counted_at)"
                " select %s, %s, %s, agency_code, period_month, count(*), %s"
                " from scope group by agency_code, period_month",
                [run_id, source, entity, validated_at],
            )
