"""Warehouse roles, grants and the salted hash of personal identifiers.

Three group roles carry the privileges; one login role per group is what people and
services connect as, so a password can be rotated without touching a grant:

| group              | login     | may                                                         |
| ------------------ | --------- | ----------------------------------------------------------- |
| `cchc_loader`      | `cchc_etl` | write `raw` and `audit`                                    |
| `cchc_transformer` | `cchc_dbt` | read `raw`/`audit`, write `staging`, `intermediate`, `marts`, `dq`, call `pii_hash` |
| `cchc_bi_reader`   | `cchc_bi`  | read `marts`, nothing else, read-only sessions             |
| `cchc_officer_reviewer` | `cchc_review` | read `restricted` (officer-level lateness) and `marts`, read-only |

Each pipeline login acts as its group (`alter role ... set role`), so every object it
creates is owned by the group and the next login of that group (a rotated one, another
worker) can replace it. Objects created earlier by the owner are handed to the groups
(:func:`_hand_over_ownership`), so a warehouse built before the pipeline used its logins
upgrades in place. No login may run programs or read files on the server.

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
import logging
import os
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from cchc.config import Settings, load_settings
from cchc.security.retired_columns import retire_personal_data_from_marts
from cchc.security.secret_store import stored_passwords

log = logging.getLogger(__name__)

LOADER = "cchc_loader"
TRANSFORMER = "cchc_transformer"
BI_READER = "cchc_bi_reader"
OFFICER_REVIEWER = "cchc_officer_reviewer"
PII_KEEPER = "cchc_pii_keeper"
GROUP_ROLES = (LOADER, TRANSFORMER, BI_READER, OFFICER_REVIEWER)
# Predefined roles that reach the server's files and programs (`copy ... to program`).
SERVER_ACCESS_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")

PRIVATE_SCHEMA = "cchc_private"
LOADER_SCHEMAS = ("raw", "audit")
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "restricted", "dq")
BI_SCHEMAS = ("marts",)
# Officer-level figures (the 766 list of officials causing delays): not for BI.
REVIEWER_SCHEMAS = ("restricted", "marts")
# Schemas the BI role must never see; `public` stays readable (it holds nothing of ours).
HIDDEN_FROM_BI = (*LOADER_SCHEMAS, "staging", "intermediate", "restricted", "dq", PRIVATE_SCHEMA)

SALT_ENV = "CCHC_PII_SALT"
MIN_SALT_LENGTH = 16


@dataclass(frozen=True)
class LoginRole:
    name: str
    group: str
    password_env: str


LOGIN_ROLES = (
    LoginRole("cchc_etl", LOADER, "CCHC_LOADER_PASSWORD"),
    LoginRole("cchc_dbt", TRANSFORMER, "CCHC_TRANSFORMER_PASSWORD"),
    LoginRole("cchc_bi", BI_READER, "CCHC_BI_READER_PASSWORD"),
    LoginRole("cchc_review", OFFICER_REVIEWER, "CCHC_OFFICER_REVIEWER_PASSWORD"),
)
BI_LOGIN = "cchc_bi"
REVIEWER_LOGIN = "cchc_review"
# Logins whose sessions act as their group, so what they create belongs to the group.
CREATING_GROUPS = (LOADER, TRANSFORMER)


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


def login_passwords(settings: Settings | None = None) -> dict[str, str]:
    """Password of each login role: `CCHC_<GROUP>_PASSWORD` from the environment, else the
    one generated once and kept 0600 under the data folder (`secrets/warehouse-roles.json`).

    The bootstrap sets these on the server; the pipeline's tasks read the same values
    (:func:`cchc.warehouse.login_params`). In compose every variable is required, so nothing
    is generated inside a container.
    """
    settings = settings or load_settings()
    passwords = {role.name: os.environ.get(role.password_env) or None for role in LOGIN_ROLES}
    missing = [name for name, value in passwords.items() if value is None]
    if missing:
        passwords.update(stored_passwords(settings.data_dir, missing))
    return passwords


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
            # What a pipeline login creates belongs to its group: see the module docstring.
            acting = role.group if role.group in CREATING_GROUPS else "none"
            conn.execute(
                sql.SQL("alter role {} in database {} set role = {}").format(
                    _ident(role.name), _ident(database), sql.Literal(acting)
                )
            )
        # `copy ... to/from program` and server file access: never for our roles, even if
        # granted by hand.
        for role in (*GROUP_ROLES, *(r.name for r in LOGIN_ROLES)):
            for server_role in SERVER_ACCESS_ROLES:
                if conn.execute(
                    "select pg_has_role(%s, %s, 'member')", [role, server_role]
                ).fetchone()[0]:
                    conn.execute(
                        sql.SQL("revoke {} from {}").format(_ident(server_role), _ident(role))
                    )

        # The reading logins: read-only sessions, their schemas first, bounded queries.
        for login, search_path in ((BI_LOGIN, "marts"), (REVIEWER_LOGIN, "restricted, marts")):
            for setting, value in (
                ("default_transaction_read_only", "on"),
                ("search_path", search_path),
                ("statement_timeout", "300000"),
            ):
                conn.execute(
                    sql.SQL("alter role {} in database {} set {} = {}").format(
                        _ident(login), _ident(database), _ident(setting), sql.Literal(value)
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
                *(r.name for r in LOGIN_ROLES if r.group in CREATING_GROUPS),
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

        # The officer reviewer: reads the restricted schema and the marts, nothing else.
        for schema in REVIEWER_SCHEMAS:
            conn.execute(
                sql.SQL("grant usage on schema {} to {}").format(
                    _ident(schema), _ident(OFFICER_REVIEWER)
                )
            )
        _grant_schema_tables(conn, REVIEWER_SCHEMAS, "select", OFFICER_REVIEWER, creators)
        _hand_over_ownership(conn)
        retire_personal_data_from_marts(conn)
    log.info("warehouse roles bootstrapped in %s: %s", database, report.summary())
    return report


# Which group owns the objects of each schema the pipeline writes.
SCHEMA_OWNERS = {
    **{schema: LOADER for schema in LOADER_SCHEMAS},
    **{schema: TRANSFORMER for schema in TRANSFORMER_SCHEMAS},
}
_ALTER_KIND = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
}


def _hand_over_ownership(conn: psycopg.Connection) -> list[str]:
    """Objects in the pipeline's schemas owned by anyone but the schema's group (the owner
    who built the warehouse before its tasks used their logins; a login that created a
    table before acting as its group) are given to the group. Returns what moved."""
    moved = []
    rows = conn.execute(
        """
        select n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner)
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind = any(%s)
          -- a sequence owned by a column moves with its table
          and not (c.relkind = 'S' and exists (
              select 1 from pg_depend d
              where d.objid = c.oid and d.classid = 'pg_class'::regclass and d.deptype in ('a', 'i')))
        order by 1, 2
        """,
        [list(SCHEMA_OWNERS), list(_ALTER_KIND)],
    ).fetchall()
    for schema, name, kind, owner in rows:
        wanted = SCHEMA_OWNERS[schema]
        if owner == wanted:
            continue
        conn.execute(
            sql.SQL("alter " + _ALTER_KIND[kind] + " {}.{} owner to {}").format(
                _ident(schema), _ident(name), _ident(wanted)
            )
        )
        moved.append(f"{schema}.{name}")
    if moved:
        log.info("ownership handed to the pipeline's groups: %d objects", len(moved))
    return moved


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
