"""Shared XLSX pieces: reproducible workbooks, formats, title blocks and plain tables.

Workbook metadata and the zip entries' dates are fixed, so the same data gives the same
bytes: a re-export of an unchanged quarter has the same checksums.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cchc.exports.tables import Table, plain

FIXED_CREATED = datetime(2000, 1, 1)  # also xlsxwriter's zip timestamp: byte-identical files
FONT = "Times New Roman"  # the font of official documents (Decree 30/2020)
MAX_WIDTH = 60


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
        self.note = book.add_format({**base, "italic": True, "font_color": "#7F6000"})
        self.header = book.add_format(
            {**cell, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"}
        )
        self.header_en = book.add_format(
            {**cell, "italic": True, "text_wrap": True, "align": "center", "font_color": "#595959"}
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


def write_banner(sheet: Worksheet, fm: Formats, row: int, last_col: int, warning: str | None,
                 note: str | None = None) -> int:  # fmt: skip
    """The stale-source warning (red) and a table note (amber), each across the sheet."""
    for text, fmt in ((warning, fm.warning), (note, fm.note)):
        if text:
            sheet.merge_range(row, 0, row, max(last_col, 1), text, fmt)
            sheet.set_row(row, 32 if fmt is fm.warning else None)
            row += 1
    return row


def write_table(sheet: Worksheet, fm: Formats, table: Table, row: int, *,
                flag_column: str | None = None, flag_when: bool = True) -> int:  # fmt: skip
    """Vietnamese header, English sub-header, then the rows; returns the next free row.

    Rows whose `flag_column` is truthy (or falsy, with `flag_when=False`) are shaded amber."""
    last = len(table.columns) - 1
    row = write_banner(sheet, fm, row, last, None, table.note)
    header_row = row
    for col, column in enumerate(table.columns):
        sheet.write(row, col, column.vi, fm.header)
        sheet.write(row + 1, col, column.en, fm.header_en)
    row += 2
    flag_index = [c.key for c in table.columns].index(flag_column) if flag_column else None
    for values in table.rows:
        flagged = flag_index is not None and bool(values[flag_index]) == flag_when
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True)):
            sheet.write(row, col, plain(value), fm.cell(column.fmt, flagged=flagged))
        row += 1
    fit_columns(sheet, table)
    if table.rows:
        sheet.autofilter(header_row + 1, 0, row - 1, last)
    return row


def fit_columns(sheet: Worksheet, table: Table, first_col: int = 0) -> None:
    for col, column in enumerate(table.columns, start=first_col):
        if column.width is not None:
            sheet.set_column(col, col, column.width)
            continue
        longest_word = max((text_width(w) for w in f"{column.vi} {column.en}".split()), default=8)
        values = [text_width(plain(v)) for v in table.column(column.key)[:2000]]
        sheet.set_column(col, col, min(MAX_WIDTH, max([longest_word + 2, 10, *values]) + 2))
