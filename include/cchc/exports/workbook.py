"""Shared XLSX pieces: reproducible workbooks, formats, title blocks and plain tables.

Workbook metadata and the zip entries' dates are fixed, so the same data gives the same
bytes: a re-export of an unchanged quarter has the same checksums.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cchc.exports.freshness import DRAFT_MARK
from cchc.exports.tables import Table, plain

FIXED_CREATED = datetime(2000, 1, 1)  # also xlsxwriter's zip timestamp: byte-identical files
FONT = "Times New Roman"  # the font of official documents (Decree 30/2020)
MAX_WIDTH = 60
A4 = 9  # xlsxwriter's paper code
# Printable width of A4 landscape at the margins below, in Excel's character units at 11 pt:
# wider tables are shrunk to fit it, so their text must stay readable after the shrink.
LANDSCAPE_WIDTH = 150
DICTIONARY_SHEET = "Từ điển dữ liệu"  # the one sheet where English column names may appear


def new_workbook(path: Path, title: str) -> xlsxwriter.Workbook:
    book = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
    book.set_properties({"title": title, "author": "CCHC data platform", "created": FIXED_CREATED})
    book.formats[0].set_font_name(FONT)  # default cell format
    return book


class Formats:
    """The formats one workbook needs, created once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook):
        base = {"font_name": FONT, "font_size": 11}
        cell = {**base, "border": 1, "valign": "vcenter"}
        self.book = book
        self.title = book.add_format(
            {**base, "bold": True, "font_size": 13, "align": "center", "text_wrap": True}
        )
        self.subtitle = book.add_format({**base, "italic": True, "align": "center"})
        self.left_bold = book.add_format({**base, "bold": True})
        self.right = book.add_format({**base, "italic": True, "align": "right"})
        self.text = book.add_format(base)
        self.warning = book.add_format(
            {
                **base,
                "bold": True,
                "font_color": "#9C0006",
                "bg_color": "#FFC7CE",
                "text_wrap": True,
            }
        )
        self.note = book.add_format(
            {**base, "italic": True, "font_color": "#7F6000", "text_wrap": True, "valign": "top"}
        )
        self.header = book.add_format(
            {**cell, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"}
        )
        self.number_row = book.add_format({**cell, "italic": True, "align": "center"})
        self._cells: dict[tuple[str | None, bool, bool], object] = {}
        self._base = cell

    def cell(self, fmt: str | None, *, bold: bool = False, flagged: bool = False):
        """A bordered data cell with a number format; bold for totals, amber when flagged."""
        key = (fmt, bold, flagged)
        if key not in self._cells:
            props = dict(self._base)
            if fmt:
                props["num_format"] = fmt
            else:
                props["text_wrap"] = True
            if bold:
                props["bold"] = True
                props["bg_color"] = "#F2F2F2"
            if flagged:
                props["bg_color"] = "#FFEB9C"
            self._cells[key] = self.book.add_format(props)
        return self._cells[key]


def text_width(value) -> float:
    """Display width of a value in Excel's character units (combining marks take none)."""
    if value is None:
        return 0
    if isinstance(value, float):
        value = f"{value:,.2f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    text = unicodedata.normalize("NFC", str(value))
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def write_title_block(sheet: Worksheet, fm: Formats, last_col: int, title: str,
                      lines: list[str]) -> int:  # fmt: skip
    """The title (upper case, tall enough for stacked diacritics) and its subtitle lines,
    each merged across the table; returns the next free row."""
    last_col = max(last_col, 1)
    # Upper case, except the document-type abbreviation "QĐ-TTg" (Prime Minister's decision).
    sheet.merge_range(0, 0, 0, last_col, title.upper().replace("QĐ-TTG", "QĐ-TTg"), fm.title)
    sheet.set_row(0, 36)
    for row, line in enumerate(lines, start=1):
        sheet.merge_range(row, 0, row, last_col, line, fm.subtitle)
        sheet.set_row(row, 18)
    return 1 + len(lines)


def write_banner(sheet: Worksheet, fm: Formats, row: int, last_col: int, warning: str | None,
                 note: str | None = None, width: float = LANDSCAPE_WIDTH) -> int:  # fmt: skip
    """The stale-source warning (red) and a table note (amber), each across the sheet; a
    note longer than the sheet's `width` (character units) wraps onto as many lines as it
    needs (a merged cell never grows by itself: cut off in print otherwise)."""
    for text, fmt in ((warning, fm.warning), (note, fm.note)):
        if text:
            sheet.merge_range(row, 0, row, max(last_col, 1), text, fmt)
            lines = math.ceil(text_width(text) * 1.3 / max(width, 40))
            sheet.set_row(row, 32 if fmt is fm.warning else (15 * lines if lines > 1 else None))
            row += 1
    return row


def write_table(sheet: Worksheet, fm: Formats, table: Table, row: int, *,
                flag_column: str | None = None, flag_when: bool = True,
                rows: list[tuple] | None = None) -> int:  # fmt: skip
    """The Vietnamese header row, then the rows (`rows`, default the table's); returns the
    next free row. The header row is the sheet's print title: `print_setup` repeats it.

    Rows whose `flag_column` is truthy (or falsy, with `flag_when=False`) are shaded amber;
    yes/no values are written "Có"/"Không", never Excel's TRUE/FALSE."""
    last = len(table.columns) - 1
    row = write_banner(sheet, fm, row, last, None, table.note, sum(column_widths(table)))
    header_row = row
    for col, column in enumerate(table.columns):
        sheet.write(row, col, column.vi, fm.header)
    sheet.set_row(row, 15 * header_lines(table))
    row += 1
    flag_index = [c.key for c in table.columns].index(flag_column) if flag_column else None
    for values in table.rows if rows is None else rows:
        flagged = flag_index is not None and bool(values[flag_index]) == flag_when
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True)):
            sheet.write(row, col, vietnamese(value), fm.cell(column.fmt, flagged=flagged))
        row += 1
    fit_columns(sheet, table)
    if table.rows:
        sheet.autofilter(header_row, 0, row - 1, last)
    return row


