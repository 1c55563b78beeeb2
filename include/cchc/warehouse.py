"""The warehouse: a configured PostgreSQL server, or an embedded one the project starts itself.

The embedded server uses the PostgreSQL 16 binaries shipped in the `pgserver` wheel, in a
git-ignored data folder, listening on loopback TCP (and a socket in the data folder). It keeps
running between commands so a second run reuses it; `cchc warehouse stop` stops it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg

from cchc.config import PgParams, Settings, load_settings

EMBEDDED_USER = "postgres"
EMBEDDED_DB = "cchc"
SCHEMAS = ("raw", "audit", "staging", "intermediate", "marts", "dq")


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


def start_embedded(settings: Settings) -> PgParams:
    """Initialise (first time) and start the embedded server; a no-op when it already runs."""
    pgdata = settings.pgdata
    params = PgParams("127.0.0.1", settings.embedded_port, EMBEDDED_USER, "", EMBEDDED_DB)
    if embedded_running(settings):
        return params
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    _prepare_for_user(pgdata, user)
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run(
            [str(_pg_bin() / "initdb"), "-D", str(pgdata), "-U", EMBEDDED_USER,
             "--auth=trust", "--encoding=UTF8", "--no-locale"],
            user=user, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
    options = f"-h 127.0.0.1 -p {settings.embedded_port} -k {pgdata} -c fsync=off"
    result = _pg_ctl(pgdata, "-w", "-t", "60", "-l", str(pgdata / "server.log"),
                     "-o", options, "start", check=False)  # fmt: skip
    if result.returncode != 0:
        log = (pgdata / "server.log").read_text(errors="replace")[-2000:]
        raise WarehouseError(
            f"embedded PostgreSQL did not start on port {settings.embedded_port} "
            f"(is another server using it? set CCHC_PG_PORT_EMBEDDED).\n{result.stderr}\n{log}"
        )
    with psycopg.connect(params.url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute(
            "select 1 from pg_database where datname = %s", [EMBEDDED_DB]
        ).fetchone():
            conn.execute(f'create database "{EMBEDDED_DB}"')
    return params


def stop_embedded(settings: Settings) -> bool:
    if not embedded_running(settings):
        return False
    _pg_ctl(settings.pgdata, "-w", "-m", "fast", "stop")
    return True


def params(settings: Settings | None = None, *, start: bool = True) -> PgParams:
    """Connection parameters of the warehouse in use, starting the embedded one if needed."""
    settings = settings or load_settings()
    if not settings.embedded:
        return PgParams.from_url(settings.warehouse_url)
    if start:
        return start_embedded(settings)
    return PgParams("127.0.0.1", settings.embedded_port, EMBEDDED_USER, "", EMBEDDED_DB)


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
