"""The nightly export: on-time handling (Decision 766 progress) per agency and month, as XLSX."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter

from cchc import warehouse
from cchc.config import Settings, load_settings
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
    with warehouse.connect_as("transformer", settings) as conn:
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


def _write_workbook(path: Path, rows: list[tuple], as_of: datetime) -> None:
    book = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
    book.set_properties({"title": "Tiến độ giải quyết hồ sơ TTHC", "created": datetime(2000, 1, 1)})
    sheet = book.add_worksheet("Tien do")
    title = book.add_format({"bold": True, "font_size": 14})
    header = book.add_format(
        {
            "bold": True,
            "text_wrap": True,
            "valign": "vcenter",
            "align": "center",
            "border": 1,
            "bg_color": "#DDEBF7",
        }
    )
    sub = book.add_format(
        {"italic": True, "font_color": "#595959", "text_wrap": True, "align": "center", "border": 1}
    )
    formats = {fmt: book.add_format({"num_format": fmt, "border": 1}) for *_, fmt in COLUMNS if fmt}
    plain = book.add_format({"border": 1})
    sheet.write(
        0, 0, "TIẾN ĐỘ GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH THEO ĐƠN VỊ (QĐ 766/QĐ-TTg)", title
    )
    sheet.write(
        1,
        0,
        f"Dữ liệu đến ngày {as_of:%d/%m/%Y} · On-time handling by agency and month (Decision 766)",
    )
    for col, (_, vi, en, _fmt) in enumerate(COLUMNS):
        sheet.write(3, col, vi, header)
        sheet.write(4, col, en, sub)
        sheet.set_column(col, col, 40 if col == 1 else 14)
    for r, row in enumerate(rows, start=5):
        for col, value in enumerate(row):
            fmt = formats.get(COLUMNS[col][3], plain)
            if value is not None and COLUMNS[col][3] not in (None, "mm/yyyy"):
                value = float(value)
            sheet.write(r, col, value, fmt)
    sheet.freeze_panes(5, 2)
    sheet.autofilter(4, 0, 4 + max(len(rows), 1), len(COLUMNS) - 1)
    book.close()
