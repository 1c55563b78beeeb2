"""Form 06/VPCP/KSTT (Circular 01/2020/TT-VPCP) as the province sends it: XLSX and tables.

One sheet for the province (every agency summed per field and level), then one sheet per
agency. Every figure is written as a value, not a formula, so any reader sees the numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg

from cchc.exports import workbook as wb
from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.sources import MissingSource, require, select
from cchc.exports.tables import COUNT, Column, Table
from cchc.exports.unit_register import names_as_entered, registered_units

MART = "marts.mart_form06_quarterly"
# The form's eleven figures, in the form's column order (3)…(13).
MEASURES = (
    "received_total",
    "received_online",
    "received_direct_or_postal",
    "received_carried_over",
    "resolved_total",
    "resolved_before_deadline",
    "resolved_on_deadline",
    "resolved_late",
    "in_progress_total",
    "in_progress_within_deadline",
    "in_progress_overdue",
)
LEVELS = {1: ("I", "Cấp tỉnh"), 2: ("II", "Cấp huyện"), 3: ("III", "Cấp xã")}
FORM_TITLE = (
    "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI"
    " QUYẾT THỦ TỤC HÀNH CHÍNH"
)
FORM_CODE = "Biểu số 06/VPCP/KSTT"
SUMMARY_SHEET = "Tổng hợp toàn tỉnh"
INVALID_CODE = "Mã đơn vị không hợp lệ"
INVALID_SHEET = "Mã đơn vị không hợp lệ"
HEADER_ROW = 7  # 0-based first header row; the title block is above it
NUMBER_ROW = HEADER_ROW + 4  # the row of (1) … (13)
FIRST_DATA_ROW = NUMBER_ROW + 1
LAST_COL = 2 + len(MEASURES) - 1  # M

# (first row offset, first col, last row offset, last col, text): the form's header cells.
HEADER_CELLS = [
    (0, 0, 3, 0, "STT"),
    (0, 1, 3, 1, "Lĩnh vực, công việc giải quyết theo cấp"),
    (0, 2, 0, 5, "Số hồ sơ nhận giải quyết"),
    (0, 6, 0, 12, "Kết quả giải quyết"),
    (1, 2, 3, 2, "Tổng số"),
    (1, 3, 1, 5, "Trong đó"),
    (2, 3, 2, 4, "Số mới tiếp nhận"),
    (3, 3, 3, 3, "Trực tuyến"),
    (3, 4, 3, 4, "Trực tiếp, dịch vụ bưu chính"),
    (2, 5, 3, 5, "Số kỳ trước chuyển qua"),
    (1, 6, 1, 9, "Số hồ sơ đã giải quyết"),
    (2, 6, 3, 6, "Tổng số"),
    (2, 7, 3, 7, "Trước hạn"),
    (2, 8, 3, 8, "Đúng hạn"),
    (2, 9, 3, 9, "Quá hạn"),
    (1, 10, 1, 12, "Số hồ sơ đang giải quyết"),
    (2, 10, 3, 10, "Tổng số"),
    (2, 11, 3, 11, "Trong hạn"),
    (2, 12, 3, 12, "Quá hạn"),
]


@dataclass(frozen=True)
class Line:
    """One body row: a field, a level subtotal or the grand total."""

    kind: str  # 'field' | 'level' | 'total'
    number: str  # STT: '1', 'I', ''
    label: str
    values: tuple[int, ...]


@dataclass
class Form06:
    quarter: Quarter
    rows: list[tuple]  # the mart rows of the quarter, agency × level × field
    note: str | None = None
    # the registered units of the quarter (code → name); None: every code is taken as a unit
    units: dict[str, str] | None = None

    def is_unit(self, code: str) -> bool:
        return self.units is None or code in self.units

    def agencies(self) -> list[tuple[str, str]]:
        """The registered units with dossiers, under the register's name: one sheet each."""
        return sorted({(r[0], (self.units or {}).get(r[0]) or r[1] or r[0])
                       for r in self.rows if self.is_unit(r[0])})  # fmt: skip

    def invalid_codes(self) -> list[tuple[str, str | None, tuple[int, ...]]]:
        """(code as entered, name as entered, the form's figures summed) of every code that is no
        registered unit: data-entry errors, listed so the units' sheets add up to the total."""
        codes = sorted({(r[0], r[1]) for r in self.rows if not self.is_unit(r[0])})
        return [(code, name, _sum(tuple(v or 0 for v in r[5:]) for r in self.rows
                                  if r[0] == code)) for code, name in codes]  # fmt: skip

    def lines(self, agency_code: str | None = None) -> list[Line]:
        """Rows of the form: total first, then per level its subtotal and its fields."""
        sums: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0] * len(MEASURES))
        for agency, _name, level, field_code, field_name, *values in self.rows:
            if agency_code is not None and agency != agency_code:
                continue
            key = (level or 0, field_code or "", field_name or field_code or "(không rõ)")
            sums[key] = [a + (b or 0) for a, b in zip(sums[key], values, strict=True)]
        total = _sum(sums.values())
        lines = [Line("total", "", "Tổng số", total)]
        for level in sorted({k[0] for k in sums}):
            roman, level_name = LEVELS.get(level, ("", f"Cấp {level}"))
            fields = sorted(k for k in sums if k[0] == level)
            lines.append(Line("level", roman, level_name, _sum(sums[k] for k in fields)))
            lines += [
                Line("field", str(i), f"{name} ({code})", tuple(sums[(level, code, name)]))
                for i, (_, code, name) in enumerate(fields, start=1)
            ]
        return lines


