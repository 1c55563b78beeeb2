"""Scan warehouse tables for clear-text personal data (CCCD numbers, phones, e-mails).

Runs as SQL over every text-like column of every table and view in a schema, so it can guard
the marts in tests and, as a nightly check, in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

# PostgreSQL regular expressions (ARE). Digit runs must stand alone: a 12-digit CCCD inside
# a longer number is not one.
PATTERNS = {
    # Citizen identity card (CCCD) / personal identification number: 12 digits, the first
    # three the province of registration (001-096), so a 12-digit run starting otherwise
    # is some other number.
    "cccd": r"(^|[^0-9])0(0[1-9]|[1-8][0-9]|9[0-6])[0-9]{9}([^0-9]|$)",
    # Vietnamese mobile numbers: 0 + 3/5/7/8/9 + 8 digits, also written +84 / 84 ….
    "phone": r"(^|[^0-9])(0|\+?84)[35789][0-9]{8}([^0-9]|$)",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
}
# A salted SHA-256 in hex is not personal data, but often contains 12 digits in a row.
HASH_VALUE = r"^[0-9a-f]{64}$"
# Nor is a UUID (batch ids, record ids), whose last group is 12 hex digits, all digits about
# once in 180 UUIDs: UUIDs are blanked out before the patterns are matched.
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "name")


@dataclass(frozen=True)
class Finding:
    table: str
    column: str
    kind: str
    rows: int


def text_columns(conn: psycopg.Connection, schema: str) -> list[tuple[str, str]]:
    return conn.execute(
        """
        select c.table_name, c.column_name
        from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = %s and c.data_type = any(%s)
        order by c.table_name, c.ordinal_position
        """,
        [schema, list(TEXT_TYPES)],
    ).fetchall()


def scan_for_personal_data(conn: psycopg.Connection, schema: str = "marts") -> list[Finding]:
    """Every (table, column, kind) in `schema` whose values match a personal-data pattern.

    Findings name the column and a count, not the value, so the result can be logged.
    """
    findings = []
    for table, column in text_columns(conn, schema):
        text = sql.SQL("{}::text").format(sql.Identifier(column))
        value = sql.SQL("regexp_replace({}, %(u)s, ' ', 'gi')").format(text)
        for kind, pattern in PATTERNS.items():
            count = conn.execute(
                sql.SQL("select count(*) from {}.{} where {v} ~ %(p)s and not {t} ~ %(h)s").format(
                    sql.Identifier(schema), sql.Identifier(table), v=value, t=text
                ),
                {"p": pattern, "h": HASH_VALUE, "u": UUID},
            ).fetchone()[0]
            if count:
                findings.append(Finding(f"{schema}.{table}", column, kind, count))
    return findings
