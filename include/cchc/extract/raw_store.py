"""The raw layer's tables: created idempotently by the loader, read by dbt sources."""

from __future__ import annotations

import psycopg
from psycopg import sql

from cchc.extract.entities import ENTITIES, Entity

AUDIT_DDL = """
create table if not exists audit.load_batches (
    batch_id text primary key,
    province_code text not null,
    source text not null,
    entity text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    pages integer not null default 0,
    fetched integer not null default 0,
    loaded integer not null default 0,
    duplicates integer not null default 0,
    quarantined integer not null default 0,
    unknown_fields text[] not null default '{}',
    status text not null,  -- loaded, replaced (by a rerun of its window), failed, unreconciled
    error text,
    replaced_by text
);
create table if not exists audit.quarantine (
    batch_id text not null,
    province_code text not null,
    source text not null,
    entity text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    record_key text,
    reason text not null,
    raw_text text not null,
    quarantined_at timestamptz not null default now()
);
create table if not exists audit.watermarks (
    province_code text not null,
    source text not null,
    entity text not null,
    loaded_until timestamptz not null,
    last_batch_id text not null,
    updated_at timestamptz not null default now(),
    primary key (province_code, source, entity)
);
-- How far each entity's loaded data reached when a run checked it (cchc.extract.freshness).
create table if not exists audit.source_freshness (
    run_id text not null,
    province_code text not null,
    source text not null,
    entity text not null,
    expected_until timestamptz not null,
    loaded_until timestamptz,
    is_fresh boolean not null,
    checked_at timestamptz not null default now(),
    primary key (run_id, province_code, source, entity)
);
"""

RAW_DDL = """
create table if not exists {table} (
    batch_id text not null,
    province_code text not null,  -- the province whose systems served the record
    source text not null,
    entity text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    extracted_at timestamptz not null,
    record_key text not null,
    record_updated_at timestamptz,
    payload_hash text not null,
    payload jsonb not null
);
-- A record version is stored once per province, whichever overlapping window brought it
-- first. Provinces share the warehouse, and their systems' keys may coincide.
create unique index if not exists {name}__province_version_uq
    on {table} (province_code, record_key, payload_hash);
create index if not exists {name}__window_ix on {table} (province_code, window_start, window_end);
-- dbt's incremental models read each province's records changed since their watermark.
create index if not exists {name}__province_updated_ix on {table} (province_code, record_updated_at);
-- Night data-quality checks find the versions stored since their last check.
create index if not exists {name}__dq_extracted_ix on {table} (province_code, extracted_at);
drop index if exists raw.{name}__updated_ix;
"""


# Warehouses loaded before provinces shared one: their rows all belong to the configured
# province. Run once, when a table still lacks the column.
_ADD_PROVINCE = """
alter table {table} add column province_code text not null default {province};
alter table {table} alter column province_code drop default;
"""
_KEYS = {
    "audit.watermarks": "province_code, source, entity",
    "audit.source_freshness": "run_id, province_code, source, entity",
}
_OLD_INDEXES = """
drop index if exists raw.{entity}__version_uq;
drop index if exists raw.{entity}__window_ix;
"""


def ensure_raw_tables(
    conn: psycopg.Connection, province: str, entities: tuple[Entity, ...] = ENTITIES
) -> None:
    """Create the raw and audit tables; `province` is the one existing rows belong to if an
    older warehouse without the province column is upgraded."""
    # Serialise DDL: concurrent "create ... if not exists" can still collide in the catalog.
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('cchc:raw-ddl'))")
        for schema in ("raw", "audit"):
            # Only when missing: `create schema if not exists` needs CREATE on the database,
            # which the loader login does not have.
            if not conn.execute(
                "select 1 from pg_namespace where nspname = %s", [schema]
            ).fetchone():
                try:
                    conn.execute(f"create schema {schema}")
                except psycopg.errors.InsufficientPrivilege as error:
                    raise psycopg.errors.InsufficientPrivilege(
                        f"schema {schema} does not exist and {conn.info.user} may not create "
                        "it: run `cchc warehouse bootstrap` as the warehouse's owner first"
                    ) from error
        _add_province_column(conn, province, entities)
        conn.execute(AUDIT_DDL)
        _add_missing_audit_columns(conn)
        for entity in entities:
            conn.execute(RAW_DDL.format(table=entity.table, name=entity.qualified_name))
            for field in entity.lookup_fields:
                conn.execute(
                    f"create index if not exists {entity.qualified_name}__{field.lower()}_ix"
                    f" on {entity.table} (province_code, (payload ->> '{field}'))"
                )


def _add_province_column(
    conn: psycopg.Connection, province: str, entities: tuple[Entity, ...]
) -> None:
    tables = ["audit.load_batches", "audit.quarantine", "audit.watermarks"]
    tables += ["audit.source_freshness"]
    tables += [entity.table for entity in entities]
    lacking = [
        table
        for (table,) in conn.execute(
            """
            select format('%%s.%%s', c.table_schema, c.table_name)
            from information_schema.tables as c
            where format('%%s.%%s', c.table_schema, c.table_name) = any(%s)
              and not exists (
                  select 1 from information_schema.columns as col
                  where col.table_schema = c.table_schema and col.table_name = c.table_name
                    and col.column_name = 'province_code')
            """,
            [tables],
        )
    ]
    quoted = sql.Literal(province).as_string(conn)
    for table in lacking:
        conn.execute(_ADD_PROVINCE.format(table=table, province=quoted))
        if table in _KEYS:
            name = table.removeprefix("audit.")
            conn.execute(f"alter table {table} drop constraint {name}_pkey")
            conn.execute(f"alter table {table} add primary key ({_KEYS[table]})")
        elif table.startswith("raw."):
            conn.execute(_OLD_INDEXES.format(entity=table.removeprefix("raw.")))


def _add_missing_audit_columns(conn: psycopg.Connection) -> None:
    """Columns added since a warehouse's audit tables were created (checked first: `alter
    table` locks the table even when there is nothing to add)."""
    present = conn.execute(
        "select 1 from information_schema.columns where table_schema = 'audit'"
        " and table_name = 'load_batches' and column_name = 'replaced_by'"
    ).fetchone()
    if present is None:
        conn.execute("alter table audit.load_batches add column replaced_by text")
