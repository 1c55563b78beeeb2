"""A misspelled agency code is a data-entry error, never a unit.

Raw records go through dbt and the quarterly export: a dossier entered under `H40.12.99` (the
name of the real Sở Tư pháp beside it) gets no score, rank or form 06 sheet of its own; it is
counted in the "mã đơn vị không hợp lệ" rows and in the province's totals. Units rank within
their level, and a unit with fewer dossiers than the minimum is marked, not ranked."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest

from cchc.exports import form06, quarterly, scorecard
from cchc.exports.periods import Quarter
from cchc.exports.workbook import DICTIONARY_SHEET
from cchc.extract.entities import ENTITIES
from cchc.transform.dbt import run_dbt
from tests.conftest import settings_using
from tests.dbt.test_dbt_project import _create_raw, _insert, dossier, unit
from tests.exports.official_files import non_vietnamese_cells

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
Q1 = Quarter.parse("2025Q1")
MISSPELLED = "H40.12.99"
# (code, name, level, kind, dossiers): two departments, two districts, the misspelled code
UNITS = [
    ("H40.12", "Sở Tư pháp", 1, "department", 12),
    ("H40.15", "Sở Xây dựng", 1, "department", 10),
    ("H40.41", "UBND thành phố Vinh", 2, "district", 11),
    ("H40.42", "UBND thị xã Cửa Lò", 2, "district", 4),  # below the minimum of 10
]
ALL_DOSSIERS = sum(u[-1] for u in UNITS) + 1


def _dossiers() -> list[tuple[str, dict]]:
    rows = []
    entered = [*((code, name, n) for code, name, _, _, n in UNITS), (MISSPELLED, "Sở Tư pháp", 1)]
    for u, (code, name, count) in enumerate(entered):
        for n in range(count):
            day = 6 + n
            late = (n + u) % (u + 2) == 0  # a different on-time share per unit
            end = f"202502{day:02d}100000" if late else f"202501{day + 1:02d}100000"
            rows.append(("2025-02-20 20:00", dossier(
                f"{code}-2501{day:02d}-{n:04d}", "H40.12", f"202502{day:02d}100000",
                DonViXuLy=code, TenDonViXuLy=name, TrangThaiHoSo=9,
                NgayNopHoSo=f"202501{day:02d}080000", NgayTiepNhan=f"202501{day:02d}090000",
                NgayHenTra=f"202501{day + 3:02d}170000", NgayKetThucXuLy=end,
            )))  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def built(make_database, settings, tmp_path_factory):
    pg = make_database("unregistered_codes")
    _create_raw(pg)
    register = []
    for code, name, level, kind, _ in UNITS:
        payload = unit(code, name)
        payload.update(CapDonVi=level, LoaiDonVi=kind)
        register.append(("2025-01-01 20:00", payload))
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        _insert(conn, "onestop__administrative_units", "MaDonVi", register)
        _insert(conn, "onestop__dossiers", "MaHoSo", _dossiers())
    run_dbt(["build", "--full-refresh", "--resource-type", "seed", "--resource-type", "model"], pg)
    with psycopg.connect(pg.url(), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("""create table if not exists audit.watermarks (province_code text,
            source text, entity text, loaded_until timestamptz, last_batch_id text)""")
        cur.executemany(
            "insert into audit.watermarks values ('H40', %s, %s, %s, 'b')",
            [(e.source, e.name, datetime(2025, 4, 2, 1, tzinfo=TZ)) for e in ENTITIES],
        )
    config = settings_using(settings, pg)
    config = dataclasses.replace(config, export_dir=tmp_path_factory.mktemp("unregistered"))
    return pg, quarterly.export_quarter(Q1, config)


def _scores(pg) -> dict[str, dict]:
    with psycopg.connect(pg.url()) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(
            "select * from marts.mart_qd766_scores where period_label = '2025Q1'"
            " and component_code = 'DOSSIER_HANDLING_ON_TIME'"
        ).fetchall()
    return {r["scope_code"]: r for r in rows}


def test_the_misspelled_code_is_no_unit_in_the_scores_mart(built):
    pg, _ = built
    scores = _scores(pg)
    bad = scores[MISSPELLED]
    assert (bad["scope_kind"], bad["rank_status"], bad["rank_in_period"]) == (
        "unregistered_code", "unregistered_code", None)  # fmt: skip
    assert bad["scope_name"] == "Mã đơn vị không hợp lệ" and bad["dossiers_received"] == 1
    # the province keeps every dossier, the misspelled one included
    assert scores["H40"]["dossiers_received"] == ALL_DOSSIERS


def test_no_mart_names_it_after_the_unit_entered_with_it(built):
    pg, _ = built
    with psycopg.connect(pg.url()) as conn:
        agency = conn.execute(
            "select agency_name, is_known_unit, name_as_entered from marts.dim_agencies"
            " where agency_code = %s",
            [MISSPELLED],
        ).fetchone()
        names = {
            name
            for (name,) in conn.execute(
                "select distinct scope_name from marts.mart_cchc_indicators where scope_code = %s"
                " union select distinct agency_name from marts.mart_form06_quarterly"
                " where agency_code = %s",
                [MISSPELLED, MISSPELLED],
            )
        }
    assert agency == ("Mã đơn vị không hợp lệ", False, "Sở Tư pháp")
    assert names == {"Mã đơn vị không hợp lệ"}


def test_units_rank_within_their_level_above_the_minimum(built):
    pg, _ = built
    scores = _scores(pg)
    departments = {scores[c]["rank_in_period"] for c in ("H40.12", "H40.15")}
    assert departments == {1, 2} or departments == {1}  # a tie shares the rank
    assert scores["H40.41"]["rank_in_period"] == 1 and scores["H40.41"]["unit_level"] == 2
    small = scores["H40.42"]
    assert (small["rank_status"], small["rank_in_period"], small["dossiers_received"]) == (
        "below_minimum", None, 4)  # fmt: skip
    assert {r["rank_status"] for c, r in scores.items() if c in ("H40.12", "H40.15", "H40.41")} == {
        "ranked"
    }


def test_the_scorecard_never_ranks_the_misspelled_code(built):
    _, export = built
    sheet = openpyxl.load_workbook(export.folder / quarterly.SCORECARD_XLSX)["Bảng điểm"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0]]
    header = next(r for r in rows if r[0] == "Mã đơn vị")
    col = {name: header.index(name) for name in ("Tên cơ quan, đơn vị", "Xếp hạng trong cấp",
                                                 "Số hồ sơ tiếp nhận", "Tổng điểm")}  # fmt: skip
    by_code = {r[0]: r for r in rows if r[0] in {u[0] for u in UNITS} | {MISSPELLED, "H40"}}
    bad = by_code[MISSPELLED]
    assert bad[col["Tên cơ quan, đơn vị"]] == scorecard.INVALID_CODE
    assert bad[col["Xếp hạng trong cấp"]] is None and bad[col["Tổng điểm"]] is None
    assert bad[col["Số hồ sơ tiếp nhận"]] == 1
    # one "Sở Tư pháp" only: the registered unit
    assert [r[0] for r in rows if r[col["Tên cơ quan, đơn vị"]] == "Sở Tư pháp"] == ["H40.12"]
    assert by_code["H40.42"][col["Xếp hạng trong cấp"]] is None
    assert by_code["H40"][col["Số hồ sơ tiếp nhận"]] == ALL_DOSSIERS
    components = {r[0] for r in openpyxl.load_workbook(
        export.folder / quarterly.SCORECARD_XLSX)["Thành phần"].iter_rows(values_only=True)}  # fmt: skip
    assert MISSPELLED not in components


def test_form06_has_no_sheet_for_it_and_counts_it_in_the_invalid_code_rows(built):
    _, export = built
    book = openpyxl.load_workbook(export.folder / quarterly.FORM06_XLSX)
    assert MISSPELLED not in book.sheetnames
    assert {u[0] for u in UNITS} <= set(book.sheetnames)
    invalid = book[form06.INVALID_SHEET]
    listed = [r for r in invalid.iter_rows(values_only=True) if r[0] == MISSPELLED]
    assert len(listed) == 1 and listed[0][2] == 1  # received: total
    assert listed[0][1] == "Sở Tư pháp"  # the name entered with it, to trace the error

    def received_total(sheet) -> int:
        row = next(r for r in sheet.iter_rows(values_only=True) if r[1] == "Tổng số")
        return row[2]

    # the province's total is every dossier; units' sheets plus the invalid code add up to it
    province = received_total(book[form06.SUMMARY_SHEET])
    units = sum(received_total(book[u[0]]) for u in UNITS)
    assert province == ALL_DOSSIERS == units + listed[0][2]


def test_its_rows_and_labels_are_vietnamese_and_print_with_the_horizon(built):
    """i18b's checks on this export's rows: invalid codes, levels, units below the minimum."""
    _, export = built
    for path in sorted(export.folder.glob("*.xlsx")):
        assert non_vietnamese_cells(path) == [], path.name
        for sheet in openpyxl.load_workbook(path).worksheets:
            if sheet.title != DICTIONARY_SHEET:
                assert "Dữ liệu nguồn tính đến" in sheet.oddHeader.right.text, sheet.title
    invalid = openpyxl.load_workbook(export.folder / quarterly.FORM06_XLSX)[form06.INVALID_SHEET]
    assert invalid.print_title_rows and invalid.page_setup.orientation == "landscape"