def vietnamese(value):
    """A cell value as an official file shows it: booleans in words, Decimals as floats."""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return plain(value)


def column_widths(table: Table) -> list[float]:
    widths = []
    for column in table.columns:
        if column.width is not None:
            widths.append(column.width)
            continue
        longest_word = max((text_width(w) for w in column.vi.split()), default=8)
        values = [text_width(vietnamese(v)) for v in table.column(column.key)[:2000]]
        widths.append(min(MAX_WIDTH, max([longest_word + 2, 10, *values]) + 2))
    return widths


def header_lines(table: Table) -> int:
    """Lines the wrapped header needs in its fitted columns, so no header is clipped."""
    lines = 1
    for column, width in zip(table.columns, column_widths(table), strict=True):
        words, line, count = column.vi.split(), 0.0, 1
        for word in words:
            size = text_width(word) + (1 if line else 0)
            if line and line + size > width - 1:
                count, line = count + 1, text_width(word)
            else:
                line += size
        lines = max(lines, count)
    return lines


def fit_columns(sheet: Worksheet, table: Table, first_col: int = 0) -> None:
    for col, width in enumerate(column_widths(table), start=first_col):
        sheet.set_column(col, col, width)


def print_setup(sheet: Worksheet, *, title: str, horizon: str, repeat: tuple[int, int] | None,
                landscape: bool = True) -> None:  # fmt: skip
    """A4, fit to the page's width (as many pages down as needed), the header rows repeated
    on every page, the title and data horizon in the page header, page x/y in the footer."""
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.6)
    sheet.center_horizontally()
    if repeat is not None:
        sheet.repeat_rows(*repeat)
    # '&&' is a literal ampersand in a header; the font is named so diacritics print.
    font = f'&"{FONT},Regular"&9'
    safe = title.replace("&", "&&")
    sheet.set_header(f"&L{font}{safe}&R{font}{horizon.replace('&', '&&')}")
    sheet.set_footer(f"&L{font}{safe}&R{font}Trang &P/&N")


def write_dictionary(book: xlsxwriter.Workbook, fm: Formats, tables: list[Table], *,
                     draft_warning: str | None = None) -> None:  # fmt: skip
    """The data dictionary: each column's Vietnamese header beside its English name and key;
    a draft's (`draft_warning`) says so above the table and in its page header."""
    sheet = book.add_worksheet(DICTIONARY_SHEET)
    top = write_banner(sheet, fm, 0, 3, draft_warning)
    header = ["Bảng", "Cột (tiếng Việt)", "Column (English)", "Mã cột (CSV)"]
    for col, text in enumerate(header):
        sheet.write(top, col, text, fm.header)
    row = top + 1
    for table in tables:
        for column in table.columns:
            for col, text in enumerate((table.title_vi, column.vi, column.en, column.key)):
                sheet.write(row, col, text, fm.cell(None))
            row += 1
    for col, width in enumerate((40, 40, 40, 28)):
        sheet.set_column(col, col, width)
    horizon = DRAFT_MARK if draft_warning else ""
    print_setup(sheet, title=DICTIONARY_SHEET, horizon=horizon, repeat=(top, top))
