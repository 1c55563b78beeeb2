"""Warehouse roles, grants and the salted hash of personal identifiers.

Three group roles carry the privileges; one login role per group is what people and
services connect as, so a password can be rotated without touching a grant:

| group              | login     | may                                                         |
| ------------------ | --------- | ----------------------------------------------------------- |
| `cchc_loader`      | `cchc_etl` | write `raw` and `audit`                                    |
| `cchc_transformer` | `cchc_dbt` | read `raw`/`audit`, write `staging`, `intermediate`, `marts`, `dq`, call `pii_hash` |
| `cchc_bi_reader`   | `cchc_bi`  | read `marts`, nothing else, read-only sessions             |

Personal identifiers are hashed by `cchc_private.pii_hash(text)`: a SECURITY DEFINER function
owned by the NOLOGIN role `cchc_pii_keeper`, which alone can read the salt table. Views and
models call the function by name, so no view definition, compiled dbt file or dbt log
contains the salt.

:func:`bootstrap_roles` is idempotent and re-asserts every grant on each run, so it is safe
(and intended) to run before every dbt build. It must run as a superuser or the database
owner with CREATEROLE (the embedded `postgres`, the compose `WAREHOUSE_USER`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from cchc.config import Settings, load_settings

log = logging.getLogger(__name__)

LOADER = "cchc_loader"
TRANSFORMER = "cchc_transformer"
BI_READER = "cchc_bi_reader"
PII_KEEPER = "cchc_pii_keeper"
GROUP_ROLES = (LOADER, TRANSFORMER, BI_READER)

PRIVATE_SCHEMA = "cchc_private"
LOADER_SCHEMAS = ("raw", "audit")
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "dq")
BI_SCHEMAS = ("marts",)
# Schemas the BI role must never see; `public` stays readable (it holds nothing of ours).
HIDDEN_FROM_BI = (*LOADER_SCHEMAS, "staging", "intermediate", "dq", PRIVATE_SCHEMA)

SALT_ENV = "CCHC_PII_SALT"
MIN_SALT_LENGTH = 16
PASSWORD_FILE = "warehouse-roles.json"


@dataclass(frozen=True)
class LoginRole:
    name: str
    group: str
    password_env: str


LOGIN_ROLES = (
    LoginRole("cchc_etl", LOADER, "CCHC_LOADER_PASSWORD"),
    LoginRole("cchc_dbt", TRANSFORMER, "CCHC_TRANSFORMER_PASSWORD"),
    LoginRole("cchc_bi", BI_READER, "CCHC_BI_READER_PASSWORD"),
)
BI_LOGIN = "cchc_bi"


class SaltError(RuntimeError):
    """The configured salt is unusable or differs from the one the warehouse hashes with."""


@dataclass
class BootstrapReport:
    created_roles: list[str] = field(default_factory=list)
    passwords_set: list[str] = field(default_factory=list)
    salt: str = "kept"  # kept | set | generated | rotated

    def summary(self) -> str:
        created = ", ".join(self.created_roles) or "none"
        passwords = ", ".join(self.passwords_set) or "none"
        return f"roles created: {created}; passwords set: {passwords}; PII salt {self.salt}"


# ---------------------------------------------------------------------------------------
# Passwords


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 7677).

    Sending the verifier instead of the password keeps the clear password out of the server
    log (`log_statement = ddl`) and pg_stat_statements.
    """
    salt = salt if salt is not None else os.urandom(16)
    # PostgreSQL applies SASLprep, whose core for ordinary passwords is NFKC.
    secret = unicodedata.normalize("NFKC", password).encode("utf-8")
    salted = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def _verifier_matches(stored: str | None, password: str) -> bool:
    if not stored or not stored.startswith("SCRAM-SHA-256$"):
        return False
    try:
        iterations, salt = stored.split("$")[1].split(":")
        expected = scram_verifier(password, salt=base64.b64decode(salt), iterations=int(iterations))
    except (ValueError, IndexError):
        return False
    return hmac.compare_digest(stored, expected)


