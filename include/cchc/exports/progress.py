"""The nightly export: on-time handling (Decision 766 progress) per agency and month, as XLSX."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cchc import warehouse
from cchc.config import Settings, load_settings
from cchc.exports import workbook as wb
from cchc.exports.files import write_atomically
from cchc.extract.window import TZ

# (mart column, Vietnamese header, English header, number format)
COLUMNS = [
    ("agency_code", "Mã đơn vị", "Agency code", None),
    ("agency_name", "Tên đơn vị", "Agency", None),
    ("month_start", "Tháng", "Month", "mm/yyyy"),
    ("dossiers_in_scope", "Hồ sơ thuộc kỳ", "Dossiers in scope", "#,##0"),
    ("dossiers_received", "Hồ sơ tiếp nhận", "Received", "#,##0"),
    ("dossiers_ended", "Hồ sơ đã giải quyết", "Resolved", "#,##0"),
    ("ended_on_time", "Giải quyết đúng hạn", "Resolved on time", "#,##0"),
    ("ended_late", "Giải quyết quá hạn", "Resolved late", "#,##0"),
    ("open_on_time", "Đang giải quyết trong hạn", "Open, within deadline", "#,##0"),
    ("open_overdue", "Đang giải quyết quá hạn", "Open, overdue", "#,##0"),
    ("on_time_ratio", "Tỷ lệ đúng hạn", "On-time ratio", "0.00%"),
    ("progress_score", "Điểm tiến độ (tối đa 20)", "Progress score (max 20)", "0.00"),
]
MART = "marts.mart_dossier_progress_monthly"


def fetch_rows(settings: Settings) -> list[tuple]:
    columns = ", ".join(c for c, *_ in COLUMNS)
    with warehouse.connect(settings) as conn:
        return conn.execute(
            f"select {columns} from {MART} where province_code = %s"
            " order by month_start, agency_code",
            [settings.province_code],
        ).fetchall()


def export_progress(as_of: datetime | None = None, settings: Settings | None = None) -> Path:
    settings = settings or load_settings()
    as_of = (as_of or datetime.now(TZ)).astimezone(TZ)
    rows = fetch_rows(settings)
    path = (
        settings.province_export_dir / "nightly" / f"{as_of:%Y-%m-%d}"
        / "tien_do_giai_quyet_ho_so.xlsx"
    )  # fmt: skip
    return write_atomically(path, lambda tmp: _write_workbook(tmp, rows, as_of))


SHEET = "Tiến độ"
TITLE = "Tiến độ giải quyết hồ sơ thủ tục hành chính theo đơn vị (QĐ 766/QĐ-TTg)"


def _write_workbook(path: Path, rows: list[tuple], as_of: datetime) -> None:
    book = wb.new_workbook(path, "Tiến độ giải quyết hồ sơ TTHC")
    fm = wb.Formats(book)
    sheet = book.add_worksheet(SHEET)
    last = len(COLUMNS) - 1
    horizon = f"Dữ liệu đến ngày {as_of:%d/%m/%Y}"
    header = wb.write_title_block(sheet, fm, last, TITLE, [horizon]) + 1
    for col, (_, vi, _en, _fmt) in enumerate(COLUMNS):
        sheet.write(header, col, vi, fm.header)
        sheet.set_column(col, col, 36 if col == 1 else 13)
    sheet.set_row(header, 45)  # three lines: the longest header wraps twice at this width
    for r, row in enumerate(rows, start=header + 1):
        for col, value in enumerate(row):
            fmt = COLUMNS[col][3]
            if value is not None and fmt not in (None, "mm/yyyy"):
                value = float(value)
            sheet.write(r, col, value, fm.cell(fmt))
    sheet.freeze_panes(header + 1, 2)
    sheet.autofilter(header, 0, header + max(len(rows), 1), last)
    wb.print_setup(sheet, title=TITLE, horizon=horizon, repeat=(header, header))
    book.close()
