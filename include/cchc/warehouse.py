"""The warehouse: a configured PostgreSQL server, or an embedded one the project starts itself.

The embedded server uses the PostgreSQL 16 binaries shipped in the `pgserver` wheel, in a
git-ignored data folder, listening on loopback TCP (and a socket in the data folder). It keeps
running between commands so a second run reuses it; `cchc warehouse stop` stops it. Every
role authenticates with a password (generated, kept 0600 under the data folder) and the
server fsyncs, unless the test-only `CCHC_PG_DURABILITY=fast` says otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from cchc.config import PgParams, Settings, load_settings
from cchc.security.secret_store import password_file, stored_password

EMBEDDED_USER = "postgres"
EMBEDDED_DB = "cchc"
SCHEMAS = ("raw", "audit", "staging", "intermediate", "marts", "restricted", "dq")


class WarehouseError(RuntimeError):
    pass


@contextlib.contextmanager
def _quiet_pgserver_import():
    """pgserver asks platformdirs for a runtime folder as it is imported; as root without
    XDG_RUNTIME_DIR that warns on every command, though the embedded server never uses it."""
    try:
        from platformdirs import RuntimeDirWarning
    except ImportError:  # an older platformdirs: it does not warn
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeDirWarning)
        yield


def _pg_bin() -> Path:
    with _quiet_pgserver_import():
        from pgserver._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


def _run_as() -> str | None:
    """PostgreSQL refuses to run as root: use an unprivileged system user then."""
    return "pgserver" if os.geteuid() == 0 else None


def _prepare_for_user(pgdata: Path, user: str | None) -> None:
    if user is None:
        return
    import pwd
    import stat

    with _quiet_pgserver_import():
        from pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(user)
    ensure_prefix_permissions(pgdata)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(_pg_bin(), read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(_pg_bin().parent / "lib", read)
    entry = pwd.getpwnam(user)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _pg_ctl(pgdata: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(_pg_bin() / "pg_ctl"), "-D", str(pgdata), *args],
        user=_run_as(),
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def embedded_running(settings: Settings) -> bool:
    if not (settings.pgdata / "PG_VERSION").exists():
        return False
    return _pg_ctl(settings.pgdata, "status", check=False).returncode == 0


# Every connection, on the socket and on TCP, proves its password: no `trust` line, so
# another OS account of the machine reaches no role, the superuser least of all.
PG_HBA = """\
# Written by cchc.warehouse: every role authenticates with its password (SCRAM-SHA-256).
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""
# fsync off risks the whole cluster on an OS crash or power loss: only for test warehouses.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def superuser_password(settings: Settings) -> str:
    """The embedded superuser's password, generated on first use and kept 0600 under the
    data folder."""
    return stored_password(settings.data_dir, EMBEDDED_USER)


def _embedded_params(settings: Settings) -> PgParams:
    return PgParams(
        "127.0.0.1",
        settings.embedded_port,
        EMBEDDED_USER,
        superuser_password(settings),
        EMBEDDED_DB,
    )


def _hba_is_locked(pgdata: Path) -> bool:
    return (pgdata / "pg_hba.conf").read_text() == PG_HBA


def _write_hba(pgdata: Path) -> None:
    """Replace pg_hba.conf (as the server's user, so it can read it on reload)."""
    path = pgdata / "pg_hba.conf"
    path.write_text(PG_HBA)
    user = _run_as()
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    os.chmod(path, 0o600)


def _lock_trusting_cluster(settings: Settings, params: PgParams) -> None:
    """Upgrade in place a warehouse initialised with `trust`: give the superuser its
    password (while trust still lets us in), then require passwords and reload."""
    from cchc.security.roles import scram_verifier

    trusting = dataclasses.replace(params, password="", dbname="postgres")
    with psycopg.connect(trusting.url(), autocommit=True) as conn:
        # The verifier, not the password, so the clear text reaches no server log.
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                sql.Identifier(EMBEDDED_USER), sql.Literal(scram_verifier(params.password))
            )
        )
    _write_hba(settings.pgdata)
    _pg_ctl(settings.pgdata, "reload")


