"""The province's unit register for a period: which agency codes are units the files may show.

A code the dossiers carry that has no version in the register (marts.dim_administrative_units,
SCD2) valid in the period is a data-entry error, not a unit: its dossiers stay in the
province's totals, but no sheet, score or rank is given to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from cchc.exports.sources import MissingSource, require

REGISTER = "marts.dim_administrative_units"
AGENCIES = "marts.dim_agencies"


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


def names_as_entered(conn: psycopg.Connection, province: str) -> dict[str, str]:
    """The agency name entered with each code that is no unit (`marts.dim_agencies`), to trace
    the error; empty when the dimension does not carry it."""
    try:
        require(conn, AGENCIES, ["province_code", "agency_code", "is_known_unit",
                                 "name_as_entered"])  # fmt: skip
    except MissingSource:
        return {}
    return dict(
        conn.execute(
            f"select agency_code, name_as_entered from {AGENCIES}"
            " where province_code = %s and not is_known_unit and name_as_entered is not null",
            [province],
        ).fetchall()
    )