def login_passwords(settings: Settings | None = None) -> dict[str, str | None]:
    """Password of each login role: `CCHC_<GROUP>_PASSWORD` from the environment.

    Embedded mode: a missing one is generated once and kept in `<data dir>/secrets/` (mode
    0600), next to the database files it protects. The embedded server trusts loopback
    connections anyway, so these passwords only matter once the data folder is served with
    password authentication. With a configured warehouse a missing password stays None:
    the role's current password is left alone (a task without the variable does not lock
    the BI tool out), and a new role gets none, so it cannot log in until one is set.
    """
    settings = settings or load_settings()
    passwords: dict[str, str | None] = {
        role.name: os.environ.get(role.password_env) or None for role in LOGIN_ROLES
    }
    if settings.embedded and any(value is None for value in passwords.values()):
        path = settings.data_dir / "secrets" / PASSWORD_FILE
        stored = _read_password_file(path)
        for name, value in passwords.items():
            if value is None:
                passwords[name] = stored.setdefault(name, secrets.token_urlsafe(24))
        _write_password_file(path, stored)
    return passwords


def _read_password_file(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _write_password_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # Created with 0600 from the start: never readable by others, even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)


# ---------------------------------------------------------------------------------------
# Roles and grants


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select 1 from pg_roles where rolname = %s", [name]).fetchone() is not None


def _ensure_role(conn: psycopg.Connection, name: str, *, login: bool, report: BootstrapReport):
    if not _role_exists(conn, name):
        conn.execute(sql.SQL("create role {} nologin").format(_ident(name)))
        report.created_roles.append(name)
    # Re-asserted every run: a role widened by hand is narrowed again.
    attributes = "login inherit" if login else "nologin"
    conn.execute(
        sql.SQL(
            "alter role {} " + attributes + " nosuperuser nocreatedb nocreaterole "
            "noreplication nobypassrls"
        ).format(_ident(name))
    )


def _set_password(conn: psycopg.Connection, name: str, password: str, report: BootstrapReport):
    try:
        with conn.transaction():
            stored = conn.execute(
                "select rolpassword from pg_authid where rolname = %s", [name]
            ).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        stored = None  # not a superuser: cannot compare, set it again
    if stored and _verifier_matches(stored[0], password):
        return
    conn.execute(
        sql.SQL("alter role {} password {}").format(
            _ident(name), sql.Literal(scram_verifier(password))
        )
    )
    report.passwords_set.append(name)


def _grant_schema_tables(conn, schemas, privileges: str, role: str, creators: list[str]) -> None:
    """`privileges` on every existing table of `schemas`, and by default on future ones."""
    for schema in schemas:
        conn.execute(
            sql.SQL("grant " + privileges + " on all tables in schema {} to {}").format(
                _ident(schema), _ident(role)
            )
        )
        for creator in creators:
            conn.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema {} grant "
                    + privileges
                    + " on tables to {}"
                ).format(_ident(creator), _ident(schema), _ident(role))
            )


