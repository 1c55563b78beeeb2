"""The province's unit register for a period: which agency codes are units the files may show.

A code the dossiers carry that has no version in the register (marts.dim_administrative_units,
SCD2) valid in the period is a data-entry error, not a unit: its dossiers stay in the
province's totals, but no sheet, score or rank is given to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from cchc.exports.sources import require

REGISTER = "marts.dim_administrative_units"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: int | None  # 1 department, 2 district, 3 commune


def registered_units(conn: psycopg.Connection, province: str, start: date, end: date
                     ) -> dict[str, Unit]:  # fmt: skip
    """Units of `province` valid on some day of start…end, under their latest name then."""
    require(conn, REGISTER, ["province_code", "unit_code", "unit_name", "unit_level",
                             "valid_from", "valid_to"])  # fmt: skip
    rows = conn.execute(
        f"""
        select distinct on (unit_code) unit_code, unit_name, unit_level
        from {REGISTER}
        where province_code = %s and valid_from <= %s and valid_to >= %s
        order by unit_code, valid_from desc
        """,
        [province, end, start],
    ).fetchall()
    return {code: Unit(code, name, level) for code, name, level in rows}
