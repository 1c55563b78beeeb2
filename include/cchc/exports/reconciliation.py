"""Official 766 scores (from the portal) beside our recomputation, with the data-quality
findings that explain the differences.

Reads `marts.mart_qd766_reconciliation` as its YAML documents it, whatever columns it has
beyond the ones this export needs to filter and explain; until it is built, a note.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from cchc.exports import workbook as wb
from cchc.exports.freshness import Freshness
from cchc.exports.mart_docs import column_docs
from cchc.exports.periods import Quarter
from cchc.exports.quality_annex import Annex
from cchc.exports.sources import MissingSource, columns_of, require
from cchc.exports.tables import COUNT, POINTS, RATIO, Column, Table

MODEL = "mart_qd766_reconciliation"
MART = f"marts.{MODEL}"
PERIOD_COLUMNS = ("month_start", "period_start")  # the first one present filters the quarter
ORDER_COLUMNS = ("scope_kind", "scope_code", "month_start", "period_start", "component_code")
SCOPE_COLUMN = "scope_code"
FORMATS = {"points": POINTS, "difference": POINTS, "ratio": RATIO, "count": COUNT,
           "numerator": COUNT, "denominator": COUNT}  # fmt: skip


def _fmt(column: str) -> str | None:
    for marker, fmt in FORMATS.items():
        if marker in column:
            return fmt
    return None


def read_reconciliation(
    conn: psycopg.Connection, quarter: Quarter, annex: Annex, province: str
) -> Table:
    calendar = quarter.as_calendar()
    title = ("Điểm 766 chính thức và điểm tính lại", "Official 766 scores vs ours")
    try:
        require(conn, MART, [SCOPE_COLUMN, "province_code"])
    except MissingSource as missing:
        return Table("qd766_doi_chieu", *title, [Column("note", "Ghi chú", "Note")], [],
                     missing.note())  # fmt: skip
    present = [c for c in columns_of(conn, MART) if c != "province_code"]  # the file's own
    period = next((c for c in PERIOD_COLUMNS if c in present), None)
    where, params = "province_code = %s", [province]
    if period:
        where += f" and {period} between %s and %s"
        params += [calendar.start, calendar.end]
    if "period_grain" in present:  # the portal publishes monthly: compare the quarter's months
        where += " and period_grain = 'month'"
    order = ", ".join(c for c in ORDER_COLUMNS if c in present) or "1"
    rows = conn.execute(
        f"select {', '.join(present)} from {MART} where {where} order by {order}", params
    ).fetchall()
    findings = _findings_by_agency(annex)
    scope_index = present.index(SCOPE_COLUMN)
    docs = column_docs(MODEL)
    columns = [Column(c, *docs.get(c, (c, c)), _date_or(c, rows, present)) for c in present]
    columns.append(Column("dq_findings", "Phát hiện chất lượng dữ liệu liên quan",
                          "Data-quality findings that may explain it", width=60))  # fmt: skip
    table_rows = [(*r, findings.get(r[scope_index], "")) for r in rows]
    note = None if rows else f"Chưa có số liệu đối chiếu cho {calendar.label} · no rows yet"
    return Table("qd766_doi_chieu", *title, columns, table_rows, note)


def _date_or(column: str, rows: list[tuple], present: list[str]) -> str | None:
    index = present.index(column)
    if rows and isinstance(rows[0][index], date):
        return "dd/mm/yyyy"
    return _fmt(column)


def _findings_by_agency(annex: Annex) -> dict[str, str]:
    """'rule: n of m (rate)' per agency, worst first, from the annex's table."""
    found: dict[str, list[str]] = {}
    for r in annex.by_agency.records():
        found.setdefault(r["agency_code"], []).append(
            f"{r['rule_id']}: {r['flagged']}/{r['dossiers']} ({float(r['flag_rate'] or 0):.1%})"
        )
    return {agency: "; ".join(items) for agency, items in found.items()}


def write_workbook(path: Path, table: Table, quarter: Quarter, freshness: Freshness) -> None:
    book = wb.new_workbook(path, f"Đối chiếu điểm 766 — {quarter.as_calendar().label}")
    fm = wb.Formats(book)
    sheet = book.add_worksheet("Đối chiếu")
    last = max(len(table.columns) - 1, 5)
    sheet.merge_range(0, 0, 0, last, table.title_vi.upper(), fm.title)
    sheet.merge_range(1, 0, 1, last, f"Kỳ đánh giá: {quarter.as_calendar().title_vi()}",
                      fm.subtitle)  # fmt: skip
    row = wb.write_banner(sheet, fm, 2, last, freshness.warning_vi())
    # Amber rows are the ones outside the tolerance.
    has_flag = any(c.key == "within_tolerance" for c in table.columns)
    wb.write_table(sheet, fm, table, row + 1,
                   flag_column="within_tolerance" if has_flag else None, flag_when=False)  # fmt: skip
    book.close()
