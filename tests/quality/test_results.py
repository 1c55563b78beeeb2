"""The `dq` tables of a warehouse written before provinces shared it are upgraded in place."""

from __future__ import annotations

import psycopg
import pytest

from cchc.quality.results import ensure_tables

# The dq tables as they were before they carried a province.
OLD_DDL = """
create schema dq;
create table dq.validation_runs (
    run_id text not null, suite text not null, rule_id text not null,
    severity text not null check (severity in ('structural', 'data_entry')),
    element_count bigint, unexpected_count bigint, success boolean not null,
    validated_at timestamptz not null, source text, entity text,
    primary key (run_id, suite, rule_id)
);
create table dq.record_flags (
    run_id text not null, source text not null, entity text not null, record_key text not null,
    rule_id text not null,
    severity text not null check (severity in ('structural', 'data_entry')),
    flagged_at timestamptz not null, agency_code text, period_month date,
    primary key (run_id, source, entity, rule_id, record_key)
);
create table dq.record_counts (
    run_id text not null, source text not null, entity text not null, agency_code text,
    period_month date, record_count bigint not null, counted_at timestamptz not null
);
create index record_flags_record_idx on dq.record_flags (source, entity, record_key);
insert into dq.record_flags values
    ('r1', 'portal', 'evaluations', 'dvc-progress-tree:2024-03', 'r', 'data_entry', now(),
     null, null);
insert into dq.record_counts values ('r1', 'portal', 'evaluations', null, null, 1, now());
"""


@pytest.fixture
def old_dq(make_database):
    pg = make_database("dq_upgrade")
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(OLD_DDL)
    return pg


def test_old_flags_and_counts_belong_to_the_given_province(old_dq):
    with psycopg.connect(old_dq.url(), autocommit=True) as conn:
        ensure_tables(conn, "H40")
        ensure_tables(conn, "H45")  # already upgraded: no further change
        assert conn.execute("select province_code from dq.record_flags").fetchall() == [("H40",)]
        assert conn.execute("select province_code from dq.record_counts").fetchall() == [("H40",)]
        key = conn.execute(
            "select array_agg(a.attname order by k.ord) from pg_constraint c,"
            " unnest(c.conkey) with ordinality k(attnum, ord)"
            " join pg_attribute a on a.attnum = k.attnum"
            " where c.conrelid = 'dq.record_flags'::regclass and c.contype = 'p'"
            " and a.attrelid = c.conrelid"
        ).fetchone()[0]
        assert key == ["run_id", "source", "entity", "rule_id", "province_code", "record_key"]
        # The portal's report ids are the same in every province: both can be flagged.
        conn.execute(
            "insert into dq.record_flags (run_id, source, entity, record_key, rule_id, severity,"
            " flagged_at, province_code) values ('r1', 'portal', 'evaluations',"
            " 'dvc-progress-tree:2024-03', 'r', 'data_entry', now(), 'H45')"
        )
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(
                "insert into dq.record_counts (run_id, source, entity, record_count, counted_at)"
                " values ('r2', 'portal', 'evaluations', 1, now())"
            )
        indexes = {
            name
            for (name,) in conn.execute("select indexname from pg_indexes where schemaname = 'dq'")
        }
    assert "record_flags_province_record_idx" in indexes
    assert "record_flags_record_idx" not in indexes


def test_a_new_warehouse_gets_the_province_columns(make_database):
    pg = make_database("dq_new")
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        ensure_tables(conn)
        columns = set(
            conn.execute(
                "select table_name, column_name from information_schema.columns"
                " where table_schema = 'dq' and column_name = 'province_code'"
            ).fetchall()
        )
    assert columns == {
        ("record_flags", "province_code"),
        ("record_counts", "province_code"),
        # the night checks' state: records examined, attributed, to judge again; watermarks
        ("night_keys", "province_code"),
        ("record_attribution", "province_code"),
        ("pending_checks", "province_code"),
        ("check_watermarks", "province_code"),
    }
