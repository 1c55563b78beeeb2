"""Personal data earlier versions put in the marts, removed in place by the bootstrap.

Officer keys and the officer dimension moved to the `restricted` schema
(docs/personal-data.md); a warehouse built before keeps them in `marts`, readable by BI,
until they are dropped here. The models no longer produce them, so incremental builds go on
without a full refresh.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

RETIRED_MART_TABLES = ("dim_officers",)
RETIRED_MART_COLUMNS = {
    "fct_handling_steps": ("officer_key", "officer_title"),
    "fct_documents": ("signer_officer_key",),
}


def retire_personal_data_from_marts(conn: psycopg.Connection) -> list[str]:
    """Drop the retired tables and columns where they still exist; returns what went."""
    dropped = []
    for table in RETIRED_MART_TABLES:
        kind = conn.execute(
            "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'marts' and c.relname = %s",
            [table],
        ).fetchone()
        if kind:
            what = "view" if kind[0] == "v" else "table"
            conn.execute(
                sql.SQL("drop " + what + " marts.{} cascade").format(sql.Identifier(table))
            )
            dropped.append(f"marts.{table}")
    for table, columns in RETIRED_MART_COLUMNS.items():
        present = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = %s and column_name = any(%s)",
                [table, list(columns)],
            )
        }
        for column in sorted(present):
            conn.execute(
                sql.SQL("alter table marts.{} drop column {}").format(
                    sql.Identifier(table), sql.Identifier(column)
                )
            )
            dropped.append(f"marts.{table}.{column}")
    if dropped:
        log.warning("personal data retired from the marts: %s", ", ".join(dropped))
    return dropped
