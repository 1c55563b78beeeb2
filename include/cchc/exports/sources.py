"""Reading marts for the exports: a missing mart or column is a note, never a crash.

Marts still being built elsewhere land under their own names; until then the files say
"not yet built" and the rest of the export goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

# What an official file calls the marts it reads (a table's name is no word of Vietnamese).
RELATIONS_VI = {
    "marts.mart_qd766_reconciliation": "đối chiếu điểm Chỉ số 766",
    "marts.mart_qd766_scores": "điểm Chỉ số 766",
    "marts.mart_qd766_bounds": "điểm Chỉ số 766 có thể sai lệch",
    "marts.mart_qd766_reconciliation_causes": "nguyên nhân chênh lệch điểm Chỉ số 766",
    "marts.mart_form06_quarterly": "số liệu Biểu 06",
    "marts.fct_dossiers": "hồ sơ",
    "marts.dim_agencies": "danh mục đơn vị",
    "dq.record_flags": "cờ chất lượng dữ liệu",
}


class MissingSource(LookupError):
    """A relation or some of its columns do not exist (yet)."""

    def note(self) -> str:
        return str(self)


def relation_exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", [relation]).fetchone()[0]


def columns_of(conn: psycopg.Connection, relation: str) -> list[str]:
    schema, name = relation.split(".", 1)
    rows = conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def require(conn: psycopg.Connection, relation: str, columns: Sequence[str]) -> None:
    name = RELATIONS_VI.get(relation, relation)
    if not relation_exists(conn, relation):
        raise MissingSource(f"Chưa có dữ liệu: bảng {name} chưa được xây dựng")
    missing = sorted(set(columns) - set(columns_of(conn, relation)))
    if missing:
        raise MissingSource(f"Chưa đủ cột trong bảng {name}, thiếu: {', '.join(missing)}")


def select(
    conn: psycopg.Connection,
    relation: str,
    columns: Sequence[str],
    *,
    where: str = "true",
    params: Sequence = (),
    order_by: str | None = None,
) -> list[tuple]:
    """`select columns from relation where … order by …` after checking they exist."""
    require(conn, relation, columns)
    order = order_by or ", ".join(columns)
    sql = f"select {', '.join(columns)} from {relation} where {where} order by {order}"
    return conn.execute(sql, list(params)).fetchall()
