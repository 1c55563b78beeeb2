"""Raw-load throughput: our loader against plain COPY and pandas `to_sql`, on the same rows.

The loader is fed pre-rendered source pages from memory (no HTTP), so the figure is the
loader's own cost: parsing, validation, NFC, hashing, COPY and the atomic publish. Everything
runs in a scratch database that the benchmark creates on the given server and drops at the end:
it never touches the tables of a warehouse it did not create.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pandas as pd
import psycopg
import sqlalchemy
from sqlalchemy.dialects.postgresql import JSONB

from cchc.extract.connector import SourceClient, SourceConnection
from cchc.extract.entities import entities_of
from cchc.extract.loader import canonical_json, load_window
from cchc.extract.window import Window, local_midnight
from cchc.simulators.store import SimStore

PAGE_SIZE = 1000


def _pages(records: list[dict]) -> dict[int, bytes]:
    """The source's pages as they come off the wire: UTF-8 bytes."""
    total_pages = max(1, -(-len(records) // PAGE_SIZE))
    return {
        n + 1: json.dumps({"code": "OK", "message": "OK", "data": {
            "items": records[n * PAGE_SIZE:(n + 1) * PAGE_SIZE],
            "pagination": {"total": len(records), "currentPage": n + 1, "pageSize": PAGE_SIZE, "totalPages": total_pages}}},
            ensure_ascii=False).encode()
        for n in range(total_pages)
    }  # fmt: skip


def _empty_page(total: int) -> bytes:
    return json.dumps({"code": "OK", "message": "OK", "data": {"items": [], "pagination": {
        "total": total, "currentPage": 0, "pageSize": PAGE_SIZE,
        "totalPages": max(1, -(-total // PAGE_SIZE))}}}).encode()  # fmt: skip


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of `server_url`, dropped on exit; yields its URL."""
    name = f"cchc_bench_loader_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield sqlalchemy.engine.make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def run(store_path, first_day, days: int, pg_url: str) -> dict:
    """Measure on `pg_url`'s server, in a scratch database of its own."""
    with scratch_database(pg_url) as scratch_url:
        return _measure(store_path, first_day, days, scratch_url)


def _measure(store_path, first_day, days: int, pg_url: str) -> dict:
    (entity,) = entities_of("onestop", "dossiers")
    window = Window(local_midnight(first_day), local_midnight(first_day + timedelta(days=days)))
    records = SimStore(store_path).list("dossiers", window.start, window.end)
    pages = _pages(records)
    # Past the last page, an empty one, as a source answers (the loader asks for it when the
    # last page is full: pages are requested until a short or empty one).
    past_the_end = _empty_page(len(records))
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, content=pages.get(int(r.url.params["page"]), past_the_end))
    )
    rows = len(records)
    with psycopg.connect(pg_url) as conn:
        started = time.perf_counter()
        with SourceClient(
            "onestop", SourceConnection("http://bench", "t"), transport=transport
        ) as client:
            result = load_window(conn, client, entity, window, PAGE_SIZE, province="H40")
        ours = time.perf_counter() - started
        assert result.loaded == rows, result.summary()

        # (a) plain COPY of the same rows, already rendered as a COPY text file, into a bare table
        conn.execute("drop table if exists public.bench_copy")
        conn.execute(f"create table public.bench_copy (like {entity.table} including all)")
        buffer = io.StringIO()
        copy_rows = [(result.batch_id, "H40", "onestop", "dossiers", window.start, window.end, window.start,
                      r["MaHoSo"], window.start, str(i), canonical_json(r)) for i, r in enumerate(records)]  # fmt: skip
        conn.commit()
        frame = pd.DataFrame(copy_rows, columns=["batch_id", "province_code", "source", "entity", "window_start", "window_end",
                                                 "extracted_at", "record_key", "record_updated_at", "payload_hash", "payload"])  # fmt: skip
        frame.to_csv(buffer, index=False, header=False)
        text = buffer.getvalue()
        started = time.perf_counter()
        with conn.cursor().copy("copy public.bench_copy from stdin with (format csv)") as copy:
            copy.write(text)
        conn.commit()
        plain_copy = time.perf_counter() - started
        conn.execute("drop table public.bench_copy")
        conn.commit()

    # (b) pandas to_sql as commonly written (pandas' defaults: method=None, no chunksize),
    # appending into the same table and indexes as (a); the payload is given as the records
    # themselves with the JSONB type (the only way to_sql fills a jsonb column), so it pays
    # for serialising the JSON and PostgreSQL for parsing it, as ours does.
    engine = sqlalchemy.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as c:
        c.execute(sqlalchemy.text("drop table if exists public.bench_to_sql"))
        c.execute(sqlalchemy.text(f"create table public.bench_to_sql (like {entity.table} including all)"))  # fmt: skip
    started = time.perf_counter()
    frame = frame.assign(payload=records)
    frame.to_sql("bench_to_sql", engine, schema="public", if_exists="append", index=False,
                 dtype={"payload": JSONB})  # fmt: skip
    to_sql = time.perf_counter() - started
    with engine.begin() as c:
        c.execute(sqlalchemy.text("drop table public.bench_to_sql"))
    engine.dispose()
    payload_mb = sum(len(p) for p in pages.values()) / 1e6
    return {
        "rows": rows,
        "payload_mb": round(payload_mb, 1),
        "ours_rows_per_s": round(rows / ours),
        "plain_copy_rows_per_s": round(rows / plain_copy),
        "to_sql_rows_per_s": round(rows / to_sql),
        "ours_vs_plain_copy": round(plain_copy / ours, 2),
        "ours_vs_to_sql": round(to_sql / ours, 1),
    }