def _sum(rows) -> tuple[int, ...]:
    total = [0] * len(MEASURES)
    for row in rows:
        total = [a + b for a, b in zip(total, row, strict=True)]
    return tuple(total)


def read_form06(conn: psycopg.Connection, quarter: Quarter, province: str) -> Form06:
    columns = ["agency_code", "agency_name", "level_code", "field_code", "field_name", *MEASURES]
    try:
        require(conn, MART, ["province_code"])
        rows = select(conn, MART, columns,
                      where="province_code = %s and period_kind = %s and period_label = %s",
                      params=[province, quarter.kind, quarter.label],
                      order_by="agency_code, level_code, field_code")  # fmt: skip
        register = registered_units(conn, province, quarter.start, quarter.end)
    except MissingSource as missing:
        return Form06(quarter, [], missing.note())
    note = None if rows else f"Không có hồ sơ trong kỳ {quarter.label}"
    entered = names_as_entered(conn, province)
    # an invalid code's row shows the name entered with it (the marts name it as the error)
    rows = [r if r[0] in register or r[0] not in entered else (r[0], entered[r[0]], *r[2:])
            for r in rows]  # fmt: skip
    return Form06(quarter, rows, note, {code: unit.name for code, unit in register.items()})


# --- tables (CSV and HTML) ---------------------------------------------------------------

MEASURE_COLUMNS = [
    Column("received_total", "Nhận giải quyết: tổng số", "Received: total", COUNT),
    Column("received_online", "Mới tiếp nhận trực tuyến", "New, online", COUNT),
    Column(
        "received_direct_or_postal",
        "Mới tiếp nhận trực tiếp, bưu chính",
        "New, direct or postal",
        COUNT,
    ),  # fmt: skip
    Column("received_carried_over", "Kỳ trước chuyển qua", "Carried over", COUNT),
    Column("resolved_total", "Đã giải quyết: tổng số", "Resolved: total", COUNT),
    Column("resolved_before_deadline", "Trước hạn", "Before the deadline", COUNT),
    Column("resolved_on_deadline", "Đúng hạn", "On the deadline", COUNT),
    Column("resolved_late", "Quá hạn", "Late", COUNT),
    Column("in_progress_total", "Đang giải quyết: tổng số", "In progress: total", COUNT),
    Column("in_progress_within_deadline", "Trong hạn", "Within the deadline", COUNT),
    Column("in_progress_overdue", "Quá hạn", "Overdue", COUNT),
]


def tables(form: Form06) -> list[Table]:
    summary = Table(
        "form06_tong_hop",
        "Biểu 06/VPCP/KSTT — tổng hợp toàn tỉnh",
        "Form 06 — province summary",
        [
            Column("row_kind", "Loại dòng", "Row kind"),
            Column("stt", "STT", "No."),
            Column("label", "Lĩnh vực", "Field"),
            *MEASURE_COLUMNS,
        ],  # fmt: skip
        [(ln.kind, ln.number, ln.label, *ln.values) for ln in form.lines()],
        form.note,
    )
    by_agency = Table(
        "form06_theo_don_vi",
        "Biểu 06/VPCP/KSTT — theo đơn vị",
        "Form 06 — by agency",
        [
            Column("agency_code", "Mã đơn vị", "Agency code"),
            Column("agency_name", "Tên đơn vị", "Agency"),
            Column("level_code", "Cấp thực hiện", "Level", COUNT),
            Column("field_code", "Mã lĩnh vực", "Field code"),
            Column("field_name", "Lĩnh vực", "Field"),
            *MEASURE_COLUMNS,
        ],  # fmt: skip
        [r if form.is_unit(r[0]) else (r[0], INVALID_CODE, *r[2:]) for r in form.rows],
        form.note,
    )
    return [summary, by_agency]


# --- workbook ----------------------------------------------------------------------------


def write_workbook(path: Path, form: Form06, freshness: Freshness, province: str) -> None:
    book = wb.new_workbook(path, f"{FORM_CODE} — {form.quarter.label}")
    fm = wb.Formats(book)
    sheets = [(SUMMARY_SHEET, f"UBND {province}", None)]
    sheets += [(code, name, code) for code, name in form.agencies()]
    for sheet_name, unit, agency in sheets:
        sheet = book.add_worksheet(sheet_name[:31])
        _write_sheet(sheet, fm, form, unit, agency, freshness, sheet_name)
    if form.invalid_codes():
        _write_invalid_codes(book.add_worksheet(INVALID_SHEET), fm, form, freshness)
    book.close()


