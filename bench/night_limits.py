"""The physical limits `bench.night` prints beside each stage of a night: the least work that
gives the stage's result, in plain SQL or COPY on the same rows, without our code around it.

Every function streams (COPY to and from files, server-side aggregates): nothing holds a
table in memory, so the limits can be measured at a large province's size.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import psycopg

from cchc.extract.entities import ENTITIES

CHUNK = 1 << 20


def copy_json(database, province: str, since, scratch: Path) -> float:
    """Extract's limit: the night's JSON (every entity's versions the night stored, extracted
    at `since` or later, found through the `(province_code, extracted_at)` index, as a file written beforehand, untimed: the bytes the sources sent)
    copied into a bare scratch table `(entity, record_key, payload jsonb)`: parsing the JSON
    and writing it, with no paging, validation, hashing or publishing. Returns the COPY's
    seconds."""
    path = scratch / "night.copy"
    with psycopg.connect(database.url()) as conn:
        with path.open("wb") as out:
            for entity in ENTITIES:
                with conn.cursor().copy(
                    f"copy (select entity, record_key, payload from {entity.table}"
                    " where province_code = %s and extracted_at >= %s) to stdout",
                    [province, since],
                ) as copy:
                    for block in copy:
                        out.write(block)
        conn.execute(
            "create temporary table night_copy (entity text, record_key text, payload jsonb)"
        )
        conn.commit()
        return _timed_copy(conn, path)


def _timed_copy(conn, path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as source, conn.cursor().copy("copy night_copy from stdin") as copy:
        while block := source.read(CHUNK):
            copy.write(block)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.execute("drop table night_copy")
    conn.commit()
    path.unlink()
    return round(seconds, 3)


def raw_rules(database, suites: list[dict]) -> int:
    """Raw checks' limit: every rule of the raw suites as plain SQL over the records a night
    check examines (its scope, computed as it computes it); run before the night check, which
    then moves the watermarks. Returns the records examined."""
    from bench.night_checks import _plain_rules

    examined, _ = _plain_rules(database, suites, "bench-plain-night")
    return examined


# The Decision 766 progress component re-judged for the night's dossiers, straight from raw:
# each changed dossier's latest version, in scope in its month of receipt, on time when it
# ended by its due date or is still open and not yet due. yyyyMMddHHmmss stamps compare as
# text; the as-of is the latest change loaded.
PROGRESS_766 = """
with changed as (
    select distinct record_key from raw.onestop__dossiers
    where province_code = %(province)s and extracted_at >= %(since)s
),
as_of as (
    select to_char(max(record_updated_at) at time zone 'Asia/Ho_Chi_Minh', 'YYYYMMDDHH24MISS')
        as stamp
    from raw.onestop__dossiers where province_code = %(province)s
),
latest as (
    select distinct on (d.record_key) d.payload
    from raw.onestop__dossiers as d
    where d.province_code = %(province)s and d.record_key in (select record_key from changed)
    order by d.record_key, d.record_updated_at desc nulls last, d.extracted_at desc
),
dossiers as (
    select f."DonViXuLy" as agency, left(f."NgayTiepNhan", 6) as month, f."NgayHenTra" as due,
        nullif(coalesce(nullif(f."NgayKetThucXuLy", ''), nullif(f."NgayTra", ''),
                        nullif(f."NgayTuChoi", '')), '') as ended
    from latest, jsonb_to_record(latest.payload)
        as f("DonViXuLy" text, "NgayTiepNhan" text, "NgayHenTra" text,
             "NgayKetThucXuLy" text, "NgayTra" text, "NgayTuChoi" text)
    where coalesce(f."NgayTiepNhan", '') <> ''
)
select agency, month, count(*) as in_scope,
    count(*) filter (where coalesce(ended, (select stamp from as_of)) <= due) as on_time
from dossiers
group by grouping sets ((agency, month), (month))
"""


def progress_766(database, province: str, since) -> int:
    """dbt's limit: the 766 progress component's plain aggregate over the night's changed
    dossiers (the part of the nightly build a night's changes oblige). Returns its rows."""
    with psycopg.connect(database.url()) as conn:
        rows = conn.execute(PROGRESS_766, {"province": province, "since": since}).fetchall()
        return len(rows)


def changed_dossiers(database, province: str, since) -> int:
    with psycopg.connect(database.url()) as conn:
        return conn.execute(
            "select count(distinct record_key) from raw.onestop__dossiers"
            " where province_code = %s and extracted_at >= %s",
            [province, since],
        ).fetchone()[0]


def marts_rules(database, project: Path) -> int:
    """Marts checks' limit: every rule of the marts checkpoint as plain SQL. Returns rules."""
    from cchc.quality import night

    rules = 0
    with psycopg.connect(database.url(), autocommit=True) as conn:
        for suite in _marts_suites(project):
            for query in suite["queries"]:
                conn.execute(night.unescape(night.render(query, suite["table"], None)))
                rules += 1
    return rules


def _marts_suites(project: Path) -> list[dict]:
    checkpoint = json.loads((project / "checkpoints" / "cchc_marts.json").read_text("utf-8"))
    out = []
    for ref in checkpoint["validation_definitions"]:
        definition = json.loads(
            (project / "validation_definitions" / f"{ref['name']}.json").read_text("utf-8")
        )
        suite = json.loads(
            (project / "expectations" / f"{definition['suite']['name']}.json").read_text("utf-8")
        )
        queries = [
            e["kwargs"]["unexpected_rows_query"]
            if "unexpected_rows_query" in e["kwargs"]
            else f"select count(*) from {{all}} where {e['kwargs']['column']} is null"
            for e in suite["expectations"]
            if "unexpected_rows_query" in e["kwargs"] or "column" in e["kwargs"]
        ]
        table = "marts." + definition["data"]["asset"]["name"]
        out.append({"suite": suite["name"], "table": table, "queries": queries})
    return out


def export_csv(database, province: str, scratch: Path) -> int:
    """Export's limit: the export's own query (its rows, named as the workbook names them),
    written as CSV instead of a formatted workbook. Returns the rows."""
    from cchc.exports.progress import fetch_rows

    path = scratch / "export.csv"
    with psycopg.connect(database.url()) as conn, path.open("w", newline="") as out:
        rows = fetch_rows(conn, province)
        csv.writer(out).writerows(rows)
    path.unlink()
    return len(rows)
