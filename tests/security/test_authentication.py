"""The embedded warehouse is locked: every role proves a password, nothing else on the machine
gets in, no pipeline or BI login reaches the server's programs or files, and it fsyncs by
default. A warehouse initialised before this (trust, fsync off) is upgraded in place."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess

import psycopg
import pytest
from psycopg import errors

from cchc import warehouse
from cchc.security.secret_store import password_file
from tests.conftest import free_port

PIPELINE_AND_BI = ("loader", "transformer", "bi", "reviewer")


@pytest.fixture(scope="module")
def locked(make_database, settings):
    pg = make_database("security_auth")
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, warehouse_settings(settings, pg))
    return pg


def warehouse_settings(settings, pg):
    return dataclasses.replace(settings, warehouse_url=pg.url())


@pytest.mark.parametrize("user", ["postgres", "cchc_etl", "cchc_dbt", "cchc_bi", "cchc_review"])
def test_no_role_connects_without_its_password(locked, user):
    for password in ("", "wrong-password"):
        attempt = dataclasses.replace(locked, user=user, password=password)
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(attempt.url(), connect_timeout=5).close()


def test_no_trust_line_and_scram_everywhere(locked):
    with psycopg.connect(locked.url()) as conn:
        methods = {r[0] for r in conn.execute("select auth_method from pg_hba_file_rules")}
        assert methods == {"scram-sha-256"}
        assert conn.execute("show password_encryption").fetchone()[0] == "scram-sha-256"


def test_passwords_are_private_to_the_project(settings, locked):
    path = password_file(settings.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("su"), reason="needs root to be nobody")
def test_another_os_account_gets_nowhere(settings, locked):
    psql = str(warehouse._pg_bin() / "psql")

    def as_nobody(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["su", "nobody", "-s", "/bin/sh", "-c", command],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    for host in ("127.0.0.1", str(settings.pgdata)):  # TCP, and the socket in the data folder
        result = as_nobody(
            f"{psql} -w -h {host} -p {locked.port} -U postgres -d postgres -c 'select 1'"
        )
        assert result.returncode != 0, result.stdout
    assert as_nobody(f"cat {password_file(settings.data_dir)}").returncode != 0


@pytest.mark.parametrize("login", PIPELINE_AND_BI)
def test_no_pipeline_or_bi_login_reaches_server_programs_or_files(settings, locked, login):
    pg = warehouse.login_params(login, warehouse_settings(settings, locked))
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute("set default_transaction_read_only = off")
        for statement in (
            "copy (select 1) to program 'id'",
            "copy (select 1) to '/tmp/cchc-copy-probe'",
            "select pg_read_file('postgresql.conf')",
            "select pg_ls_dir('.')",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        rolsuper = conn.execute(
            "select rolsuper from pg_roles where rolname = session_user"
        ).fetchone()[0]
        assert not rolsuper


def test_the_default_embedded_mode_fsyncs(settings, tmp_path):
    durable = dataclasses.replace(
        settings, data_dir=tmp_path / "data", embedded_port=free_port(), pg_durability="durable"
    )
    assert dataclasses.replace(durable, pg_durability="fast") != durable
    try:
        pg = warehouse.start_embedded(durable)
        with psycopg.connect(pg.url()) as conn:
            assert conn.execute("show fsync").fetchone()[0] == "on"
            assert conn.execute("show synchronous_commit").fetchone()[0] == "on"
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(dataclasses.replace(pg, password="").url()).close()
    finally:
        warehouse.stop_embedded(durable)


def test_a_trusting_warehouse_is_locked_in_place(settings, tmp_path):
    """A data folder initialised the way earlier versions did (trust, fsync off) keeps its
    data and comes back with passwords and fsync on."""
    old = dataclasses.replace(
        settings, data_dir=tmp_path / "data", embedded_port=free_port(), pg_durability="durable"
    )
    pgdata = old.pgdata
    pgdata.mkdir(parents=True)
    user = warehouse._run_as()
    warehouse._prepare_for_user(pgdata, user)
    subprocess.run(
        [str(warehouse._pg_bin() / "initdb"), "-D", str(pgdata), "-U", "postgres",
         "--auth=trust", "--encoding=UTF8", "--no-locale"],
        user=user, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    options = f"-h 127.0.0.1 -p {old.embedded_port} -k {pgdata} -c fsync=off"
    warehouse._pg_ctl(pgdata, "-w", "-l", str(pgdata / "server.log"), "-o", options, "start")
    try:
        trusting = f"postgresql://postgres@127.0.0.1:{old.embedded_port}/postgres"
        with psycopg.connect(trusting, autocommit=True) as conn:
            conn.execute("create database cchc")
        with psycopg.connect(trusting.rsplit("/", 1)[0] + "/cchc", autocommit=True) as conn:
            conn.execute("create table kept (x int)")
            conn.execute("insert into kept values (42)")

        pg = warehouse.start_embedded(old)  # what any command does first

        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(trusting).close()
        with psycopg.connect(pg.url()) as conn:
            assert conn.execute("select x from kept").fetchone() == (42,)
            assert conn.execute("show fsync").fetchone()[0] == "on"
            methods = {r[0] for r in conn.execute("select auth_method from pg_hba_file_rules")}
            assert methods == {"scram-sha-256"}
    finally:
        warehouse.stop_embedded(old)
