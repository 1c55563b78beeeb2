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


MARK_COLUMN = "trang_thai_ban"


def write_csv(path: Path, table: Table, mark: str | None = None) -> None:
    """`mark` (a draft's "BẢN NHÁP"): a first column carrying it on every row, so no row of a
    draft can be copied elsewhere without it."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        lead = [mark] if mark else []
        writer.writerow([MARK_COLUMN] * bool(mark) + [c.key for c in table.columns])
        writer.writerows(lead + [_text(v) for v in row] for row in table.rows)
