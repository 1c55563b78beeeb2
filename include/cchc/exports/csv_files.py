"""CSV versions of the export tables: UTF-8 with a BOM so Excel shows the diacritics."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from cchc.exports.tables import Table


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, table: Table) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.key for c in table.columns])
        writer.writerows([_text(v) for v in row] for row in table.rows)
