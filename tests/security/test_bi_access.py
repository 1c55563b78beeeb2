"""The BI login role on a warehouse built by the real bootstrap and dbt build.

It reads the marts and nothing else; it writes nothing; no catalog entry it can read
reveals the PII salt; the marts hold no clear-text personal data.
"""

from __future__ import annotations

import hashlib
import json

import psycopg
import pytest
from psycopg import errors

from cchc.security.roles import BI_LOGIN, PRIVATE_SCHEMA, REVIEWER_LOGIN
from cchc.security.scan import scan_for_personal_data
from cchc.transform import dbt
from tests.dbt.test_dbt_project import IOFFICE_PAYLOAD, ONESTOP_ROWS
from tests.security.conftest import SALT, as_role

# Marts the BI role must read; any other table dbt puts in marts is read and scanned too.
KNOWN_MARTS = {"dim_agencies", "dim_date", "fct_dossiers"}

FORBIDDEN_READS = {
    "raw": "select * from raw.onestop__dossiers",
    "raw personal column": "select payload ->> 'SoGiayToChuHoSo' from raw.onestop__dossiers",
    "raw of another source": "select * from raw.ioffice__outgoing_documents",
    "staging": "select * from staging.stg_onestop__dossiers",
    "staging hashed identifiers": "select applicant_id_hash from staging.stg_onestop__dossiers",
    "intermediate": "select * from intermediate.int_dossiers_lifecycle",
    "quarantine": "select raw_text from audit.quarantine",
    "load audit": "select * from audit.load_batches",
    "dq": "select * from dq.record_flags_probe",
    "restricted officers": "select * from restricted.dim_officers",
    "restricted officer lateness": "select * from restricted.mart_officer_lateness_monthly",
    "restricted officer steps": "select officer_key from restricted.officer_handling_steps",
    "restricted officer appearances": "select officer_key from restricted.officer_appearances",
    "restricted officer changes": "select * from restricted.officer_appearances__changes",
    "salt": f"select salt from {PRIVATE_SCHEMA}.pii_salt",
    "hash function": f"select {PRIVATE_SCHEMA}.pii_hash('040090001234')",
}

FORBIDDEN_WRITES = {
    "insert": "insert into marts.dim_agencies (agency_code, agency_name) values ('X', 'x')",
    "update": "update marts.dim_agencies set agency_name = 'x'",
    "delete": "delete from marts.fct_dossiers",
    "truncate": "truncate marts.fct_dossiers",
    "create table in marts": "create table marts.bi_scratch (x int)",
    "create view in marts": "create view marts.bi_view as select 1 as x",
    "create table in public": "create table public.bi_scratch (x int)",
    "create table in raw": "create table raw.bi_scratch (x int)",
    "create schema": "create schema bi_own",
    "create temp table": "create temp table bi_scratch (x int)",
    "drop a mart": "drop table marts.dim_date",
    "alter a mart": "alter table marts.dim_agencies add column x int",
    "insert into raw": "insert into raw.onestop__dossiers (batch_id) values ('x')",
}


def _marts(conn: psycopg.Connection) -> list[str]:
    # As the BI role, information_schema lists only what it may use: compare with pg_class.
    return [
        r[0]
        for r in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')"
        )
    ]


def _bi(secured) -> psycopg.Connection:
    return psycopg.connect(as_role(secured, BI_LOGIN).url(), autocommit=True)


def test_bi_reads_every_mart(secured):
    with _bi(secured) as conn:
        assert conn.execute("select current_user").fetchone()[0] == BI_LOGIN
        tables = _marts(conn)
        assert set(tables) >= KNOWN_MARTS
        counts = {t: conn.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables}
        assert all(counts[t] > 0 for t in KNOWN_MARTS), counts
        # search_path is set for the BI login: unqualified names resolve to the marts.
        assert conn.execute("select count(*) from fct_dossiers").fetchone()[0] > 0


@pytest.mark.parametrize("what", FORBIDDEN_READS)
def test_bi_cannot_read_outside_marts(secured, what):
    with _bi(secured) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(FORBIDDEN_READS[what])


