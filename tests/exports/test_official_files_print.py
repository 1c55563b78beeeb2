"""Every official workbook is Vietnamese only and prints: A4 landscape fit to the page's
width, the header rows on every page, the title and data horizon in the page header, page
x/y in the footer; LibreOffice's PDF holds the titles, the header rows and the diacritics."""

from __future__ import annotations

from datetime import datetime, timedelta

import openpyxl
import pytest

from cchc.exports import form06, progress, quarterly, reconciliation, scorecard
from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.workbook import DICTIONARY_SHEET
from tests.exports.official_files import (
    PDFTOTEXT,
    SOFFICE,
    non_vietnamese_cells,
    non_vietnamese_html,
    pdf_pages,
    squeeze,
    to_pdf,
)

Q1 = Quarter.parse("2024Q1")
needs_libreoffice = pytest.mark.skipif(
    not (SOFFICE and PDFTOTEXT), reason="LibreOffice (soffice) or poppler (pdftotext) missing"
)
# The sheets that hold a table: their header rows repeat on every printed page.
TABLE_SHEETS = {"Bảng điểm", "Thành phần", "Theo quy tắc", "Theo đơn vị", "Hồ sơ nhiều lỗi",
                reconciliation.DATA_SHEET, DICTIONARY_SHEET, progress.SHEET}  # fmt: skip


@pytest.fixture(scope="module")
def exported(export_settings):
    return [
        quarterly.export_quarter(Q1, export_settings),
        quarterly.export_quarter(Quarter.parse("2024Q1", legal=True), export_settings),
        quarterly.export_quarter(Quarter.parse("2024Q2"), export_settings),  # stale: warnings
    ]


def test_no_english_outside_the_data_dictionary(exported):
    for result in exported:
        for path in sorted(result.folder.glob("*.xlsx")):
            assert non_vietnamese_cells(path) == [], path.name


def test_no_english_in_the_html_report(exported):
    for result in exported:
        assert non_vietnamese_html(result.folder / quarterly.HTML) == [], result.folder.name


def test_no_english_in_the_nightly_workbook(tmp_path):
    rows = [("H40.12", "Sở Tư pháp", datetime(2024, 3, 1), 10, 8, 7, 6, 1, 2, 1, 0.8, 16.0)]
    path = tmp_path / "tien_do.xlsx"
    progress._write_workbook(path, rows, datetime(2024, 4, 2, 1))
    assert non_vietnamese_cells(path) == []
    sheet = openpyxl.load_workbook(path)[progress.SHEET]  # with its diacritics
    assert "02/04/2024" in sheet["A2"].value


def test_every_sheet_is_set_up_for_print(exported):
    for path in sorted(exported[0].folder.glob("*.xlsx")):
        for sheet in openpyxl.load_workbook(path).worksheets:
            where = f"{path.name}:{sheet.title}"
            setup = sheet.page_setup
            assert setup.paperSize == 9 and setup.orientation == "landscape", where
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, where
            # One page wide (1 is the default, left out of the file), as many pages down as needed.
            assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, where
            assert "&P" in sheet.oddFooter.right.text and "&N" in sheet.oddFooter.right.text
            if sheet.title != DICTIONARY_SHEET:
                assert "Dữ liệu nguồn tính đến" in sheet.oddHeader.right.text, where
            if sheet.title in TABLE_SHEETS or path.name == quarterly.FORM06_XLSX:
                assert sheet.print_title_rows, f"{where}: header rows not repeated"


def _wide_scores(n: int) -> scorecard.Scores:
    """A province of `n` departments: a scorecard of many pages."""
    rows = []
    for i in range(n + 1):
        code = "H40" if i == 0 else f"H40.{i:02d}"
        rows.append(dict(
            scope_kind="province" if i == 0 else "agency", scope_code=code,
            scope_name=None if i == 0 else f"Sở số {i} tỉnh Nghệ An", group_code="TDGQ",
            component_code="DOSSIER_HANDLING_ON_TIME", component_name="Tỷ lệ hồ sơ đúng hạn",
            numerator=90, denominator=100, ratio=0.9, points=18.0, max_points=20,
            is_estimate=False, measure_basis="x", group_points=18.0, total_points=18.0 - i / 100,
            total_max_points=20, rank_in_period=None if i == 0 else i,
            unit_level=None if i == 0 else 1, dossiers_received=50,
            rank_status="province" if i == 0 else "ranked",
        ))  # fmt: skip
    return scorecard.Scores(Q1, rows, [])


