"""Official 766 scores (from the portal) beside our recomputation, with the data-quality
findings that explain the differences.

Reads `marts.mart_qd766_reconciliation` as its YAML documents it, whatever columns it has
beyond the ones this export needs to filter and explain; until it is built, a note.

The workbook is a data file (thousands of rows, one per scope × month × component): its
first sheet is a printable summary, the rows follow for filtering on screen, and a data
dictionary gives each column's English name.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from cchc.exports import workbook as wb
from cchc.exports.freshness import DRAFT_WARNING_VI, Freshness
from cchc.exports.mart_docs import column_docs
from cchc.exports.periods import Quarter
from cchc.exports.quality_annex import Annex
from cchc.exports.rule_impact import name as rule_name
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
    # The file's own columns; the period grain is always 'month' here.
    present = [c for c in columns_of(conn, MART) if c not in ("province_code", "period_grain")]
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
    docs = {**UNDOCUMENTED, **docs}
    columns = [Column(c, *docs.get(c, (c, c)), _date_or(c, rows, present)) for c in present]
    columns.append(Column("dq_findings", "Phát hiện chất lượng dữ liệu liên quan",
                          "Data-quality findings that may explain it", width=60))  # fmt: skip
    table_rows = [
        (*(_vi(c, v) for c, v in zip(present, r, strict=True)), findings.get(r[scope_index], ""))
        for r in rows
    ]
    note = None if rows else f"Chưa có số liệu đối chiếu cho {calendar.label}"
    return Table("qd766_doi_chieu", *title, columns, table_rows, note)


# Headers of columns an older build of the mart has and its YAML no longer documents.
UNDOCUMENTED = {"month_start": ("Tháng", "Month")}
# The mart's enumerations, as an official file says them.
VALUES_VI = {
    "scope_kind": {"agency": "Đơn vị xử lý", "district": "Cấp huyện", "province": "Toàn tỉnh",
                   "current_agency": "Đơn vị hiện nay", "unregistered_code": "Mã đơn vị không hợp lệ"},
    "period_grain": {"month": "Tháng", "quarter": "Quý", "year": "Năm"},
}  # fmt: skip


def _vi(column: str, value):
    return VALUES_VI.get(column, {}).get(value, value) if isinstance(value, str) else value


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
            f"{rule_name(r['rule_id'])}: {r['flagged']}/{r['dossiers']}"
            f" ({float(r['flag_rate'] or 0):.1%})"
        )
    return {agency: "; ".join(items) for agency, items in found.items()}


DATA_SHEET = "Dữ liệu đối chiếu"
SUMMARY_SHEET = "Tóm tắt (bản in)"
LARGEST = 15


def summary_tables(table: Table) -> list[Table]:
    """What an official reads on paper: per group, how many rows match within the tolerance,
    and the largest differences."""
    records = table.records()
    by_group: dict[str, list[int]] = {}
    for r in records:
        counts = by_group.setdefault(str(r.get("group_code") or ""), [0, 0, 0, 0])
        counts[0] += 1
        verdict = r.get("within_tolerance")
        counts[1 if verdict is True else 2 if verdict is False else 3] += 1
    groups = Table(
        "qd766_doi_chieu_tom_tat", "Số dòng đối chiếu theo nhóm chỉ số",
        "Reconciled rows by group", [
            Column("group_code", "Nhóm chỉ số", "Group"),
            Column("rows", "Số dòng", "Rows", COUNT),
            Column("within", "Khớp trong sai số", "Within tolerance", COUNT),
            Column("outside", "Lệch ngoài sai số", "Outside tolerance", COUNT),
            Column("unjudged", "Không đánh giá (ước tính, thiếu một bên)", "Not judged", COUNT),
        ], [(g, *c) for g, c in sorted(by_group.items())], table.note)  # fmt: skip
    shown = [c for c in ("scope_kind", "scope_code", "scope_name", "month_start", "period_start",
                         "component_code", "official_points", "our_points", "difference")
             if any(col.key == c for col in table.columns)]  # fmt: skip
    keyed = [r for r in records if r.get("difference") is not None]
    keyed.sort(key=lambda r: (-abs(float(r["difference"])), str(r.get("scope_code"))))
    by_key = {c.key: c for c in table.columns}
    largest = Table(
        "qd766_doi_chieu_lech_nhat", f"{LARGEST} chênh lệch lớn nhất", "Largest differences",
        [by_key[c] for c in shown], [tuple(r[c] for c in shown) for r in keyed[:LARGEST]],
        None if keyed else "Không có dòng nào có cả điểm chính thức và điểm tính lại",
    )  # fmt: skip
    return [groups, largest]


# Sheets after the data: the causes of the differences and the restatements (table name ->
# sheet name, at most 31 characters).
EXTRA_SHEETS = {"qd766_nguyen_nhan_tong_hop": "Nguyên nhân theo chỉ số",
                "qd766_nguyen_nhan_lech": "Nguyên nhân từng dòng",
                "qd766_dieu_chinh": "Điều chỉnh sau khi xuất"}  # fmt: skip


def write_workbook(path: Path, table: Table, quarter: Quarter, freshness: Freshness,
                   extras: tuple[Table, ...] = ()) -> None:  # fmt: skip
    period = quarter.as_calendar()
    book = wb.new_workbook(path, f"Đối chiếu điểm 766 (tệp dữ liệu) — {period.label}")
    fm = wb.Formats(book)
    horizon = freshness.as_of_vi()
    lines = [f"Kỳ đánh giá: {period.title_vi()}", horizon]
    title = f"{table.title_vi} — tệp dữ liệu"

    summary = book.add_worksheet(SUMMARY_SHEET)
    row = wb.write_title_block(summary, fm, 5, title, lines)
    row = wb.write_banner(summary, fm, row, 5, freshness.warning_vi(),
                          f"Tệp dữ liệu: {len(table.rows):,} dòng đối chiếu ở trang"
                          f" \"{DATA_SHEET}\" để lọc, tra cứu trên máy, không dùng để in."
                          " Trang này là bản tóm tắt để in.")  # fmt: skip
    parts = summary_tables(table)
    for part in parts:
        summary.merge_range(row + 1, 0, row + 1, 5, part.title_vi, fm.left_bold)
        row = wb.write_table(summary, fm, part, row + 2) + 1
    widths: dict[int, float] = {}
    for part in parts:  # one column serves both tables: the wider of the two
        for col, width in enumerate(wb.column_widths(part)):
            widths[col] = max(widths.get(col, 0), min(width, 36))
    for col, width in widths.items():
        summary.set_column(col, col, width)
    wb.print_setup(summary, title=title, horizon=horizon, repeat=None)

    sheet = book.add_worksheet(DATA_SHEET)
    last = max(len(table.columns) - 1, 5)
    row = wb.write_title_block(sheet, fm, last, title, lines)
    row = wb.write_banner(sheet, fm, row, last, freshness.warning_vi())
    header = row + 1 + (1 if table.note else 0)
    # Amber rows are the ones outside the tolerance.
    has_flag = any(c.key == "within_tolerance" for c in table.columns)
    wb.write_table(sheet, fm, table, row + 1,
                   flag_column="within_tolerance" if has_flag else None, flag_when=False)  # fmt: skip
    sheet.freeze_panes(header + 1, 2)
    wb.print_setup(sheet, title=title, horizon=horizon, repeat=(header, header))
    for extra in extras:
        sheet = book.add_worksheet(EXTRA_SHEETS.get(extra.name, extra.name[:31]))
        last = max(len(extra.columns) - 1, 5)
        row = wb.write_title_block(sheet, fm, last, f"{extra.title_vi} — tệp dữ liệu", lines)
        row = wb.write_banner(sheet, fm, row, last, freshness.warning_vi())
        header = row + 1 + (1 if extra.note else 0)
        wb.write_table(sheet, fm, extra, row + 1)
        sheet.freeze_panes(header + 1, 1)
        wb.print_setup(sheet, title=extra.title_vi, horizon=horizon, repeat=(header, header))
    draft = DRAFT_WARNING_VI if freshness.draft else None
    wb.write_dictionary(book, fm, [table, *extras], draft_warning=draft)
    book.close()