def _initdb(settings: Settings, user: str | None) -> None:
    # The superuser's password reaches initdb in a file only the server's user can read,
    # removed at once: never on a command line.
    pwfile = settings.pgdata.parent / f".{settings.pgdata.name}-initdb-password"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(superuser_password(settings) + "\n")
        if user is not None:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [str(_pg_bin() / "initdb"), "-D", str(settings.pgdata), "-U", EMBEDDED_USER,
             "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
             "--encoding=UTF8", "--no-locale"],
            user=user, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)
    _write_hba(settings.pgdata)


def _server_options(settings: Settings) -> str:
    options = f"-h 127.0.0.1 -p {settings.embedded_port} -k {settings.pgdata}"
    return f"{options} {FAST_OPTIONS}" if settings.pg_durability == "fast" else options


def _start_server(settings: Settings) -> None:
    pgdata = settings.pgdata
    result = _pg_ctl(pgdata, "-w", "-t", "60", "-l", str(pgdata / "server.log"),
                     "-o", _server_options(settings), "start", check=False)  # fmt: skip
    if result.returncode != 0:
        log = (pgdata / "server.log").read_text(errors="replace")[-2000:]
        raise WarehouseError(
            f"embedded PostgreSQL did not start on port {settings.embedded_port} "
            f"(is another server using it? set CCHC_PG_PORT_EMBEDDED).\n{result.stderr}\n{log}"
        )


def _connect_admin(params: PgParams, settings: Settings) -> psycopg.Connection:
    try:
        return psycopg.connect(params.url().rsplit("/", 1)[0] + "/postgres", autocommit=True)
    except psycopg.OperationalError as error:
        if "password authentication failed" in str(error):
            raise WarehouseError(
                f"the embedded warehouse refused the superuser password kept in "
                f"{password_file(settings.data_dir)}: restore that file from the backup "
                "of the data folder (docs/runbook.md, 'Backup and restore')"
            ) from error
        raise


def start_embedded(settings: Settings) -> PgParams:
    """Initialise (first time) and start the embedded server; a no-op when it already runs
    as configured. A server found with `trust` authentication is locked in place; one found
    running with another durability mode is restarted with the configured one."""
    pgdata = settings.pgdata
    params = _embedded_params(settings)
    checked = (str(pgdata), settings.embedded_port, settings.pg_durability)
    running = embedded_running(settings)
    if running and checked in _CHECKED:
        return params
    if running and _hba_is_locked(pgdata) and _fsync_as_wanted(params, settings):
        _CHECKED.add(checked)
        return params
    if not running:
        pgdata.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        _prepare_for_user(pgdata, user)
        if not (pgdata / "PG_VERSION").exists():
            _initdb(settings, user)
        _start_server(settings)
    upgraded = not _hba_is_locked(pgdata)
    if upgraded:
        _lock_trusting_cluster(settings, params)
    if not _fsync_as_wanted(params, settings):
        # fsync given on the command line (older versions: always off) needs a restart.
        _pg_ctl(pgdata, "-w", "-m", "fast", "stop")
        _start_server(settings)
    with _connect_admin(params, settings) as conn:
        created = not conn.execute(
            "select 1 from pg_database where datname = %s", [EMBEDDED_DB]
        ).fetchone()
        if created:
            conn.execute(f'create database "{EMBEDDED_DB}"')
    if created or upgraded:
        # The pipeline's logins exist (with their current grants) from the start, or from
        # the upgrade of an older data folder on: any command may be the first.
        with psycopg.connect(params.url(), autocommit=True) as conn:
            bootstrap(conn, settings)
    _CHECKED.add(checked)
    return params


# Servers this process found locked and in the configured durability mode: checked once.
_CHECKED: set[tuple[str, int, str]] = set()


def _fsync_as_wanted(params: PgParams, settings: Settings) -> bool:
    with _connect_admin(params, settings) as conn:
        fsync = conn.execute("show fsync").fetchone()[0]
    return (fsync == "on") == (settings.pg_durability == "durable")


