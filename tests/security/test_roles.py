"""The bootstrap itself: idempotent, pipeline roles can do their jobs, salt and passwords."""

from __future__ import annotations

import base64
import json

import psycopg
import pytest
from psycopg import errors

from cchc.config import load_settings
from cchc.security.roles import (
    PRIVATE_SCHEMA,
    SaltError,
    bootstrap_roles,
    login_passwords,
    rotate_pii_salt,
    scram_verifier,
)
from cchc.warehouse import ensure_schemas
from tests.security.conftest import as_role

SALT = "roles-test-salt-0123456789"


@pytest.fixture(scope="module")
def db(make_database):
    pg = make_database("security_roles")
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        ensure_schemas(conn)
        bootstrap_roles(conn, passwords=login_passwords(load_settings()), pii_salt=SALT)
    return pg


def test_bootstrap_is_idempotent(db):
    with psycopg.connect(db.url(), autocommit=True) as conn:
        first = conn.execute("select nspname, nspacl::text from pg_namespace order by 1").fetchall()
        report = bootstrap_roles(conn, pii_salt=SALT)
        again = conn.execute("select nspname, nspacl::text from pg_namespace order by 1").fetchall()
    assert report.created_roles == [] and report.salt == "kept"
    assert first == again


def test_public_cannot_create_in_public_schema(db):
    with psycopg.connect(db.url()) as conn:
        assert not conn.execute(
            "select has_schema_privilege('public', 'public', 'create')"
        ).fetchone()[0]


def test_loader_writes_raw_but_not_marts(db):
    with psycopg.connect(db.url(), autocommit=True) as conn:
        conn.execute("create table if not exists raw.probe (x int)")
        conn.execute("create table if not exists marts.probe (x int)")
    with psycopg.connect(as_role(db, "cchc_etl").url(), autocommit=True) as conn:
        conn.execute("insert into raw.probe values (1)")
        conn.execute("create temp table staged (x int)")  # the loader stages pages this way
        conn.execute("create table if not exists raw.loader_made (x int)")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select * from marts.probe")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"select {PRIVATE_SCHEMA}.pii_hash('x')")


def test_transformer_reads_raw_writes_marts_hashes_but_never_sees_the_salt(db):
    with psycopg.connect(as_role(db, "cchc_dbt").url(), autocommit=True) as conn:
        conn.execute("select * from raw.probe")
        conn.execute("select * from raw.loader_made")  # a table the loader created later
        conn.execute("create table marts.dbt_made as select 1 as x")
        assert len(conn.execute(f"select {PRIVATE_SCHEMA}.pii_hash('x')").fetchone()[0]) == 64
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"select salt from {PRIVATE_SCHEMA}.pii_salt")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("insert into raw.probe values (2)")
    # A table the transformer creates in marts later is readable by BI without a new grant.
    with psycopg.connect(as_role(db, "cchc_bi").url()) as conn:
        assert conn.execute("select x from marts.dbt_made").fetchone() == (1,)


def test_a_different_salt_is_refused_and_rotation_is_explicit(db):
    with psycopg.connect(db.url(), autocommit=True) as conn:
        before = conn.execute(f"select {PRIVATE_SCHEMA}.pii_hash('040090001234')").fetchone()[0]
        with pytest.raises(SaltError):
            bootstrap_roles(conn, pii_salt="another-salt-0123456789")
        with pytest.raises(SaltError):
            rotate_pii_salt(conn, "change-me-pii-salt")
        rotate_pii_salt(conn, "rotated-salt-0123456789")
        after = conn.execute(f"select {PRIVATE_SCHEMA}.pii_hash('040090001234')").fetchone()[0]
        rotate_pii_salt(conn, SALT)
    assert before != after