def bootstrap_roles(
    conn: psycopg.Connection,
    *,
    passwords: Mapping[str, str | None] | None = None,
    pii_salt: str | None = None,
) -> BootstrapReport:
    """Create or re-assert roles, grants, default privileges and the PII hash function.

    `passwords` maps login role names (`cchc_etl`, `cchc_dbt`, `cchc_bi`) to passwords;
    None leaves a role's password as it is. `pii_salt` None keeps the stored salt (or
    generates one when there is none); a salt different from the stored one raises
    :class:`SaltError`: use :func:`rotate_pii_salt` deliberately.
    """
    from cchc.warehouse import SCHEMAS

    passwords = passwords or {}
    report = BootstrapReport()
    database = conn.info.dbname
    with conn.transaction():
        # Role DDL is cluster-wide and concurrent runs would collide in the catalog.
        conn.execute("select pg_advisory_xact_lock(hashtext('cchc:bootstrap-roles'))")
        bootstrapper = conn.execute("select current_user").fetchone()[0]

        for group in (*GROUP_ROLES, PII_KEEPER):
            _ensure_role(conn, group, login=False, report=report)
        for role in LOGIN_ROLES:
            _ensure_role(conn, role.name, login=True, report=report)
            conn.execute(sql.SQL("grant {} to {}").format(_ident(role.group), _ident(role.name)))
            if passwords.get(role.name):
                _set_password(conn, role.name, passwords[role.name], report)

        # The BI login: read-only sessions, marts first, bounded queries.
        for setting, value in (
            ("default_transaction_read_only", "on"),
            ("search_path", "marts"),
            ("statement_timeout", "300000"),
        ):
            conn.execute(
                sql.SQL("alter role {} in database {} set {} = {}").format(
                    _ident(BI_LOGIN), _ident(database), _ident(setting), sql.Literal(value)
                )
            )

        # Database: only our roles connect; temp tables only for the pipeline (the loader
        # stages pages in one).
        db = _ident(database)
        conn.execute(sql.SQL("revoke all on database {} from public").format(db))
        for group in GROUP_ROLES:
            conn.execute(sql.SQL("grant connect on database {} to {}").format(db, _ident(group)))
        for group in (LOADER, TRANSFORMER):
            conn.execute(sql.SQL("grant temporary on database {} to {}").format(db, _ident(group)))
        conn.execute("revoke create on schema public from public")

        for schema in SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(_ident(schema)))
            conn.execute(sql.SQL("revoke all on schema {} from public").format(_ident(schema)))
        report.salt = _ensure_pii_function(conn, pii_salt)

        # Objects are created by whoever runs the pipeline today (the bootstrapping owner)
        # or, once tasks connect with their own logins, by those: future tables of each of
        # them get the grants below.
        creators = sorted(
            {
                bootstrapper,
                LOADER,
                TRANSFORMER,
                *(r.name for r in LOGIN_ROLES if r.group != BI_READER),
            }
        )

        for schema in LOADER_SCHEMAS:
            conn.execute(
                sql.SQL("grant usage, create on schema {} to {}").format(
                    _ident(schema), _ident(LOADER)
                )
            )
            conn.execute(
                sql.SQL("grant usage on schema {} to {}").format(
                    _ident(schema), _ident(TRANSFORMER)
                )
            )
        _grant_schema_tables(
            conn, LOADER_SCHEMAS, "select, insert, update, delete", LOADER, creators
        )
        _grant_schema_tables(conn, LOADER_SCHEMAS, "select", TRANSFORMER, creators)

        for schema in TRANSFORMER_SCHEMAS:
            conn.execute(
                sql.SQL("grant usage, create on schema {} to {}").format(
                    _ident(schema), _ident(TRANSFORMER)
                )
            )
        _grant_schema_tables(conn, TRANSFORMER_SCHEMAS, "all", TRANSFORMER, creators)

        # BI: take away anything granted by hand, then give back exactly SELECT on marts.
        for role in (BI_READER, BI_LOGIN):
            for schema in (*HIDDEN_FROM_BI, "marts"):
                conn.execute(
                    sql.SQL("revoke all on all tables in schema {} from {}").format(
                        _ident(schema), _ident(role)
                    )
                )
                if schema != "marts":
                    conn.execute(
                        sql.SQL("revoke all on schema {} from {}").format(
                            _ident(schema), _ident(role)
                        )
                    )
            conn.execute(
                sql.SQL("revoke create on schema marts, public from {}").format(_ident(role))
            )
        conn.execute(sql.SQL("grant usage on schema marts to {}").format(_ident(BI_READER)))
        _grant_schema_tables(conn, BI_SCHEMAS, "select", BI_READER, creators)
    log.info("warehouse roles bootstrapped in %s: %s", database, report.summary())
    return report


# ---------------------------------------------------------------------------------------
# The salted hash

# Same value as the former inline macro (sha256 of salt || trimmed value, hex; blank ->
# null), so hashes stay comparable across the change when the salt is the same.
PII_HASH_FUNCTION = f"""
create or replace function {PRIVATE_SCHEMA}.pii_hash(value text) returns text
language plpgsql stable parallel safe security definer
-- A SECURITY DEFINER function must not resolve names through the caller's search_path.
set search_path = pg_catalog, pg_temp
as $fn$
declare
    salt text;
begin
    if value is null or btrim(value) = '' then
        return null;
    end if;
    -- STRICT: a missing salt is an error, never a silently unsalted hash.
    select s.salt into strict salt from {PRIVATE_SCHEMA}.pii_salt as s;
    return encode(sha256(convert_to(salt || btrim(value), 'UTF8')), 'hex');
end
$fn$
"""