def stop_embedded(settings: Settings) -> bool:
    if not embedded_running(settings):
        return False
    _pg_ctl(settings.pgdata, "-w", "-m", "fast", "stop")
    return True


def params(settings: Settings | None = None, *, start: bool = True) -> PgParams:
    """Connection parameters of the warehouse's owner (the embedded superuser, or the
    configured URL's user), starting the embedded server if needed. Administration only:
    the pipeline connects with :func:`login_params`."""
    settings = settings or load_settings()
    if not settings.embedded:
        return PgParams.from_url(settings.warehouse_url)
    if start:
        return start_embedded(settings)
    return _embedded_params(settings)


# What each part of the pipeline connects as (cchc.security.roles has the grants).
LOGINS = {
    "owner": None,  # the warehouse owner: bootstrap and administration only
    "loader": "cchc_etl",  # extract: writes raw and audit
    "transformer": "cchc_dbt",  # dbt, Great Expectations, exports: raw in, staging..dq out
    "bi": "cchc_bi",  # BI tools: marts, read-only
    "reviewer": "cchc_review",  # officer-level lateness (restricted), read-only
}


def login_params(login: str, settings: Settings | None = None, *, start: bool = True) -> PgParams:
    """Host, port, database, user and password of one login of the warehouse in use.

    `login` is one of :data:`LOGINS`. The server is the configured one (`CCHC_WAREHOUSE_URL`,
    whose credentials are the owner's and are used for "owner" only) or the embedded one,
    started when needed. A login's password is `CCHC_<GROUP>_PASSWORD` when set, else the one
    the bootstrap generated and keeps 0600 under the data folder.
    """
    if login not in LOGINS:
        raise ValueError(f"unknown warehouse login {login!r}; one of {', '.join(LOGINS)}")
    settings = settings or load_settings()
    owner = params(settings, start=start)
    if login == "owner":
        return owner
    from cchc.security.roles import login_passwords

    role = LOGINS[login]
    return dataclasses.replace(owner, user=role, password=login_passwords(settings)[role])


@contextlib.contextmanager
def connect_as(login: str, settings: Settings | None = None, **kwargs):
    """A connection as one login of :data:`LOGINS`."""
    with psycopg.connect(login_params(login, settings).url(), **kwargs) as conn:
        yield conn


@contextlib.contextmanager
def connect(settings: Settings | None = None, **kwargs) -> Iterator[psycopg.Connection]:
    with psycopg.connect(params(settings).url(), **kwargs) as conn:
        yield conn


def ensure_schemas(conn: psycopg.Connection) -> None:
    for schema in SCHEMAS:
        conn.execute(f"create schema if not exists {schema}")


def bootstrap(conn: psycopg.Connection, settings: Settings | None = None):
    """Schemas, roles, grants and the personal-data hash function; safe to run every night.

    Runs before loading (so new raw tables get their grants) and before dbt (staging calls
    the hash function). `conn` must be in autocommit mode."""
    from cchc.quality.results import ensure_tables as ensure_quality_tables
    from cchc.security import bootstrap_warehouse

    ensure_schemas(conn)
    ensure_quality_tables(conn)  # the data-quality mart reads them from the first night on
    return bootstrap_warehouse(conn, settings)


def check_bootstrapped(pg: PgParams) -> None:
    """Raise unless the bootstrap has run on the warehouse `pg` points at: the tasks connect
    with their own logins and cannot create roles or grants themselves."""
    try:
        with psycopg.connect(pg.url()) as conn:
            ready = conn.execute(
                "select to_regprocedure('cchc_private.pii_hash(text)') is not null"
                " and to_regclass('dq.record_flags') is not null"
            ).fetchone()[0]
    except psycopg.OperationalError as error:
        raise WarehouseError(
            f"cannot connect to the warehouse as {pg.user}: {error}. Run `cchc warehouse "
            "bootstrap` as its owner (compose: airflow-init) to create the logins"
        ) from error
    if not ready:
        raise WarehouseError(
            "the warehouse is not bootstrapped: run `cchc warehouse bootstrap` as its owner "
            "(compose: the airflow-init service)"
        )
