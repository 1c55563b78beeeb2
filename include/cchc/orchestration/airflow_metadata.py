"""Airflow's own state on the embedded warehouse: its database, its login and its secrets.

The local Airflow keeps its metadata in the embedded PostgreSQL, in a database of its own
(`airflow`) owned by a login of its own (`cchc_airflow`), so the scheduler's LocalExecutor can
run tasks in parallel as in production (SQLite would serialise them) and no pipeline role can
read Airflow's connections. Every secret is generated once and kept with mode 0600 under
`<data dir>/secrets/`, beside the database files it protects:

| file                       | holds                                                           |
| -------------------------- | --------------------------------------------------------------- |
| `airflow.json`             | the metadata login's password, JWT secret, API secret key, Fernet key |
| `airflow-admin.json`       | the UI's `admin` password (Airflow's simple auth manager reads it) |
"""

from __future__ import annotations

import secrets
from pathlib import Path

from psycopg import sql

from cchc.config import Settings
from cchc.security.secret_store import read_json, write_private_json

METADATA_DB = "airflow"
METADATA_LOGIN = "cchc_airflow"
ADMIN_USER = "admin"
SECRETS_FILE = "airflow.json"
ADMIN_PASSWORD_FILE = "airflow-admin.json"
# Part of the local Airflow's "prepared" stamp: a folder prepared for SQLite is migrated again.
METADATA_LAYOUT = f"metadata: postgresql database {METADATA_DB}"


def secrets_dir(settings: Settings) -> Path:
    return settings.data_dir / "secrets"


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


GENERATORS = {
    "metadata_password": lambda: secrets.token_urlsafe(24),
    "jwt_secret": lambda: secrets.token_urlsafe(32),
    "api_secret_key": lambda: secrets.token_urlsafe(32),
    "fernet_key": _fernet_key,
}


def airflow_secrets(settings: Settings) -> dict[str, str]:
    """The local Airflow's secrets, generated the first time and kept (0600) afterwards."""
    path = secrets_dir(settings) / SECRETS_FILE
    stored = read_json(path)
    missing = [name for name in GENERATORS if not stored.get(name)]
    for name in missing:
        stored[name] = GENERATORS[name]()
    if missing or not path.exists():
        write_private_json(path, stored)
    return stored


def admin_password_file(settings: Settings) -> Path:
    return secrets_dir(settings) / ADMIN_PASSWORD_FILE


def admin_password(settings: Settings) -> tuple[str, bool]:
    """The UI's admin password and whether it was generated just now (to print it once)."""
    path = admin_password_file(settings)
    stored = read_json(path)
    if stored.get(ADMIN_USER):
        return stored[ADMIN_USER], False
    stored[ADMIN_USER] = secrets.token_urlsafe(18)
    write_private_json(path, stored)
    return stored[ADMIN_USER], True


def metadata_url(settings: Settings, driver: str = "psycopg2") -> str:
    """SQLAlchemy URL of Airflow's metadata database on the embedded server, over TCP."""
    password = airflow_secrets(settings)["metadata_password"]
    return (
        f"postgresql+{driver}://{METADATA_LOGIN}:{password}"
        f"@127.0.0.1:{settings.embedded_port}/{METADATA_DB}"
    )


def metadata_env(settings: Settings) -> dict[str, str]:
    """Airflow settings that put its metadata on the embedded server and share its secrets
    among the api-server, scheduler, dag-processor, triggerer and task processes.
    Empty with a configured warehouse: that deployment configures its own Airflow."""
    if not settings.embedded:
        return {}
    values = airflow_secrets(settings)
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(settings),
        # Airflow's async engine would default to asyncpg; psycopg 3 (installed) does async too.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url(settings, "psycopg"),
        "AIRFLOW__API_AUTH__JWT_SECRET": values["jwt_secret"],
        "AIRFLOW__API__SECRET_KEY": values["api_secret_key"],
        "AIRFLOW__CORE__FERNET_KEY": values["fernet_key"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(admin_password_file(settings)),
    }


def ensure_metadata_database(settings: Settings) -> bool:
    """Create (first time) the metadata login and database, and re-assert the login's
    password from the secrets file; safe to run every time. True when the database is new
    (it must be migrated)."""
    from cchc import warehouse
    from cchc.security.roles import scram_verifier

    password = airflow_secrets(settings)["metadata_password"]
    login = sql.Identifier(METADATA_LOGIN)
    with warehouse.connect(settings, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", [METADATA_LOGIN])
        if exists.fetchone() is None:
            conn.execute(sql.SQL("create role {} login").format(login))
        # The verifier, not the password, so the clear text never reaches the server's log.
        conn.execute(
            sql.SQL("alter role {} login nosuperuser nocreatedb nocreaterole password {}").format(
                login, sql.Literal(scram_verifier(password))
            )
        )
        found = conn.execute("select 1 from pg_database where datname = %s", [METADATA_DB])
        created = found.fetchone() is None
        if created:
            conn.execute(
                sql.SQL("create database {} owner {}").format(sql.Identifier(METADATA_DB), login)
            )
        # The pipeline's roles have no business in Airflow's state (its connections).
        conn.execute(
            sql.SQL("revoke all on database {} from public").format(sql.Identifier(METADATA_DB))
        )
    return created
