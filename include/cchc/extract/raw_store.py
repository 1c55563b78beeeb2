"""The raw layer's tables: created idempotently by the loader, read by dbt sources."""

from __future__ import annotations

import psycopg

from cchc.extract.entities import ENTITIES, Entity

AUDIT_DDL = """
create table if not exists audit.load_batches (
    batch_id text primary key,
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
    status text not null,
    error text
);
create table if not exists audit.quarantine (
    batch_id text not null,
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
    source text not null,
    entity text not null,
    loaded_until timestamptz not null,
    last_batch_id text not null,
    updated_at timestamptz not null default now(),
    primary key (source, entity)
);
"""

RAW_DDL = """
create table if not exists {table} (
    batch_id text not null,
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
-- A record version is stored once, whichever overlapping window brought it first.
create unique index if not exists {name}__version_uq on {table} (record_key, payload_hash);
create index if not exists {name}__window_ix on {table} (window_start, window_end);
create index if not exists {name}__updated_ix on {table} (record_updated_at);
"""


def ensure_raw_tables(conn: psycopg.Connection, entities: tuple[Entity, ...] = ENTITIES) -> None:
    # Serialise DDL: concurrent "create ... if not exists" can still collide in the catalog.
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('cchc:raw-ddl'))")
        for schema in ("raw", "audit"):
            conn.execute(f"create schema if not exists {schema}")
        conn.execute(AUDIT_DDL)
        for entity in entities:
            conn.execute(RAW_DDL.format(table=entity.table, name=entity.qualified_name))
