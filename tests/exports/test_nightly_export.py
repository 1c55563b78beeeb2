"""The nightly workbook is as of its night: named for the night's own date, its horizon in the
title, and never rewritten with later data."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest

from cchc import warehouse
from cchc.exports.progress import COLUMNS, NightNotReproducible, export_progress, night_of
from cchc.extract.entities import ENTITIES
from tests.conftest import settings_using

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_HORIZON = datetime(2024, 4, 2, 1, tzinfo=TZ)  # the night of 1 April
SECOND_HORIZON = datetime(2024, 4, 3, 1, tzinfo=TZ)


def _load(conn, until: datetime, received: int) -> None:
    conn.execute("delete from marts.mart_dossier_progress_monthly")
    for code in ("H40.12", "H40.12.99"):  # the unit and a misspelling of it
        conn.execute(
            "insert into marts.mart_dossier_progress_monthly values"
            " ('H40', %s, 'Sở Tư pháp', '2024-04-01', %s, %s, 0, 0, 0, 0, 0, 0, 0)",
            [code, received, received],
        )
    conn.execute("delete from audit.watermarks")
    for e in ENTITIES:
        conn.execute(
            "insert into audit.watermarks values ('H40', %s, %s, %s, 'b')",
            [e.source, e.name, until],
        )


@pytest.fixture
def nightly(settings, make_database, tmp_path):
    pg = make_database("nightly_export")
    columns = ", ".join(f"{c} {'date' if c == 'month_start' else 'text' if i < 2 else 'numeric'}"
                        for i, (c, *_) in enumerate(COLUMNS))  # fmt: skip
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute("create schema marts; create schema audit")
        conn.execute(
            f"create table marts.mart_dossier_progress_monthly (province_code text, {columns})"
        )
        conn.execute("""create table marts.dim_agencies (province_code text, agency_code text,
            is_known_unit boolean)""")
        conn.execute("insert into marts.dim_agencies values ('H40', 'H40.12', true),"
                     " ('H40', 'H40.12.99', false)")  # fmt: skip
        conn.execute("""create table audit.watermarks (province_code text, source text,
            entity text, loaded_until timestamptz, last_batch_id text)""")
        _load(conn, FIRST_HORIZON, 5)
    config = dataclasses.replace(settings_using(settings, pg), export_dir=tmp_path)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, config)  # the export reads as the transformer login
    return config, pg


def test_the_file_is_named_for_its_night_and_states_its_horizon(nightly):
    config, _ = nightly
    assert night_of(FIRST_HORIZON) == date(2024, 4, 1)
    path = export_progress(FIRST_HORIZON, config)
    assert path.parent.name == "2024-04-01"
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert "ĐÊM 01/04/2024, SỐ LIỆU ĐẾN 01:00 NGÀY 02/04/2024" in sheet["A1"].value
    assert sheet.cell(5, 5).value == 5  # dossiers received, as loaded that night (row 4: header)
    names = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in (5, 6)}
    assert names == {"H40.12": "Sở Tư pháp", "H40.12.99": "Mã đơn vị không hợp lệ"}


def test_a_past_night_is_refused_once_a_later_one_is_loaded(nightly):
    config, pg = nightly
    first = export_progress(FIRST_HORIZON, config)
    written = first.read_bytes()
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        _load(conn, SECOND_HORIZON, 9)  # the next night: more dossiers
    with pytest.raises(NightNotReproducible, match="2024-04-01.*kept"):
        export_progress(FIRST_HORIZON, config)
    assert first.read_bytes() == written  # that night's figures, untouched
    second = export_progress(SECOND_HORIZON, config)
    assert second.parent.name == "2024-04-02" and second != first
    assert openpyxl.load_workbook(second).worksheets[0].cell(5, 5).value == 9