@pytest.mark.parametrize("what", FORBIDDEN_WRITES)
def test_bi_cannot_write(secured, what):
    with _bi(secured) as conn:
        # The session is read-only by default (a statement on a schema it cannot even see
        # fails earlier, on privileges); the grants must hold even when it opts out.
        with pytest.raises((errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            conn.execute(FORBIDDEN_WRITES[what])
        conn.execute("set default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(FORBIDDEN_WRITES[what])


def test_bi_has_no_privilege_outside_marts_in_the_catalog(secured):
    with _bi(secured) as conn:
        rows = conn.execute(
            """
            select n.nspname, c.relname,
                   has_table_privilege(c.oid, 'select'), has_table_privilege(c.oid, 'insert')
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'v', 'm', 'p', 'f')
              and n.nspname not in ('pg_catalog', 'information_schema')
            """
        ).fetchall()
        assert rows
        readable = {(schema, table) for schema, table, select, _ in rows if select}
        assert {schema for schema, _ in readable} == {"marts"}, readable
        assert not [r for r in rows if r[3]], "BI can insert somewhere"


def test_no_catalog_entry_or_compiled_file_contains_the_salt(secured):
    with _bi(secured) as conn:
        definitions = [
            *conn.execute("select schemaname, viewname, definition from pg_views"),
            *conn.execute("select schemaname, matviewname, definition from pg_matviews"),
            *conn.execute(
                "select n.nspname, p.proname, p.prosrc from pg_proc p"
                " join pg_namespace n on n.oid = p.pronamespace"
            ),
            *conn.execute("select 'setting', name, setting from pg_settings"),
            *conn.execute(
                "select 'role setting', '', array_to_string(setconfig, ',') from pg_db_role_setting"
            ),  # fmt: skip
        ]
    leaks = [(s, n) for s, n, d in definitions if d and SALT in d]
    assert not leaks, leaks
    target = dbt.TARGET_DIR
    compiled = [p for p in target.rglob("*") if p.is_file() and p.suffix in (".sql", ".json")]
    assert compiled, "dbt wrote no compiled files"
    # The staging models hash by calling the function by name: the SQL that ran says so...
    staging = [
        p
        for p in compiled
        if p.relative_to(target).parts[-3:] == ("staging", "onestop", "stg_onestop__dossiers.sql")
    ]
    assert staging and all(f"{PRIVATE_SCHEMA}.pii_hash" in p.read_text() for p in staging)
    # ...and no compiled file, manifest or run result holds the salt.
    assert not [p for p in compiled if SALT in p.read_text(errors="replace")]


def test_hashes_are_salted_sha256_of_the_trimmed_value(secured):
    with psycopg.connect(secured.url()) as conn:
        got = conn.execute(
            "select applicant_id_hash, applicant_phone_hash from staging.stg_onestop__dossiers"
            " where dossier_code = 'H40.12-250105-0001'"
        ).fetchone()
        assert conn.execute(f"select {PRIVATE_SCHEMA}.pii_hash('  ')").fetchone()[0] is None
    expected = tuple(
        hashlib.sha256((SALT + value).encode()).hexdigest()
        for value in ("040090001234", "0912345678")
    )
    assert got == expected


def test_marts_hold_no_personal_data(secured):
    with _bi(secured) as conn:
        # The scan runs as the BI role: it sees exactly what BI users see.
        assert scan_for_personal_data(conn, "marts") == []
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts'"
        ).fetchall()
        text = json.dumps(
            [
                list(map(str, r))
                for t in _marts(conn)
                for r in conn.execute(f"select * from marts.{t}")
            ],
            ensure_ascii=False,
        )
    personal_columns = [
        c for c in columns
        if any(w in c[1] for w in ("name_of_applicant", "applicant_id", "phone", "email", "cccd",
                                   "owner_name", "signer", "handler", "officer_key"))
    ]  # fmt: skip
    assert not personal_columns
    values = set()
    for _, payload in ONESTOP_ROWS:
        values |= {payload["ChuHoSo"], payload["SoGiayToChuHoSo"], payload["SoDienThoai"]}
        values |= {payload["Email"], *(s["NguoiXuLy"] for s in payload["QuaTrinhXuLy"])}
    values.add(IOFFICE_PAYLOAD["NguoiKy"])
    assert not [v for v in values if v in text]


def test_scan_finds_planted_personal_data(secured):
    # The scan must not pass vacuously: plant each kind in a scratch schema.
    with psycopg.connect(secured.url(), autocommit=True) as conn:
        conn.execute("drop schema if exists scan_probe cascade")
        conn.execute("create schema scan_probe")
        conn.execute("create table scan_probe.t (note text, contact varchar(200), n int, h text)")
        conn.execute(
            "insert into scan_probe.t values"
            " ('CCCD 040090001234 cấp tại Hà Nội', 'gọi +84912345678', 1, %s),"
            " ('hồ sơ H40.12-250105-0001', 'an.nguyen@example.vn', 2, %s)",
            ["0" * 64, hashlib.sha256(b"x").hexdigest()],
        )
        # Context the scan must not mistake for an ID number: a UUID whose last group is
        # 12 digits (also one starting like a CCCD), a 12-digit run that is no province code.
        conn.execute("create table scan_probe.ids (batch_id text, run_ref text, amount text)")
        conn.execute(
            "insert into scan_probe.ids values"
            " ('550e8400-e29b-41d4-a716-446655440000', 'run 7f9c2ba4-e88f-4c1a-9d3e-040090001234', '999912345678'),"
            " ('6F9619FF-8B86-D011-B42D-00C04FC96412', 'lô 2024-04-01', '123456789012')"
        )  # fmt: skip
        try:
            found = {(f.column, f.kind) for f in scan_for_personal_data(conn, "scan_probe")}
        finally:
            conn.execute("drop schema scan_probe cascade")
    assert found == {("note", "cccd"), ("contact", "phone"), ("contact", "email")}


def test_scan_as_bi_finds_personal_data_planted_in_a_mart(secured):
    """The production check (as BI, over the marts) sees a leak beside real marts' rows."""
    with psycopg.connect(secured.url(), autocommit=True) as conn:
        conn.execute("drop table if exists marts.leak_probe")
        conn.execute(
            "create table marts.leak_probe as select"
            " 'Nguyễn Văn An, CCCD 040090001234' as note, '0912345678' as phone,"
            " 'an.nguyen@example.vn' as email, gen_random_uuid()::text as batch_id"
        )
    try:
        with _bi(secured) as conn:
            found = {(f.table, f.column, f.kind) for f in scan_for_personal_data(conn, "marts")}
    finally:
        with psycopg.connect(secured.url(), autocommit=True) as conn:
            conn.execute("drop table marts.leak_probe")
    assert found == {
        ("marts.leak_probe", "note", "cccd"),
        ("marts.leak_probe", "phone", "phone"),
        ("marts.leak_probe", "email", "email"),
    }


# The re-identification query: officers who are the only one with their (agency, title).
SINGLED_OUT = """
    select count(*) filter (where peers = 1), count(*)
    from (select count(*) over (partition by province_code, agency_code, officer_title) as peers
          from {relation}) as officers
"""
K = 5  # dbt_project.yml: officer_group_min_officers


def test_bi_cannot_single_out_an_officer(secured):
    with _bi(secured) as conn:
        with pytest.raises(errors.UndefinedTable):
            conn.execute(SINGLED_OUT.format(relation="marts.dim_officers"))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(SINGLED_OUT.format(relation="restricted.dim_officers"))
        officer_columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and (column_name like '%%officer%%'"
            " or column_name like '%%signer%%')"
        ).fetchall()
        # Officer figures reach BI only as counts of groups, never a key or a title per row.
        assert {c for _, c in officer_columns} <= {"officer_title_group", "officer_count"}
        assert {t for t, _ in officer_columns} <= {"mart_handling_by_officer_title"}
        smallest = conn.execute(
            "select min(officer_count) from marts.mart_handling_by_officer_title"
        ).fetchone()[0]
        assert smallest is None or smallest >= K


def test_the_officer_reviewer_reads_officer_lateness_and_nothing_raw(secured):
    with psycopg.connect(as_role(secured, REVIEWER_LOGIN).url(), autocommit=True) as conn:
        singled_out, officers = conn.execute(
            SINGLED_OUT.format(relation="restricted.dim_officers")
        ).fetchone()
        assert officers > 0 and singled_out <= officers  # the reviewer can; that is the point
        lateness = conn.execute(
            "select officer_key, step_count, late_dossier_codes"
            " from restricted.mart_officer_lateness_monthly"
        ).fetchall()
        # These fixtures' steps carry no handling time, so no month: tests/e2e fills it.
        assert all(len(key) == 64 for key, *_ in lateness)
        steps = conn.execute(
            "select officer_key, officer_title from restricted.officer_handling_steps"
        ).fetchall()
        assert steps and all(len(key) == 64 for key, _ in steps)
        conn.execute("select count(*) from marts.fct_dossiers")
        for forbidden in (
            "select * from staging.stg_onestop__handling_steps",
            "select * from raw.onestop__dossiers",
            f"select salt from {PRIVATE_SCHEMA}.pii_salt",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(forbidden)
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("delete from restricted.dim_officers")
