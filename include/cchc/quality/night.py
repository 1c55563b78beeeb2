"""Night checks: each suite examines the records that changed since its last check, and what
they link to, instead of the whole raw history; the result equals a full check.

A suite opts in with `meta.night_scope_query` (SQL returning the `(province_code, record_key)`
of the records to examine: its *scope*); a suite without it is always checked in full, and so
is every suite on its first check (no watermark yet). Placeholders, in rule, scope and night
queries alike (`render`):

- `{batch}`: the suite's table; on a night check, only the rows of the records in scope;
- `{batch:latest}`: the latest version of each record of `{batch}` (every column): derived once per
  check into a table of its own (`prepare_latest`, analyzed) that every rule, scope and pending
  query of the suite reads, instead of each query sorting the versions again; outside a check
  (plain SQL, benchmarks) the same derivation inline. It carries its alias, `latest`;
- `{scoped:raw.x}`: another table keyed like the suite's records (the sync suite's dossiers),
  restricted to the scope the same way on a night check;
- `{all}`: the suite's whole table, never restricted (the as-of time of the data: its newest
  window);
- `{changed:raw.x}`: (night queries) the records of a raw table with a version stored after
  the suite's last check: extracted after its watermark (the newest extraction of the table and
  province it had seen), whatever the version's own update time, so versions written late and
  windows loaded again are examined too; every record of a province the suite never saw;
- `{pending}`: (night queries) records an earlier check left to be judged again once the data's
  as-of time passes their `recheck_at` (a deadline not reached yet), or at every check
  (`recheck_at` empty: a flag that a record loaded later can clear).

`meta.pending_query` returns `(record_key, province_code, recheck_at)` of the examined records
whose verdict may change without the record changing; `meta.full_check_if_changed` lists the
tables (reference data: procedures, administrative units) whose change makes the next check
of the suite a full one. A night check keeps, for the records outside its scope, the flags of
the suite's previous run, so the latest run of every suite is still the complete state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date

import psycopg

KEYS_TABLE = "dq.night_keys"
# The night whose raw checks examine every record: Sunday's (Monday 01:00 local), when the week
# ends and no office works; CCHC_DQ_FULL_CHECK_WEEKDAY (0 = Monday … 6 = Sunday, "never").
DEFAULT_FULL_CHECK_WEEKDAY = "6"
_CHANGED = re.compile(r"\{changed:(raw\.[a-z0-9_]+)\}")
_SCOPED = re.compile(r"\{scoped:(raw\.[a-z0-9_]+)\}")
log = logging.getLogger(__name__)
_TABLES = re.compile(r"\braw\.[a-z0-9_]+\b")
_INDEX_NAME = re.compile(r"create index if not exists ([a-z0-9_]+)")

DDL = """
create table if not exists dq.check_watermarks (
    suite text not null,
    table_name text not null,
    province_code text not null,
    updated_through timestamptz,
    saved_at timestamptz not null default now(),
    primary key (suite, table_name, province_code)
);
create table if not exists dq.pending_checks (
    suite text not null,
    province_code text not null,
    record_key text not null,
    recheck_at text not null
);
create index if not exists pending_checks_suite_idx
    on dq.pending_checks (suite, province_code, record_key);
create unlogged table if not exists dq.night_keys (
    run_id text not null,
    suite text not null,
    province_code text not null,
    record_key text not null
);
create index if not exists night_keys_idx on dq.night_keys (run_id, suite, province_code, record_key);
-- Records checked, with the agency and month each counts under: the per-agency denominators
-- are summed from here, so a night check updates only the records it examined.
create table if not exists dq.record_attribution (
    source text not null,
    entity text not null,
    province_code text not null,
    record_key text not null,
    agency_code text,
    period_month date
);
create index if not exists record_attribution_idx
    on dq.record_attribution (source, entity, province_code, record_key);