def test_scram_verifier_matches_the_server(db):
    with psycopg.connect(db.url(), autocommit=True) as conn:
        conn.execute("set password_encryption = 'scram-sha-256'")
        conn.execute("drop role if exists scram_probe")
        conn.execute("create role scram_probe password 'Mật-khẩu_42'")
        stored = conn.execute(
            "select rolpassword from pg_authid where rolname = 'scram_probe'"
        ).fetchone()[0]
        conn.execute("drop role scram_probe")
    iterations, salt = stored.split("$")[1].split(":")
    ours = scram_verifier("Mật-khẩu_42", salt=base64.b64decode(salt), iterations=int(iterations))
    assert ours == stored


def test_password_set_as_verifier_and_only_when_changed(db):
    with psycopg.connect(db.url(), autocommit=True) as conn:
        first = bootstrap_roles(conn, passwords={"cchc_bi": "first-password"}, pii_salt=SALT)
        same = bootstrap_roles(conn, passwords={"cchc_bi": "first-password"}, pii_salt=SALT)
        unset = bootstrap_roles(conn, passwords={"cchc_bi": None}, pii_salt=SALT)
        stored = conn.execute(
            "select rolpassword from pg_authid where rolname = 'cchc_bi'"
        ).fetchone()[0]
        # Back to the passwords the other tests' connections read.
        bootstrap_roles(conn, passwords=login_passwords(load_settings()), pii_salt=SALT)
    assert first.passwords_set == ["cchc_bi"]
    assert same.passwords_set == [] and unset.passwords_set == []
    assert stored.startswith("SCRAM-SHA-256$") and "first-password" not in stored


def test_passwords_generated_once_and_private(settings, monkeypatch, tmp_path):
    import dataclasses
    import stat

    monkeypatch.delenv("CCHC_LOADER_PASSWORD", raising=False)
    monkeypatch.delenv("CCHC_TRANSFORMER_PASSWORD", raising=False)
    monkeypatch.setenv("CCHC_BI_READER_PASSWORD", "from-the-environment")
    local = dataclasses.replace(settings, data_dir=tmp_path)
    first, second = login_passwords(local), login_passwords(local)
    assert first == second and first["cchc_bi"] == "from-the-environment"
    path = tmp_path / "secrets" / "warehouse-roles.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert set(json.loads(path.read_text())) == {"cchc_etl", "cchc_dbt", "cchc_review"}
    # A configured warehouse's bootstrap keeps its generated passwords the same way.
    configured = dataclasses.replace(local, warehouse_url="postgresql://x@h/cchc")
    assert login_passwords(configured) == first


def test_owner_built_objects_are_handed_to_the_groups(db):
    """A warehouse built before the tasks used their logins: its tables belong to the owner
    until the bootstrap hands them over, as `reassign owned` would for the pipeline's schemas."""
    with psycopg.connect(db.url(), autocommit=True) as conn:
        conn.execute("create table raw.owner_built (id serial primary key)")
        conn.execute("create table marts.owner_built (x int)")
        conn.execute("create view marts.owner_view as select x from marts.owner_built")
        bootstrap_roles(conn, pii_salt=SALT)
        owners = dict(
            conn.execute(
                "select n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner)"
                " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where c.relname like 'owner_%%'"
            ).fetchall()
        )
    assert owners == {
        "raw.owner_built": "cchc_loader",
        "raw.owner_built_id_seq": "cchc_loader",
        "raw.owner_built_pkey": "cchc_loader",
        "marts.owner_built": "cchc_transformer",
        "marts.owner_view": "cchc_transformer",
    }
    # The loader login acts as its group, so it may replace what the group owns.
    with psycopg.connect(as_role(db, "cchc_etl").url(), autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == ("cchc_loader",)
        conn.execute("drop table raw.owner_built")


def test_loading_into_a_database_never_bootstrapped_says_what_to_do(db, make_database):
    from cchc.extract.raw_store import ensure_raw_tables

    fresh = make_database("security_never_bootstrapped")
    with (
        psycopg.connect(as_role(fresh, "cchc_etl").url(), autocommit=True) as conn,
        pytest.raises(errors.InsufficientPrivilege, match="cchc warehouse bootstrap"),
    ):
        ensure_raw_tables(conn, "H40")
