"""The nightly export: on-time handling (Decision 766 progress) per agency and month, as XLSX.

A night's file is as of that night: it lives in `nightly/<the night's date>/`, its title states
its data horizon (the end of the night's window), and it is written only while the warehouse
holds nothing loaded after that horizon. The marts keep no history, so a past night cannot be
reproduced once later nights are loaded: that export is refused and the file written on the
night itself is left as it was.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from cchc import warehouse
from cchc.config import Settings, load_settings
from cchc.exports import workbook as wb
from cchc.exports.files import write_atomically
from cchc.extract.freshness import read_watermarks
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
FILE_NAME = "tien_do_giai_quyet_ho_so.xlsx"
INVALID_CODE = "Mã đơn vị không hợp lệ"


class NightNotReproducible(Exception):
    """The warehouse already holds data after the night's horizon."""


def night_of(horizon: datetime) -> date:
    """The night a horizon closes: the nightly run at 01:00 on D+1 covers day D."""
    return (horizon.astimezone(TZ) - timedelta(days=1)).date()


def nightly_path(settings: Settings, night: date) -> Path:
    return settings.province_export_dir / "nightly" / f"{night:%Y-%m-%d}" / FILE_NAME


def fetch_rows(conn, province: str) -> list[tuple]:
    """The mart's rows; a code that is no registered unit is named as the error it is."""
    columns = ", ".join(
        f"case when a.is_known_unit is false then '{INVALID_CODE}' else m.agency_name end"
        if c == "agency_name" else f"m.{c}"
        for c, *_ in COLUMNS
    )  # fmt: skip
    return conn.execute(
        f"select {columns} from {MART} m left join marts.dim_agencies a"
        " on a.province_code = m.province_code and a.agency_code = m.agency_code"
        " where m.province_code = %s order by m.month_start, m.agency_code",
        [province],
    ).fetchall()


def loaded_beyond(conn, province: str, horizon: datetime) -> datetime | None:
    """The furthest watermark of `province` when it lies after `horizon`, else None."""
    furthest = max((u for u in read_watermarks(conn, province).values() if u), default=None)
    return furthest if furthest and furthest > horizon else None


def export_progress(as_of: datetime | None = None, settings: Settings | None = None,
                    night: date | None = None) -> Path:  # fmt: skip
    """Write the workbook of the night whose data horizon is `as_of` (default: now).

    Raises NightNotReproducible when a later night is already loaded."""
    settings = settings or load_settings()
    as_of = (as_of or datetime.now(TZ)).astimezone(TZ)
    night = night or night_of(as_of)
    path = nightly_path(settings, night)
    with warehouse.connect_as("transformer", settings) as conn:
        later = loaded_beyond(conn, settings.province_code, as_of)
        if later:
            kept = f"; the file written that night is kept: {path}" if path.exists() else ""
            raise NightNotReproducible(
                f"the night of {night:%Y-%m-%d} cannot be re-exported: its horizon is"
                f" {as_of:%Y-%m-%d %H:%M}, but the warehouse is loaded up to"
                f" {later.astimezone(TZ):%Y-%m-%d %H:%M} and keeps no history of the marts{kept}"
            )
        rows = fetch_rows(conn, settings.province_code)
    return write_atomically(path, lambda tmp: _write_workbook(tmp, rows, as_of, night))


SHEET = "Tiến độ"
TITLE = "Tiến độ giải quyết hồ sơ thủ tục hành chính theo đơn vị (QĐ 766/QĐ-TTg)"


def horizon_title(as_of: datetime, night: date) -> str:
    """`ĐÊM 01/04/2024, SỐ LIỆU ĐẾN 01:00 NGÀY 02/04/2024`: what the file's figures cover."""
    return f"ĐÊM {night:%d/%m/%Y}, SỐ LIỆU ĐẾN {as_of:%H:%M} NGÀY {as_of:%d/%m/%Y}"


def horizon_line(as_of: datetime, night: date) -> str:
    """The data horizon under the title and in every printed page's header."""
    return f"Dữ liệu đến {as_of:%H:%M} ngày {as_of:%d/%m/%Y} (đêm {night:%d/%m/%Y})"


def _write_workbook(path: Path, rows: list[tuple], as_of: datetime,
                    night: date | None = None) -> None:  # fmt: skip
    night = night or night_of(as_of if as_of.tzinfo else as_of.replace(tzinfo=TZ))
    book = wb.new_workbook(path, f"Tiến độ giải quyết hồ sơ TTHC — {horizon_title(as_of, night)}")
    fm = wb.Formats(book)
    sheet = book.add_worksheet(SHEET)
    last = len(COLUMNS) - 1
    horizon = horizon_line(as_of, night)
    title = f"{TITLE} — {horizon_title(as_of, night)}"
    header = wb.write_title_block(sheet, fm, last, title, [horizon]) + 1
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
