"""The quarterly export read back: every number equals the marts', the form's layout holds,
re-exports are byte-identical, stale sources are flagged, the HTML is offline."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from typer.testing import CliRunner

from cchc.exports import form06, quality_annex, quarterly, reconciliation, rule_impact
from cchc.exports.cli import export_app
from cchc.exports.periods import Quarter
from tests.exports import official_files

Q1 = Quarter.parse("2024Q1")
Q1_LEGAL = Quarter.parse("2024Q1", legal=True)


@pytest.fixture(scope="module")
def q1(export_settings):
    return quarterly.export_quarter(Q1, export_settings)


def book(result, name):
    return openpyxl.load_workbook(result.folder / name, data_only=True)


def rows_below(sheet, first_row: int, width: int) -> list[tuple]:
    return [r[:width] for r in sheet.iter_rows(min_row=first_row, values_only=True) if r[0] or r[1]]


@pytest.mark.parametrize("quarter", [Q1, Q1_LEGAL], ids=["calendar", "legal"])
def test_form06_every_number_equals_the_mart(export_settings, conn, quarter):
    result = quarterly.export_quarter(quarter, export_settings)
    wb = book(result, quarterly.FORM06_XLSX)
    mart = conn.execute(
        f"select agency_code, level_code, field_name || ' (' || field_code || ')',"
        f" {', '.join(form06.MEASURES)} from marts.mart_form06_quarterly"
        " where period_kind = %s and period_label = %s",
        [quarter.kind, quarter.label],
    ).fetchall()
    agencies = sorted({r[0] for r in mart})
    assert wb.sheetnames == [form06.SUMMARY_SHEET, *agencies]
    first = form06.FIRST_DATA_ROW + 1  # openpyxl counts from 1
    for agency in [None, *agencies]:
        ws = wb[agency or form06.SUMMARY_SHEET]
        body = [r for r in rows_below(ws, first, 13) if isinstance(r[2], (int, float))]
        fields, level = {}, None
        for r in body:
            level = {"I": 1, "II": 2, "III": 3}.get(r[0], level)
            if r[0] and r[0].isdigit():
                fields[(level, r[1])] = r[2:]
        expected: dict[tuple, list[int]] = {}
        for a, lvl, label, *values in mart:
            if agency in (None, a):
                old = expected.get((lvl, label), [0] * 11)
                expected[(lvl, label)] = [x + y for x, y in zip(old, values, strict=True)]
        assert {k: list(v) for k, v in fields.items()} == expected, agency
        total, levels = body[0], [r for r in body if r[0] in ("I", "II", "III")]
        assert total[1] == "Tổng số"
        assert list(total[2:]) == [sum(c) for c in zip(*[r[2:] for r in levels], strict=False)]
        assert list(total[2:]) == [sum(c) for c in zip(*fields.values(), strict=False)]
        for r in body:  # the form's own identities
            assert r[2] == r[3] + r[4] + r[5] and r[2] == r[6] + r[10]
            assert r[6] == r[7] + r[8] + r[9] and r[10] == r[11] + r[12]


def test_form06_header_matches_the_form(q1):
    ws = book(q1, quarterly.FORM06_XLSX)[form06.SUMMARY_SHEET]
    top = form06.HEADER_ROW + 1
    merged = {str(m) for m in ws.merged_cells.ranges}
    expected = {
        f"A{top}:A{top + 3}", f"B{top}:B{top + 3}", f"C{top}:F{top}", f"G{top}:M{top}",
        f"C{top + 1}:C{top + 3}", f"D{top + 1}:F{top + 1}", f"G{top + 1}:J{top + 1}",
        f"K{top + 1}:M{top + 1}", f"D{top + 2}:E{top + 2}", f"F{top + 2}:F{top + 3}",
        *[f"{c}{top + 2}:{c}{top + 3}" for c in "GHIJKLM"],
    }  # fmt: skip
    assert expected <= merged
    assert ws.cell(top, 3).value == "Số hồ sơ nhận giải quyết"
    assert ws.cell(top, 7).value == "Kết quả giải quyết"
    assert ws.cell(top + 3, 4).value == "Trực tuyến"
    assert ws.cell(top + 3, 5).value == "Trực tiếp, dịch vụ bưu chính"
    numbers = [ws.cell(form06.NUMBER_ROW + 1, c).value for c in range(1, 14)]
    assert numbers == [f"({i})" for i in range(1, 14)]
    title = " ".join(str(ws.cell(r, c).value or "") for r in range(1, 7) for c in range(1, 14))
    assert "06/VPCP/KSTT" in title and "Quý I năm 2024" in title and "01/01/2024" in title
    assert ws.column_dimensions["B"].width >= 40


def test_scorecard_numbers_equal_the_mart(q1, conn):
    wb = book(q1, quarterly.SCORECARD_XLSX)
    ws = wb["Bảng điểm"]
    header = next(i for i, r in enumerate(ws.iter_rows(values_only=True), 1) if r[0] == "Mã đơn vị")
    cells = {r[0]: r for r in ws.iter_rows(min_row=header + 1, values_only=True) if r[0]}
    mart = conn.execute(
        "select scope_code, group_code, group_points, total_points, rank_in_period"
        " from marts.mart_qd766_scores where period_grain = 'quarter' and period_label = '2024Q1'"
    ).fetchall()
    previous = dict(conn.execute(
        "select distinct scope_code, total_points from marts.mart_qd766_scores"
        " where period_grain = 'quarter' and period_label = '2023Q4'").fetchall())  # fmt: skip
    groups = ["CKMB", "TDGQ", "DVCTT", "TTTT", "MDSH", "MDHL"]
    assert set(cells) == {r[0] for r in mart}
    for scope, group, points, total, rank in mart:
        row = cells[scope]
        # code, name, level, dossiers received, the six groups, total, points at stake
        # (mart_qd766_bounds: 0.40 + 0.35 on time, 0 online, 0 for the sync), max, rank, …
        assert row[4 + groups.index(group)] == pytest.approx(float(points))
        assert row[10] == pytest.approx(float(total)) and row[13] == rank
        assert row[11] == pytest.approx(0.75)
        assert row[14] == pytest.approx(float(previous[scope]))
        assert row[15] == pytest.approx(float(total - previous[scope]))
        assert row[4 + groups.index("MDHL")] is None  # not computed: blank, not 0
    assert list(cells)[0] == "H40"  # province first
    comp = wb["Thành phần"]
    header = next(
        i for i, r in enumerate(comp.iter_rows(values_only=True), 1) if r[0] == "Mã đơn vị"
    )
    body = [r for r in comp.iter_rows(min_row=header + 1, values_only=True) if r[0]]
    mart = conn.execute(
        "select scope_code, component_code, numerator, denominator, points, is_estimate"
        " from marts.mart_qd766_scores where period_grain = 'quarter' and period_label = '2024Q1'"
    ).fetchall()
    got = {(r[0], r[3]): (r[5], r[6], r[8], r[13] or "") for r in body}
    assert got == {(s, c): (n, d, pytest.approx(float(p)), "Ước tính" if e else "")
                   for s, c, n, d, p, e in mart}  # fmt: skip
    # lowest, highest, at stake: bounded, nothing flagged (the points), no rule (the points:
    # width 0 by construction)
    bounds = {(r[0], r[3]): (r[8], r[10], r[11], r[12]) for r in body}
    points, low, high, stake = bounds[("H40", "DOSSIER_HANDLING_ON_TIME")]
    assert (low, high, stake) == pytest.approx((points - 0.40, points + 0.35, 0.75))
    points, low, high, stake = bounds[("H40", "ONLINE_DOSSIER_RATE")]
    assert (low, high, stake) == pytest.approx((points, points, 0))
    sync = bounds[("H40", "DOSSIER_SYNC")]
    assert sync[1:] == pytest.approx((sync[0], sync[0], 0))
    header_row = next(comp.iter_rows(min_row=header, max_row=header, values_only=True))
    assert "Điểm có thể sai lệch" in header_row and "Điểm thấp nhất" in header_row
    with zipfile.ZipFile(q1.folder / quarterly.SCORECARD_XLSX) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) == 2


def test_quality_annex_equals_the_flags(q1, conn):
    ws = book(q1, quarterly.QUALITY_XLSX)[quality_annex.AGENCY_SHEET]
    header = next(i for i, r in enumerate(ws.iter_rows(values_only=True), 1) if r[0] == "Mã đơn vị")
    names = [c.value for c in ws[header]]
    got = {}
    for r in ws.iter_rows(min_row=header + 1, values_only=True):
        for column in range(3, len(names) - 1):  # one column per rule, then the total
            if r[0] and r[column]:
                got[(r[0], names[column])] = (r[column], r[2])
        if r[0]:
            assert r[-1] == sum(v or 0 for v in r[3:-1])
    expected = conn.execute(
        """select d.agency_code, f.rule_id, count(*),
                  (select count(*) from marts.fct_dossiers x where x.agency_code = d.agency_code)
           from dq.record_flags f join marts.fct_dossiers d on d.dossier_code = f.record_key
           where f.run_id = 'run-2' group by 1, 2"""
    ).fetchall()
    assert got == {(a, rule_impact.name(r)): (n, m) for a, r, n, m in expected}
    # The CSV keeps one row per agency and rule, with its rate.
    with (q1.folder / "chat_luong_theo_don_vi.csv").open(encoding="utf-8-sig") as f:
        long = {(r["agency_code"], r["rule_id"]): r for r in csv.DictReader(f)}
    assert {k: (int(v["flagged"]), int(v["dossiers"])) for k, v in long.items()} == {
        (a, r): (n, m) for a, r, n, m in expected
    }
    text = (q1.folder / "chat_luong_ho_so_nhieu_loi.csv").read_text(encoding="utf-8-sig")
    assert "completed_without_end_date" not in text  # only the latest run counts
    assert "766 TDGQ" in text


def test_reconciliation_says_not_yet_built_then_reads_the_mart(export_settings, conn):
    result = quarterly.export_quarter(Q1, export_settings)
    ws = book(result, quarterly.RECONCILIATION_XLSX)[reconciliation.DATA_SHEET]
    text = " ".join(str(c) for r in ws.iter_rows(values_only=True) for c in r if c)
    assert "bảng đối chiếu điểm Chỉ số 766 chưa được xây dựng" in text
    assert "qd766_doi_chieu" in result.manifest["notes"]
    conn.execute(
        "create table marts.mart_qd766_reconciliation as select 'agency'::text scope_kind,"
        " 'H40.12'::text scope_code, date '2024-02-01' month_start,"
        " 'DOSSIER_HANDLING_ON_TIME'::text component_code, 18.5::numeric official_points,"
        " 17.0::numeric our_points, -1.5::numeric difference, false within_tolerance,"
        " false is_estimate, 'H40'::text province_code"
    )
    conn.commit()
    try:
        result = quarterly.export_quarter(Q1, export_settings)
        ws = book(result, quarterly.RECONCILIATION_XLSX)[reconciliation.DATA_SHEET]
        row = next(r for r in ws.iter_rows(values_only=True) if r[1] == "H40.12")
        assert row[0] == "Đơn vị xử lý" and row[7:9] == ("Không", "Không")  # no English
        assert row[4:7] == (18.5, 17.0, -1.5)
        # The finding that explains it, by its Vietnamese name.
        assert rule_impact.name("multiple_supplement_requests") in row[-1]
        assert not official_files.non_vietnamese_cells(
            result.folder / quarterly.RECONCILIATION_XLSX
        )
        summary = book(result, quarterly.RECONCILIATION_XLSX).worksheets[0]
        assert summary.title == reconciliation.SUMMARY_SHEET
        text = " ".join(str(c) for r in summary.iter_rows(values_only=True) for c in r if c)
        assert "Tệp dữ liệu" in text and "15 chênh lệch lớn nhất" in text
        assert "Lệch ngoài sai số" in text
    finally:
        conn.execute("drop table marts.mart_qd766_reconciliation")
        conn.commit()


def test_reexport_gives_identical_checksums(export_settings, q1):
    again = quarterly.export_quarter(Q1, export_settings)
    assert again.manifest["files"] == q1.manifest["files"]
    assert again.manifest["content_sha256"] == q1.manifest["content_sha256"]
    names = {f["name"] for f in again.manifest["files"]}
    assert "manifest.json" not in names and len(names) == 18
    manifest = json.loads((again.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == "2024Q1" and manifest["kind"] == "calendar"
    assert manifest["row_counts"]["form06_theo_don_vi"] == 8
    assert not manifest["source_freshness"]["stale"]


def test_stale_source_is_flagged_everywhere(export_settings):
    result = quarterly.export_quarter(Quarter.parse("2024Q2"), export_settings)
    assert result.stale and result.manifest["source_freshness"]["stale"]
    assert result.manifest["warnings"] and "WARNING" in result.manifest["warnings"][0]
    html = (result.folder / quarterly.HTML).read_text(encoding="utf-8")
    assert 'class="warning"' in html and "CẢNH BÁO" in html
    for name in (quarterly.FORM06_XLSX, quarterly.SCORECARD_XLSX, quarterly.QUALITY_XLSX):
        ws = book(result, name).worksheets[0]
        assert any("CẢNH BÁO" in str(c) for r in ws.iter_rows(max_row=8, values_only=True)
                   for c in r if c), name  # fmt: skip


def test_html_is_offline_and_has_the_charts(q1):
    html = (q1.folder / quarterly.HTML).read_text(encoding="utf-8")
    assert not re.search(r"(https?:)?//[\w.-]+\.\w", html), "external URL in the report"
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert html.count("<svg") == 4
    for title in ("Tỷ lệ trực tuyến", "Tỷ lệ đúng hạn", "Điểm nhóm", "Tỷ lệ gắn cờ"):
        assert f"<title>{title}</title>" in html
    assert "UBND thành phố Vinh" in html  # the district, its commune rolled up into it
    # the points at stake: a column of the scorecard and a section of their own, bounded
    # components only (the sync, which no data-entry rule reaches, is not listed)
    assert html.count("<th>Điểm có thể sai lệch</th>") == 2
    section = html.split("Điểm có thể sai lệch do lỗi nhập liệu")[1].split("<h2>")[0]
    assert "Thành phần DOSSIER_HANDLING_ON_TIME" in section and "0.75" in section
    assert "Thành phần DOSSIER_SYNC" not in section
    # the province's own points at stake come first, broken down by component
    assert section.index("<td>Toàn tỉnh</td>") < section.index("<td>Sở Tư pháp</td>")
    # the reconciliation's causes (read from their mart) and restatements, in Vietnamese
    for title in ("Nguyên nhân chênh lệch điểm 766 theo chỉ số (cả quý)",
                  "Quy tắc tính (Cổng tính đúng hạn theo tháng tiếp nhận)",
                  "Hồ sơ chưa đồng bộ lên Cổng (hoặc chỉ có trên Cổng)",
                  "Số hồ sơ chưa đồng bộ lên Cổng",
                  "Chênh lệch = điểm tính lại − điểm Cổng DVCQG chấm ngày công bố",
                  "Số liệu 766 đã điều chỉnh sau khi xuất/công bố"):  # fmt: skip
        assert title in html, title


def test_the_causes_are_the_marts_in_the_reconciliation_and_the_scorecard(q1):
    """The export reads mart_qd766_reconciliation_causes as BI does: the quarter's
    differences largest first, the components' sums over every cell of the quarter; the
    scorecard prints them on a sheet of its own."""
    with open(q1.folder / "qd766_nguyen_nhan_lech.csv", encoding="utf-8-sig") as f:
        detail = list(csv.reader(f))
    rows = [r for r in detail[1:] if r and r[0].startswith("H40")]
    assert "dossiers_not_synced" in detail[0]  # the dossiers behind the causes (CSV: keys)
    assert [(r[0], r[3]) for r in rows] == [("H40.12", "DOSSIER_HANDLING_ON_TIME"),
                                          ("H40.41", "DOSSIER_SYNC")]  # fmt: skip
    with open(q1.folder / "qd766_nguyen_nhan_tong_hop.csv", encoding="utf-8-sig") as f:
        summary = {r[0]: r for r in csv.reader(f) if r and r[0].isupper()}
    on_time = summary["DOSSIER_HANDLING_ON_TIME"]
    # cells differing, sum of |difference|, the counting rule's share
    assert [float(v) for v in on_time[2:5]] == [1, 1.5, 1], on_time
    assert "ONLINE_DOSSIER_RATE" not in summary  # no portal rule: not broken down
    sheet = book(q1, quarterly.SCORECARD_XLSX)["Nguyên nhân chênh lệch"]
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert "Quy tắc tính (Cổng tính đúng hạn theo tháng tiếp nhận)" in values
    assert "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG" in values


def test_cli_prints_the_folder_and_files(export_settings, monkeypatch):
    monkeypatch.setattr(quarterly, "load_settings", lambda: export_settings)
    out = CliRunner().invoke(export_app, ["quarter", "--quarter", "2024Q1", "--legal-period"])
    assert out.exit_code == 0, out.output
    assert "2024Q1-legal" in out.output and "bieu_06_vpcp_kstt.xlsx" in out.output
    bad = CliRunner().invoke(export_app, ["quarter", "--quarter", "2024-1"])
    assert bad.exit_code != 0


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed")
def test_libreoffice_converts_every_workbook_to_pdf(q1, tmp_path):
    books = sorted(q1.folder.glob("*.xlsx"))
    run = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, books)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    for path in books:
        pdf = tmp_path / f"{path.stem}.pdf"
        assert pdf.exists() and pdf.stat().st_size > 1000, path.name


BROWSER = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


@pytest.mark.skipif(not BROWSER, reason="no headless Chromium installed")
def test_html_renders_in_a_headless_browser(q1, tmp_path):
    run = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         (q1.folder / quarterly.HTML).as_uri()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("<svg") == 4 and "Biểu 06/VPCP/KSTT" in run.stdout


def test_a_source_never_loaded_makes_the_quarter_stale(export_settings):
    import psycopg

    from cchc.exports.freshness import read_freshness

    with psycopg.connect(export_settings.warehouse_url) as conn:
        conn.execute("delete from audit.watermarks where source = 'ioffice'")
        freshness = read_freshness(conn, Quarter.parse("2024Q1"), "H40")
        conn.rollback()  # leave the shared fixture as it was
    assert freshness.stale
    assert {"ioffice.outgoing_documents", "ioffice.incoming_documents"} <= set(freshness.lagging)
    assert "ioffice.outgoing_documents" in freshness.warning_en()


def test_another_provinces_rows_never_reach_this_provinces_files(export_settings, conn, q1):
    """Quảng Trị's rows in the same marts (same agency codes, other figures): Nghệ An's
    export is unchanged, byte for byte, and Quảng Trị's own export holds only its rows."""
    import dataclasses

    for table in ("mart_form06_quarterly", "mart_qd766_scores", "fct_dossiers"):
        columns = [
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'marts'"
                " and table_name = %s and column_name <> 'province_code' order by ordinal_position",
                [table],
            )
        ]
        listed = ", ".join(columns)
        conn.execute(
            f"insert into marts.{table} ({listed}, province_code)"
            f" select {listed.replace('dossier_code', 'dossier_code || $$-QT$$')}, 'H45'"
            f" from marts.{table} where province_code = 'H40'"
        )
    conn.execute("update marts.mart_form06_quarterly set received_total = received_total * 7"
                 " where province_code = 'H45'")  # fmt: skip
    # its sources loaded as far as ours (a province with nothing loaded is refused)
    conn.execute("insert into audit.watermarks (province_code, source, entity, loaded_until,"
                 " last_batch_id) select 'H45', source, entity, loaded_until, last_batch_id"
                 " from audit.watermarks where province_code = 'H40'")  # fmt: skip
    conn.commit()
    try:
        again = quarterly.export_quarter(Q1, export_settings)
        quang_tri = quarterly.export_quarter(
            Q1, dataclasses.replace(export_settings, province_code="H45")
        )
    finally:
        for table in ("marts.mart_form06_quarterly", "marts.mart_qd766_scores",
                      "marts.fct_dossiers", "audit.watermarks"):  # fmt: skip
            conn.execute(f"delete from {table} where province_code = 'H45'")
        conn.commit()
    assert again.manifest["content_sha256"] == q1.manifest["content_sha256"]
    assert quang_tri.folder.parent.parent.name == "H45" and q1.folder.parent.parent.name == "H40"
    summary = book(quang_tri, quarterly.FORM06_XLSX)[form06.SUMMARY_SHEET]
    ours = book(q1, quarterly.FORM06_XLSX)[form06.SUMMARY_SHEET]
    first = form06.FIRST_DATA_ROW + 1
    totals = [r for r in rows_below(summary, first, 13) if isinstance(r[2], (int, float))]
    our_totals = [r for r in rows_below(ours, first, 13) if isinstance(r[2], (int, float))]
    assert [r[2] for r in totals] == [r[2] * 7 for r in our_totals]