def _ensure_pii_function(conn: psycopg.Connection, pii_salt: str | None) -> str:
    keeper = _ident(PII_KEEPER)
    schema = _ident(PRIVATE_SCHEMA)
    conn.execute(sql.SQL("create schema if not exists {} authorization {}").format(schema, keeper))
    conn.execute(sql.SQL("alter schema {} owner to {}").format(schema, keeper))
    conn.execute(sql.SQL("revoke all on schema {} from public").format(schema))
    conn.execute(
        sql.SQL(
            "create table if not exists {}.pii_salt ("
            " singleton boolean primary key default true check (singleton),"
            " salt text not null check (length(salt) >= {}),"
            " set_at timestamptz not null default now())"
        ).format(schema, sql.Literal(MIN_SALT_LENGTH))
    )
    conn.execute(sql.SQL("alter table {}.pii_salt owner to {}").format(schema, keeper))
    conn.execute(sql.SQL("revoke all on {}.pii_salt from public").format(schema))
    conn.execute(PII_HASH_FUNCTION)
    conn.execute(sql.SQL("alter function {}.pii_hash(text) owner to {}").format(schema, keeper))
    conn.execute(sql.SQL("revoke all on function {}.pii_hash(text) from public").format(schema))
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, _ident(TRANSFORMER)))
    conn.execute(
        sql.SQL("grant execute on function {}.pii_hash(text) to {}").format(
            schema, _ident(TRANSFORMER)
        )
    )
    return _ensure_salt(conn, pii_salt)


def _check_salt(salt: str) -> None:
    if len(salt) < MIN_SALT_LENGTH or "change-me" in salt:
        raise SaltError(
            f"{SALT_ENV} must be a generated secret of at least {MIN_SALT_LENGTH} characters"
        )


def _ensure_salt(conn: psycopg.Connection, pii_salt: str | None) -> str:
    row = conn.execute(f"select salt from {PRIVATE_SCHEMA}.pii_salt").fetchone()
    if row is None:
        if pii_salt is None:
            pii_salt, outcome = secrets.token_urlsafe(32), "generated"
        else:
            _check_salt(pii_salt)
            outcome = "set"
        # A bound parameter: the salt never appears in statement text or the server log.
        conn.execute(f"insert into {PRIVATE_SCHEMA}.pii_salt (salt) values (%s)", [pii_salt])
        return outcome
    if pii_salt is not None and not hmac.compare_digest(row[0], pii_salt):
        raise SaltError(
            f"{SALT_ENV} differs from the salt the warehouse hashes with. Changing it changes "
            "every hashed identifier; if that is intended, rotate it deliberately "
            "(cchc.security.rotate_pii_salt, see docs/runbook.md), else restore the old value."
        )
    return "kept"


def rotate_pii_salt(conn: psycopg.Connection, new_salt: str) -> None:
    """Replace the salt. Every hash changes on the next dbt build; see docs/personal-data.md."""
    _check_salt(new_salt)
    with conn.transaction():
        conn.execute(f"update {PRIVATE_SCHEMA}.pii_salt set salt = %s, set_at = now()", [new_salt])
    log.warning("PII salt rotated: rebuild every model (dbt build --full-refresh)")


# ---------------------------------------------------------------------------------------
# Entry point for the pipeline, compose and the CLI


def bootstrap_warehouse(
    conn: psycopg.Connection, settings: Settings | None = None
) -> BootstrapReport:
    """Schemas, roles, grants and the PII hash function, from configuration.

    Run it before dbt (and before loading, so the loader's new tables get their grants):
    the staging models call `cchc_private.pii_hash`, which this creates.
    """
    settings = settings or load_settings()
    return bootstrap_roles(
        conn,
        passwords=login_passwords(settings),
        pii_salt=os.environ.get(SALT_ENV) or None,
    )