"""


def nightly_mode(full_refresh: bool, night_of: date | None) -> str:
    """'full' for a full rebuild or the weekly full check, else 'night'. `night_of`: the day
    whose data the night loads (the data interval's start, local time)."""
    weekday = os.environ.get("CCHC_DQ_FULL_CHECK_WEEKDAY", DEFAULT_FULL_CHECK_WEEKDAY)
    weekly = weekday.isdigit() and night_of is not None and night_of.weekday() == int(weekday)
    return "full" if full_refresh or weekly else "night"


@dataclass(frozen=True)
class NightScope:
    """A suite's night check: its records in scope are in `KEYS_TABLE` under (run_id, suite)."""

    run_id: str
    suite: str
    records: int
    # By raw table (the suite's, those of its `{scoped:raw.x}`): the rows of the records in
    # scope, copied once into a table of the run (`prepare_tables`) that every query reads.
    tables: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def keys(self) -> str:
        return (
            f"(select province_code, record_key from {KEYS_TABLE} where run_id = "
            f"{_literal(self.run_id)} and suite = {_literal(self.suite)})"
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _restricted(table: str, scope: NightScope) -> str:
    if table in scope.tables:
        return f"{scope.tables[table]} as scoped_batch"
    # The scope's keys drive an index scan of (province_code, record_key, payload_hash).
    return (
        f"(select * from {table} as scoped_rows where (scoped_rows.province_code,"
        f" scoped_rows.record_key) in {scope.keys()}) as scoped_batch"
    )


# The latest version of a record: the newest update, then the newest extraction (a version
# loaded again), then the payload hash (two versions at the same times: a structural finding).
LATEST_ORDER = (
    "province_code, record_key, record_updated_at desc nulls last, extracted_at desc,"
    " payload_hash desc"
)


def latest_query(source: str) -> str:
    """The latest version of each record of `source` (a table or an aliased subquery)."""
    return f"select distinct on (province_code, record_key) * from {source} order by {LATEST_ORDER}"


def render(
    query: str, table: str, scope: NightScope | None = None, latest: str | None = None
) -> str:
    """A rule's, scope's or pending query with the suite's `table`; restricted to the night's
    records when `scope` is given (the rows it returns are then those of records in scope).
    `latest`: the table `prepare_latest` derived the suite's latest versions into; without it,
    `{batch:latest}` is derived inline."""
    inline = f"({latest_query('{batch}')})"
    query = query.replace("{batch:latest}", f"{latest or inline} as latest")
    query = query.replace("{all}", table)
    if scope is None:
        return _SCOPED.sub(r"\1", query).replace("{batch}", table)
    query = _SCOPED.sub(lambda m: _restricted(m.group(1), scope), query)
    query = query.replace("{batch}", _restricted(table, scope))
    return (
        f"select night_rows.* from ({query}) as night_rows where (night_rows.province_code,"
        f" night_rows.record_key) in {scope.keys()}"
    )


def unescape(query: str) -> str:
    """GX formats rule queries (`{{` stands for `{`); outside GX the same text is formatted here."""
    return query.replace("{{", "{").replace("}}", "}")


@dataclass
class Watermarks:
    """The newest extraction per (table, province) when a check starts: saved for the suite
    once its results are written, the start of its next night's changes. A table's batches of
    one province are published one after the other, each with the time its extraction started,
    so a batch published later has a later time than every batch already visible."""

    suite: str
    tables: dict[str, dict[str, object]] = field(default_factory=dict)


def tables_of(*queries: str | None) -> list[str]:
    return sorted({t for q in queries if q for t in _TABLES.findall(q)})


def _provinces(conn: psycopg.Connection, table: str) -> list[str]:
    # A loose index scan over the leading province_code of raw's unique index.
    rows = conn.execute(
        f"""
        with recursive p as (
            select min(province_code) as code from {table}
            union all
            select (select min(province_code) from {table} where province_code > p.code)
            from p where p.code is not null
        )
        select code from p where code is not null
        """
    ).fetchall()
    return [code for (code,) in rows]


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", [table]).fetchone()[0]


def current_watermarks(conn: psycopg.Connection, suite: str, tables: list[str]) -> Watermarks:
    marks = Watermarks(suite)
    for table in tables:
        if not _exists(conn, table):
            continue
        marks.tables[table] = {
            province: conn.execute(
                f"select max(extracted_at) from {table} where province_code = %s",
                [province],
            ).fetchone()[0]
            for province in _provinces(conn, table)
        }
    return marks


def saved_watermarks(conn: psycopg.Connection, suite: str) -> dict[tuple[str, str], object]:
    return {
        (table, province): mark
        for table, province, mark in conn.execute(
            "select table_name, province_code, updated_through from dq.check_watermarks"
            " where suite = %s",
            [suite],
        )
    }


def save_watermarks(conn: psycopg.Connection, marks: Watermarks) -> None:
    conn.execute("delete from dq.check_watermarks where suite = %s", [marks.suite])
    with conn.cursor() as cur:
        cur.executemany(
            "insert into dq.check_watermarks (suite, table_name, province_code, updated_through)"
            " values (%s, %s, %s, %s)",
            [
                (marks.suite, table, province, mark)
                for table, provinces in marks.tables.items()
                for province, mark in provinces.items()
            ],
        )


def _changed(table: str, current: Watermarks, saved: dict) -> str:
    """Records of `table` with a version extracted after the saved watermark, per province
    through the index on (province_code, extracted_at); a province never checked: all."""
    parts = []
    for province in current.tables.get(table, {}):
        mark = saved.get((table, province))
        where = f"province_code = {_literal(province)}"
        if mark is not None:
            where += f" and extracted_at > timestamptz {_literal(mark.isoformat())}"
        parts.append(f"select province_code, record_key from {table} where {where}")
    if not parts:
        return "(select null::text as province_code, null::text as record_key where false)"
    return "(" + " union all ".join(parts) + ")"


def _pending(suite: str, table: str) -> str:
    # Due now: the as-of time of the data (its newest window, per province) reached recheck_at.
    return f"""(
        select p.province_code, p.record_key from dq.pending_checks p
        join (
            select province_code, to_char(max(window_end) at time zone 'Asia/Ho_Chi_Minh',
                'YYYYMMDDHH24MISS') as t
            from {table} group by province_code
        ) ref on ref.province_code = p.province_code
        where p.suite = {_literal(suite)} and p.recheck_at <= ref.t
    )"""


def night_query(query: str, suite: str, table: str, current: Watermarks, saved: dict) -> str:
    # Every placeholder stands after FROM: PostgreSQL before 16 wants each such subquery named.
    query = _CHANGED.sub(lambda m: _changed(m.group(1), current, saved) + " as changed", query)
    pending = _pending(suite, table) + " as pending"
    return query.replace("{pending}", pending).replace("{all}", table)


def needs_full_check(
    conn: psycopg.Connection, suite_meta: dict, current: Watermarks, saved: dict
) -> str | None:
    """Why the suite must be checked in full tonight, or None when a night check is exact."""
    if not suite_meta.get("night_scope_query"):
        return "no night scope"
    if not saved:
        return "first check"
    for table, provinces in current.tables.items():
        for province in provinces:
            if (table, province) not in saved:
                return f"{table}: province {province} never checked"
    for table in suite_meta.get("full_check_if_changed", ()):
        if table not in current.tables:
            continue
        changed = _changed(table, current, saved)
        if conn.execute(f"select exists {changed}").fetchone()[0]:
            return f"{table} changed"
    return None


def prepare_scope(
    conn: psycopg.Connection, run_id: str, suite: str, table: str, query: str
) -> NightScope:
    """Write the suite's records in scope under (run_id, suite) and return the scope."""
    conn.execute(f"delete from {KEYS_TABLE} where run_id = %s and suite = %s", [run_id, suite])
    conn.execute(
        f"insert into {KEYS_TABLE} (run_id, suite, province_code, record_key)"
        f" select distinct %s, %s, province_code, record_key from ({query}) as scope"
        " where province_code is not null and record_key is not null",
        [run_id, suite],
    )
    (count,) = conn.execute(
        f"select count(*) from {KEYS_TABLE} where run_id = %s and suite = %s", [run_id, suite]
    ).fetchone()
    conn.execute(f"analyze {KEYS_TABLE}")  # the rules' plans depend on how many there are
    return NightScope(run_id, suite, count)


def drop_scope(conn: psycopg.Connection, run_id: str) -> None:
    conn.execute(f"delete from {KEYS_TABLE} where run_id = %s", [run_id])


def run_table(kind: str, run_id: str, suite: str, table: str) -> str:
    """A table of one check's run: per run, suite and source table, so that two provinces'
    checks running at once never share one."""
    digest = hashlib.sha1(f"{run_id}|{suite}|{table}".encode()).hexdigest()[:16]
    return f"dq.{kind}__{digest}"


def _materialise(conn: psycopg.Connection, name: str, query: str) -> str:
    conn.execute(f"drop table if exists {name}")
    conn.execute(f"create unlogged table {name} as {query}")
    conn.execute(f"analyze {name}")  # the rules' plans depend on how many rows there are
    return name


def prepare_tables(conn: psycopg.Connection, scope: NightScope, tables: list[str]) -> NightScope:
    """Copy the rows of the records in scope of each raw table (`{batch}`, `{scoped:raw.x}`)
    once into a table of the run: every rule then reads those few rows instead of looking the
    night's keys up in the whole history again. Returns the scope naming them."""
    copies = {
        table: _materialise(
            conn,
            run_table("scoped", scope.run_id, scope.suite, table),
            f"select * from {_restricted(table, scope)}",
        )
        for table in tables
    }
    return dataclasses.replace(scope, tables={**scope.tables, **copies})


def scoped_tables(query: str) -> list[str]:
    """The tables a query names as `{scoped:raw.x}`."""
    return _SCOPED.findall(query)


def prepare_latest(
    conn: psycopg.Connection, run_id: str, suite: str, table: str, scope: NightScope | None
) -> str:
    """Derive the latest version of each record the suite examines (its scope on a night check,
    else every record) once, into an unlogged table, analyzed; returns its name
    (`{batch:latest}`)."""
    source = _restricted(table, scope) if scope is not None else table
    return _materialise(conn, run_table("latest", run_id, suite, table), latest_query(source))


def drop_tables(conn: psycopg.Connection, names: list[str]) -> None:
    for name in names:
        conn.execute(f"drop table if exists {name}")


def extraction_index(table: str) -> str:
    """The index night checks find a table's newly stored versions by."""
    name = table.split(".", 1)[1]
    return f"create index if not exists {name}__dq_extracted_ix on {table} (province_code, extracted_at)"


def ensure_tables(conn: psycopg.Connection, indexes: list[str]) -> None:
    """The night-check tables, and the indexes the suites' night queries look records up by.

    The loader creates those indexes with the raw tables it owns (`cchc.extract.raw_store`);
    an index still missing (a table the loader has not touched since) is created here when
    this login may, and otherwise only slows the night query down, so it is logged, not fatal.
    """
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('cchc:dq-ddl'))")
        conn.execute(DDL)
    for statement in indexes:
        (table,) = _TABLES.findall(statement)[:1] or (None,)
        (index,) = _INDEX_NAME.findall(statement)[:1] or (None,)
        if not table or not _exists(conn, table) or (index and _exists(conn, f"raw.{index}")):
            continue
        try:
            conn.execute(statement)
            conn.commit()
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()
            log.warning("index %s is missing on %s and %s may not create it: the loader "
                        "creates it on its next load", index, table, conn.info.user)  # fmt: skip