def _write_invalid_codes(sheet, fm: wb.Formats, form: Form06, freshness: Freshness) -> None:
    """Dossiers under codes that are no registered unit: counted in the province's total, shown
    here per code as entered, never as a unit of their own."""
    columns = ["Mã đơn vị đã nhập", "Tên đơn vị đã nhập", *(c.vi for c in MEASURE_COLUMNS)]
    last = len(columns) - 1
    title = "Hồ sơ ghi mã đơn vị không hợp lệ"
    row = wb.write_title_block(sheet, fm, last, title,
                               [f"Kỳ báo cáo: {form.quarter.title_vi()}", freshness.as_of_vi()])  # fmt: skip
    row = wb.write_banner(sheet, fm, row, last, freshness.warning_vi(),
                          "Lỗi nhập liệu: mã không có trong danh mục đơn vị hành chính của kỳ."
                          " Các hồ sơ này đã tính trong biểu tổng hợp toàn tỉnh, không lập biểu"
                          " riêng và không xếp hạng.")  # fmt: skip
    header = row
    for col, text in enumerate(columns):
        sheet.write(row, col, text, fm.header)
    invalid = form.invalid_codes()
    for code, name, values in invalid:
        row += 1
        sheet.write_row(row, 0, [code, name or ""], fm.cell(None))
        for col, value in enumerate(values, start=2):
            sheet.write_number(row, col, value, fm.cell(COUNT))
    row += 1
    sheet.merge_range(row, 0, row, 1, "Cộng", fm.cell(None, bold=True))
    for col, value in enumerate(_sum(v for *_, v in invalid), start=2):
        sheet.write_number(row, col, value, fm.cell(COUNT, bold=True))
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 32)
    sheet.set_column(2, last, 12)
    sheet.set_row(header, 46)  # the form's longest header wraps to three lines at this width
    wb.print_setup(sheet, title=f"{FORM_CODE} — {INVALID_SHEET} — {form.quarter.label}",
                   horizon=freshness.as_of_vi(), repeat=(header, header))  # fmt: skip


def _write_sheet(sheet, fm: wb.Formats, form: Form06, unit: str, agency: str | None,
                 freshness: Freshness, sheet_title: str) -> None:  # fmt: skip
    sheet.merge_range(0, 0, 0, 4, unit.upper(), fm.left_bold)
    sheet.merge_range(0, 9, 0, LAST_COL, FORM_CODE, fm.left_bold)
    sheet.merge_range(1, 0, 1, 4, f"Mã đơn vị: {agency or 'toàn tỉnh'}", fm.text)
    sheet.merge_range(2, 0, 2, LAST_COL, FORM_TITLE, fm.title)
    sheet.merge_range(3, 0, 3, LAST_COL, f"Kỳ báo cáo: {form.quarter.title_vi()}", fm.subtitle)
    sheet.merge_range(4, 0, 4, LAST_COL, freshness.as_of_vi(), fm.subtitle)
    sheet.merge_range(5, 9, 5, LAST_COL, "Đơn vị tính: Số hồ sơ TTHC", fm.right)
    sheet.set_row(2, 44)  # two upper-case lines with stacked diacritics
    warning = freshness.warning_vi()
    if warning or form.note:
        # Row 6 is the one free row above the header: warning first, the note beside it.
        text = " · ".join(t for t in (warning, form.note) if t)
        sheet.merge_range(6, 0, 6, LAST_COL, text, fm.warning if warning else fm.note)
        sheet.set_row(6, 32)
    for top, left, bottom, right, text in HEADER_CELLS:
        if (top, left) == (bottom, right):
            sheet.write(HEADER_ROW + top, left, text, fm.header)
        else:
            sheet.merge_range(HEADER_ROW + top, left, HEADER_ROW + bottom, right, text, fm.header)
    for col in range(LAST_COL + 1):
        sheet.write(NUMBER_ROW, col, f"({col + 1})", fm.number_row)
    row = FIRST_DATA_ROW
    for line in form.lines(agency):
        bold = line.kind != "field"
        sheet.write(row, 0, line.number, fm.cell(None, bold=bold))
        sheet.write(row, 1, line.label, fm.cell(None, bold=bold))
        for col, value in enumerate(line.values, start=2):
            sheet.write_number(row, col, value, fm.cell(COUNT, bold=bold))
        row += 1
    sheet.merge_range(row + 1, 0, row + 1, 4, "NGƯỜI LẬP BIỂU", fm.left_bold)
    sheet.merge_range(row + 1, 8, row + 1, LAST_COL, "THỦ TRƯỞNG ĐƠN VỊ", fm.left_bold)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 48)
    sheet.set_column(2, LAST_COL, 12)
    # The last header row holds "Trực tiếp, dịch vụ bưu chính": three lines in its column.
    for offset, height in enumerate((22, 22, 24, 46)):
        sheet.set_row(HEADER_ROW + offset, height)
    sheet.freeze_panes(FIRST_DATA_ROW, 2)
    # The page header names the sheet, so every printed page says whose figures it holds.
    wb.print_setup(sheet, title=f"{FORM_CODE} — {sheet_title} — {form.quarter.label}",
                   horizon=freshness.as_of_vi(), repeat=(HEADER_ROW, NUMBER_ROW))  # fmt: skip
