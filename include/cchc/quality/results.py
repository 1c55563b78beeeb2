"""The `dq` schema: per-rule results of each run and per-record flags.

Only rule ids, counts, province codes and record keys are written here, never personal data.
Provinces share the warehouse and their systems may reuse keys: flags and record counts carry
`province_code`, and a record is its (province_code, record_key).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import psycopg
from psycopg import sql

from cchc.config import PgParams
from cchc.quality import night

# The column naming a record's province: in rule and scope queries, in the dq tables and, for
# GX's built-in column expectations, in the checkpoint's `unexpected_index_column_names`.
PROVINCE_COLUMN = "province_code"


class FlaggedRecord(NamedTuple):
    """A failing record: its province and its key there."""

    province_code: str
    record_key: str


DDL = """
-- only when missing: `create schema if not exists` needs CREATE on the database
do $$ begin
    if not exists (select from pg_namespace where nspname = 'dq') then create schema dq; end if;
end $$;
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
    -- the province whose record failed (provinces' systems may reuse keys)
    province_code text not null,
    primary key (run_id, source, entity, rule_id, province_code, record_key)
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
    counted_at timestamptz not null,
    province_code text not null
);
create index if not exists record_counts_run_idx on dq.record_counts (run_id, source, entity);
"""
# After the province upgrade: BI joins flags to records by province and key.
INDEX_DDL = """
drop index if exists dq.record_flags_record_idx;
create index if not exists record_flags_province_record_idx
    on dq.record_flags (source, entity, province_code, record_key);