@needs_libreoffice
def test_a_long_scorecard_repeats_its_header_on_every_page(tmp_path):
    loaded = datetime(2024, 4, 2, 1, tzinfo=Q1.closes_at.tzinfo)
    path = tmp_path / quarterly.SCORECARD_XLSX
    scorecard.write_workbook(path, _wide_scores(120), Freshness(Q1.closes_at, loaded, ()))
    pages = pdf_pages(to_pdf([path], tmp_path)[path.name])
    # The page header names the sheet's table: the scorecard's pages, then the components'.
    card = [p for p in pages if p.lstrip().startswith("Bảng điểm Chỉ số 766 — 2024Q1")]
    assert len(card) >= 3  # the test needs several pages
    for number, page in enumerate(pages, start=1):
        text = squeeze(page)
        assert "Trang" in text and "Dữ liệu nguồn tính đến 01:00 02/04/2024" in text, number
        assert f"Trang {number}/{len(pages)}" in text, number
    for page in card:
        words = page.split()
        for header in ("Xếp", "hạng", "Tổng", "điểm", "Tên", "cơ", "quan,", "sai", "lệch"):
            assert header in words, (header, page[:400])
    assert "Sở số 120 tỉnh Nghệ An" in squeeze(" ".join(pages))  # nothing cut at the end


@needs_libreoffice
def test_every_official_workbook_prints_with_titles_headers_and_diacritics(exported, tmp_path):
    result = exported[0]
    books = sorted(result.folder.glob("*.xlsx"))
    pdfs = to_pdf(books, tmp_path)
    pages = {name: pdf_pages(pdf) for name, pdf in pdfs.items()}
    expected = {  # file: (pages, words that must print)
        quarterly.FORM06_XLSX: (
            1 + 3, ["TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "Biểu số 06/VPCP/KSTT",
                    "Số hồ sơ nhận giải quyết", "Kết quả giải quyết", "Tổng hợp toàn tỉnh",
                    "Quý I năm 2024", "UBND TỈNH NGHỆ AN", "THỦ TRƯỞNG ĐƠN VỊ"]),
        quarterly.SCORECARD_XLSX: (  # the causes on a page, the two charts on a page each
            5, ["BẢNG ĐIỂM CHỈ SỐ 766", "Kỳ đánh giá: Quý I năm 2024", "Xếp hạng",
                "Điểm theo nhóm chỉ số", "Sở Tư pháp", "Thành phần", "17.60 18.35 0.75",
                "không phải điểm bị trừ", "NGUYÊN NHÂN CHÊNH LỆCH ĐIỂM 766 THEO CHỈ SỐ",
                "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", "cộng các cột bằng chênh lệch"]),
        quarterly.QUALITY_XLSX: (
            3, ["CỜ CHẤT LƯỢNG DỮ LIỆU THEO QUY TẮC", "Yêu cầu bổ sung hồ sơ nhiều hơn một lần",
                "Loại lỗi", "Lỗi nhập liệu", "UBND thành phố Vinh"]),
        quarterly.RECONCILIATION_XLSX: (  # then the causes and the restatements, a sheet each
            7, ["ĐIỂM 766 CHÍNH THỨC VÀ ĐIỂM TÍNH LẠI — TỆP DỮ LIỆU", "Tệp dữ liệu",
                "Số dòng đối chiếu theo nhóm chỉ số", "Từ điển dữ liệu",
                "NGUYÊN NHÂN CHÊNH LỆCH ĐIỂM 766 THEO CHỈ SỐ", "Phần chưa giải thích",
                "SỐ LIỆU 766 ĐÃ ĐIỀU CHỈNH SAU KHI XUẤT/CÔNG BỐ"]),
    }  # fmt: skip
    assert set(pages) == set(expected)
    for name, (count, phrases) in expected.items():
        text = squeeze(" ".join(pages[name]))
        assert len(pages[name]) == count, (name, len(pages[name]))
        for phrase in phrases:
            assert phrase in text, (name, phrase)
        for number, page in enumerate(pages[name], start=1):
            assert f"Trang {number}/{count}" in squeeze(page), (name, number)
    summary = pages[quarterly.FORM06_XLSX][0]
    words = summary.split()  # wrapped header cells print across lines: word by word
    assert "Tổng hợp toàn tỉnh" in summary
    assert {"Trực", "tuyến", "tiếp,", "bưu", "chính", "(13)"} <= set(words)


@needs_libreoffice
def test_the_nightly_workbook_prints_its_title_and_header_on_every_page(tmp_path):
    start = datetime(2024, 1, 1)
    rows = [
        (f"H40.{i % 60:02d}", f"UBND xã Hưng Đông {i}", start + timedelta(days=31 * (i // 60)),
         10, 8, 7, 6, 1, 2, 1, 0.8, 16.0)
        for i in range(240)
    ]  # fmt: skip
    path = tmp_path / "tien_do_giai_quyet_ho_so.xlsx"
    progress._write_workbook(path, rows, datetime(2024, 4, 2, 1))
    pages = pdf_pages(to_pdf([path], tmp_path)[path.name])
    assert 3 <= len(pages) <= 12, len(pages)
    title = "TIẾN ĐỘ GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH THEO ĐƠN VỊ"
    assert title in squeeze(pages[0])  # the title, whole, with its diacritics
    for page in pages:
        words = page.split()
        assert "Mã" in words and "Tháng" in words and "Dữ" in words, page[:300]
    assert "UBND xã Hưng Đông 239" in squeeze(" ".join(pages))


def test_form06_sheets_keep_their_layout_constants():
    # The repeated header rows are the form's own four rows and its (1)…(13) row.
    assert form06.NUMBER_ROW - form06.HEADER_ROW == 4