"""
# dq tables written before provinces shared the warehouse: their rows belong to the configured
# province. Run once, when a table still lacks the column.
_ADD_PROVINCE = """
alter table {table} add column province_code text not null default {province};
alter table {table} alter column province_code drop default;
"""
_FLAGS_KEY = "run_id, source, entity, rule_id, province_code, record_key"


def ensure_tables(conn: psycopg.Connection, province: str | None = None) -> None:
    """Create the dq tables, or upgrade them in place: `province` (default: the configured
    province) is the one existing flags and counts belong to when a table lacks
    `province_code`."""
    with conn.transaction():
        # Serialise DDL: two provinces' nightly runs may bootstrap at the same time.
        conn.execute("select pg_advisory_xact_lock(hashtext('cchc:dq-ddl'))")
        conn.execute(DDL)
        conn.execute(night.DDL)
        _add_province_column(conn, province)
        conn.execute(INDEX_DDL)


def _add_province_column(conn: psycopg.Connection, province: str | None) -> None:
    lacking = [
        table
        for (table,) in conn.execute(
            """
            select t.table_name from information_schema.tables t
            where t.table_schema = 'dq' and t.table_name in ('record_flags', 'record_counts')
              and not exists (
                  select 1 from information_schema.columns c
                  where c.table_schema = t.table_schema and c.table_name = t.table_name
                    and c.column_name = 'province_code')
            order by 1
            """
        )
    ]
    if not lacking:
        return
    if province is None:
        from cchc.config import load_settings

        province = load_settings().province_code
    for table in lacking:
        conn.execute(
            sql.SQL(_ADD_PROVINCE).format(
                table=sql.Identifier("dq", table), province=sql.Literal(province)
            )
        )
    if "record_flags" in lacking:
        # The same key may now be flagged in two provinces: the key includes the province.
        (pkey,) = conn.execute(
            "select conname from pg_constraint"
            " where conrelid = 'dq.record_flags'::regclass and contype = 'p'"
        ).fetchone() or (None,)
        if pkey is not None:
            conn.execute(
                sql.SQL("alter table dq.record_flags drop constraint {}").format(
                    sql.Identifier(pkey)
                )
            )
            conn.execute(f"alter table dq.record_flags add primary key ({_FLAGS_KEY})")


@dataclass(frozen=True)
class SuiteWrite:
    """One suite's rule results (`records`: FlaggedRecord), and its scope query (record_key,
    province_code, agency_code, period_month of every record the suite checks: flags are
    attributed through it, the per-agency record counts come from it)."""

    suite: str
    source: str
    entity: str
    rules: Sequence
    scope_query: str | None = None
    # A night check: the records it examined (None: every record) and, rendered alike, the
    # query of the examined records to judge again later; the watermarks to save.
    night: night.NightScope | None = None
    pending_query: str | None = None
    watermarks: night.Watermarks | None = None


Carried = dict[tuple[str, str], tuple[FlaggedRecord, ...]]


def write_results(
    pg: PgParams, *, run_id: str, validated_at: datetime, suites: Iterable[SuiteWrite]
) -> Carried:
    """Replace this run's rows for the suites in one transaction (reruns never duplicate).

    A night check's run also holds the previous run's flags of the records it did not examine,
    so the latest run of a suite is always its whole state; those are returned by (suite,
    rule_id)."""
    carried: Carried = {}
    with psycopg.connect(pg.url()) as conn, conn.transaction():
        ensure_tables(conn)
        for s in suites:
            carried.update(_write_suite(conn, run_id=run_id, validated_at=validated_at, suite=s))
    return carried


def _write_suite(
    conn: psycopg.Connection, *, run_id: str, validated_at: datetime, suite: SuiteWrite
) -> Carried:
    source, entity, rules, scope_query = suite.source, suite.entity, suite.rules, suite.scope_query
    # Two provinces' runs may write the same entity's per-record state at once.
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", [f"cchc:dq:{source}.{entity}"])
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
        "create temp table flagged (province_code text, record_key text, rule_id text,"
        " severity text) on commit drop"
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
        with cur.copy(
            "copy flagged (province_code, record_key, rule_id, severity) from stdin"
        ) as copy:
            for r in rules:
                for province, key in r.records:
                    copy.write_row((province, key, r.rule_id, r.severity))
        scope = (
            f"({scope_query})"
            if scope_query
            else (
                "(select null::text as record_key, null::text as province_code,"
                " null::text as agency_code, null::date as period_month where false)"
            )
        )
        cur.execute(f"create temp table scope on commit drop as select * from {scope} s")
        cur.execute(
            "insert into dq.record_flags (run_id, source, entity, province_code, record_key,"
            " rule_id, severity, flagged_at, agency_code, period_month)"
            " select %s, %s, %s, f.province_code, f.record_key, f.rule_id, f.severity, %s,"
            " s.agency_code, s.period_month from flagged f"
            " left join (select distinct on (province_code, record_key) * from scope) s"
            " on s.province_code = f.province_code and s.record_key = f.record_key",
            [run_id, source, entity, validated_at],
        )
        carried = _carry_flags(cur, run_id, validated_at, suite) if suite.night else {}
        if scope_query:
            _attribute(cur, source, entity, suite.night)
            cur.execute(
                "insert into dq.record_counts (run_id, source, entity, province_code,"
                " agency_code, period_month, record_count, counted_at)"
                " select %s, %s, %s, province_code, agency_code, period_month, count(*), %s"
                " from dq.record_attribution where source = %s and entity = %s"
                " group by province_code, agency_code, period_month",
                [run_id, source, entity, validated_at, source, entity],
            )
        if suite.pending_query:
            _keep_pending(cur, suite)
        if suite.watermarks is not None:
            night.save_watermarks(conn, suite.watermarks)
    return carried


def _examined(suite: SuiteWrite, alias: str) -> str:
    """A predicate: the record of `alias` is one the night check examined."""
    assert suite.night is not None
    return f"({alias}.province_code, {alias}.record_key) in {suite.night.keys()}"


def _carry_flags(cur, run_id: str, validated_at: datetime, suite: SuiteWrite) -> Carried:
    """The previous run's flags of the records this night check did not examine."""
    previous = cur.execute(
        "select run_id from dq.validation_runs where source = %s and entity = %s"
        " and run_id <> %s order by validated_at desc, run_id desc limit 1",
        [suite.source, suite.entity, run_id],
    ).fetchone()
    if previous is None:
        return {}
    rule_ids = [r.rule_id for r in suite.rules]
    rows = cur.execute(
        "insert into dq.record_flags (run_id, source, entity, province_code, record_key,"
        " rule_id, severity, flagged_at, agency_code, period_month)"
        " select %s, f.source, f.entity, f.province_code, f.record_key, f.rule_id, f.severity,"
        " %s, f.agency_code, f.period_month from dq.record_flags f"
        " where f.run_id = %s and f.source = %s and f.entity = %s and f.rule_id = any(%s)"
        f" and not {_examined(suite, 'f')}"
        " returning rule_id, province_code, record_key",
        [run_id, validated_at, previous[0], suite.source, suite.entity, rule_ids],
    ).fetchall()
    carried: dict[tuple[str, str], list[FlaggedRecord]] = {}
    for rule_id, province, key in rows:
        carried.setdefault((suite.suite, rule_id), []).append(FlaggedRecord(province, key))
    # The run's per-rule counts are the suite's whole state too (what reports of the latest
    # run read): the night's failing rows plus the records carried.
    cur.executemany(
        "update dq.validation_runs set unexpected_count = coalesce(unexpected_count, 0) + %s,"
        " success = false where run_id = %s and suite = %s and rule_id = %s",
        [(len(records), run_id, suite.suite, rule_id) for (_, rule_id), records in carried.items()],
    )
    return {k: tuple(v) for k, v in carried.items()}


def _attribute(cur, source: str, entity: str, scope) -> None:
    """The agency and month of every checked record: replaced for the examined ones."""
    where = "source = %s and entity = %s"
    if scope is not None:
        where += f" and (province_code, record_key) in {scope.keys()}"
    cur.execute(f"delete from dq.record_attribution where {where}", [source, entity])
    cur.execute(
        "insert into dq.record_attribution (source, entity, province_code, record_key,"
        " agency_code, period_month)"
        " select distinct on (province_code, record_key) %s, %s, province_code, record_key,"
        " agency_code, period_month from scope where record_key is not null"
        " and province_code is not null order by province_code, record_key",
        [source, entity],
    )


def _keep_pending(cur, suite: SuiteWrite) -> None:
    """Records to judge again when the data's as-of time reaches their recheck_at."""
    where = "suite = %s"
    if suite.night is not None:
        where += f" and (province_code, record_key) in {suite.night.keys()}"
    cur.execute(f"delete from dq.pending_checks where {where}", [suite.suite])
    cur.execute(
        "insert into dq.pending_checks (suite, province_code, record_key, recheck_at)"
        f" select distinct %s, province_code, record_key, coalesce(recheck_at, '')"
        f" from ({suite.pending_query}) as pending"
        " where province_code is not null and record_key is not null",
        [suite.suite],
    )
