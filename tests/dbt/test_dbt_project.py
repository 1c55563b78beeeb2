"""Build the dbt project on handcrafted raw records and check the marts.

Two provinces share the warehouse, and their systems reuse keys: H45's records below use
dossier codes and a document id that H40's records use too. Every relation that carries
province_code must hold, for each province, exactly what a warehouse holding that province
alone holds (test_every_relation_keeps_the_provinces_apart). The shared warehouse is built
incrementally over two nights, the single-province ones in one full build, so the same test
proves the incremental build equal to a full refresh."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from cchc.config import PgParams
from cchc.transform.dbt import DbtRunError, NodeResult, dbt_build, run_dbt

# The raw layer's columns (docs/data-contracts.md §2) without the loader's unique index
# (cchc.extract.raw_store): the fixture loads one version twice to prove staging dedupes.
RAW_COLUMNS = """
    batch_id text not null,
    province_code text not null,
    source text not null,
    entity text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    extracted_at timestamptz not null,
    record_key text not null,
    record_updated_at timestamptz,
    payload_hash text not null,
    payload jsonb not null
"""
RAW_TABLES = (
    "onestop__dossiers", "onestop__administrative_units", "portal__dossier_syncs",
    "portal__procedures", "portal__payments", "portal__ratings", "portal__petitions",
    "portal__evaluations", "ioffice__outgoing_documents", "ioffice__incoming_documents",
)  # fmt: skip

AGENCIES = {"H40.12": "Sở Tư pháp", "H40.15": "Sở Xây dựng"}
H45_AGENCIES = {"H45.12": "Sở Tư pháp tỉnh Quảng Trị"}


def dossier(code: str, agency: str, updated: str, **fields: object) -> dict:
    """A one-stop dossier payload (HoSoDongBoDVC shape) with personal data filled in."""
    payload = {
        "MaHoSo": code,
        "MaTTHC": "1.003560.000.00.00.H40",
        "TenTTHC": "Cấp phiếu lý lịch tư pháp",
        "MaLinhVuc": "G12-TP08",
        "TenLinhVuc": "Lý lịch tư pháp",
        "CapThucHien": 1,
        "KenhThucHien": 2,
        "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": 1,
        "SoGiayToChuHoSo": "040090001234",
        "SoDienThoai": "0912345678",
        "Email": "an.nguyen@example.vn",
        "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": "040090001234"}],
        "NgayNopHoSo": None,
        "NgayTiepNhan": None,
        "NgayHenTra": None,
        "NgayKetThucXuLy": None,
        "NgayTra": None,
        "NgayTuChoi": None,
        "TrangThaiHoSo": 4,
        "DonViXuLy": agency,
        "TenDonViXuLy": {**AGENCIES, **H45_AGENCIES}[agency],
        "HoSoCoThanhPhanSoHoa": 1,
        "DuocThanhToanTrucTuyen": 0,
        "QuaTrinhXuLy": [{"NguoiXuLy": "Trần Thị Bình", "TrangThai": 1}],
        "DanhSachHoSoBoSung": [],
        "NgayCapNhat": updated,
    }
    payload.update(fields)
    return payload


def unit(code: str, name: str) -> dict:
    """A department of the unit register (CapDonVi 1), valid since 2020."""
    return {
        "MaDonVi": code, "TenDonVi": name, "KyHieu": code.split(".")[-1],
        "LoaiDonVi": "department", "CapDonVi": 1, "MaDonViCha": None, "LinhVuc": [],
        "NgayHieuLuc": "20200101000000", "NgayHetHieuLuc": None, "MaDonViMoi": None,
        "NgayCapNhat": "20200101000000",
    }  # fmt: skip


# The unit register: every agency of the dossiers below is a registered department.
UNIT_ROWS = [("2025-01-01 20:00", unit(code, name)) for code, name in AGENCIES.items()]
H45_UNIT_ROWS = [("2025-01-01 20:00", unit(code, name)) for code, name in H45_AGENCIES.items()]

SUPPLEMENT = {"NgayBoSung": "20250109090000", "NgayTiepNhanBoSung": "20250110090000"}

# (extracted_at UTC, payload): the first dossier comes in two versions, the second of them twice
# (overlapping extraction windows). Rows are stamped on the load clock when inserted (the
# loader stamps them at publish; dbt reads what was loaded after its previous run), the
# fixture's times keeping their order a millionth apart.
ONESTOP_ROWS = [
    (
        "2025-01-06 20:00",
        dossier(
            "H40.12-250105-0001",
            "H40.12",
            "20250105080000",
            TrangThaiHoSo=2,
            NgayNopHoSo="20250104200000",
            NgayTiepNhan="20250105080000",
            NgayHenTra="20250120170000",
            TenDonViXuLy="Sở Tư Pháp (tên cũ)",
        ),
    ),
    (
        "2025-01-15 20:00",
        dossier(
            "H40.12-250105-0001",
            "H40.12",
            "20250115100000",
            TrangThaiHoSo=9,
            NgayNopHoSo="20250104200000",
            NgayTiepNhan="20250105080000",
            NgayHenTra="20250120170000",
            NgayKetThucXuLy="20250115100000",
        ),
    ),
    (
        "2025-01-16 20:00",
        dossier(
            "H40.12-250105-0001",
            "H40.12",
            "20250115100000",
            TrangThaiHoSo=9,
            NgayNopHoSo="20250104200000",
            NgayTiepNhan="20250105080000",
            NgayHenTra="20250120170000",
            NgayKetThucXuLy="20250115100000",
        ),
    ),
    (  # late: handled five days after the appointment
        "2025-01-25 20:00",
        dossier(
            "H40.12-250106-0002",
            "H40.12",
            "20250125100000",
            TrangThaiHoSo=9,
            NgayTiepNhan="20250106080000",
            NgayHenTra="20250120170000",
            NgayKetThucXuLy="20250125100000",
            KenhThucHien=1,
        ),
    ),
    (  # two supplement requests: late although handled before the appointment
        "2025-01-20 20:00",
        dossier(
            "H40.12-250107-0003",
            "H40.12",
            "20250120100000",
            TrangThaiHoSo=10,
            NgayTiepNhan="20250107080000",
            NgayHenTra="20250131170000",
            NgayKetThucXuLy="20250120100000",
            NgayTra="20250121090000",
            DanhSachHoSoBoSung=[SUPPLEMENT, SUPPLEMENT],
        ),
    ),
    (  # open: on time at the end of January, overdue at the end of February
        "2025-01-20 20:00",
        dossier(
            "H40.12-250120-0004",
            "H40.12",
            "20250120080000",
            TrangThaiHoSo=4,
            NgayTiepNhan="20250120080000",
            NgayHenTra="20250210170000",
            DanhSachHoSoBoSung=[SUPPLEMENT],
        ),
    ),
    (  # handled, then returned: ends when handled
        "2025-02-18 20:00",
        dossier(
            "H40.15-250203-0001",
            "H40.15",
            "20250218090000",
            TrangThaiHoSo=10,
            NgayTiepNhan="20250203080000",
            NgayHenTra="20250220170000",
            NgayKetThucXuLy="20250217160000",
            NgayTra="20250218090000",
        ),
    ),
    (  # refused the day after receipt: ended on time
        "2025-02-06 20:00",
        dossier(
            "H40.15-250205-0002",
            "H40.15",
            "20250206090000",
            TrangThaiHoSo=3,
            NgayTiepNhan="20250205080000",
            NgayHenTra="20250225170000",
            NgayTuChoi="20250206090000",
            KenhThucHien=3,
        ),
    ),
    (  # late
        "2025-02-14 20:00",
        dossier(
            "H40.15-250210-0003",
            "H40.15",
            "20250214090000",
            TrangThaiHoSo=9,
            NgayTiepNhan="20250210080000",
            NgayHenTra="20250212170000",
            NgayKetThucXuLy="20250214090000",
        ),
    ),
    (  # registered online, never received: out of scope
        "2025-02-14 20:00",
        dossier(
            "H40.15-250211-0004",
            "H40.15",
            "20250211090000",
            TrangThaiHoSo=1,
            NgayNopHoSo="20250211090000",
        ),
    ),
]

PORTAL_PAYLOAD = {
    "MaHoSo": "H40.12-250105-0001", "MaTTHC": "1.003560.000.00.00.H40", "DonViXuLy": "H40.12",
    "KenhThucHien": 2, "TrangThaiHoSo": 9, "NgayTiepNhan": "20250105080000",
    "NgayHenTra": "20250120170000", "NgayKetThucXuLy": "20250115100000",
    "NgayDongBo": "20250115103000", "NgayCapNhat": "20250115103000",
}  # fmt: skip
IOFFICE_PAYLOAD = {
    "MaVanBan": "VB-0001", "SoKyHieu": "12/TXL-STP", "LoaiVanBan": "TXL",
    "TrichYeu": "Thư xin lỗi về việc trả kết quả quá hạn", "NgayBanHanh": "20250126090000",
    "DonViBanHanh": "H40.12", "NguoiKy": "Lê Văn Cường", "ChucVuNguoiKy": "Giám đốc",
    "DoKhan": 0, "CoChuKySo": True, "MaHoSoLienQuan": "H40.12-250106-0002",
    "NgayCapNhat": "20250126090000",
}  # fmt: skip


# Quảng Trị (H45): its one-stop system reuses three of H40's dossier codes, its I-Office the
# document id VB-0001, its portal copy a dossier code. -0003 and -0002 are late here (only
# -0003 with an apology letter); -0004 is still open at H45's own as-of, 1 March, later than
# H40's (18 February).
H45_ONESTOP_ROWS = [
    (
        "2025-01-20 20:00",
        dossier(
            "H40.12-250107-0003",
            "H45.12",
            "20250120100000",
            TrangThaiHoSo=9,
            NgayTiepNhan="20250110080000",
            NgayHenTra="20250115170000",
            NgayKetThucXuLy="20250120100000",
        ),
    ),
    (
        "2025-01-13 20:00",
        dossier(
            "H40.12-250106-0002",
            "H45.12",
            "20250113100000",
            TrangThaiHoSo=9,
            NgayTiepNhan="20250108080000",
            NgayHenTra="20250109170000",
            NgayKetThucXuLy="20250113100000",
        ),
    ),
    (
        "2025-03-01 20:00",
        dossier(
            "H40.12-250120-0004",
            "H45.12",
            "20250301090000",
            TrangThaiHoSo=4,
            NgayTiepNhan="20250203080000",
            NgayHenTra="20250320170000",
            KenhThucHien=1,
        ),
    ),
]
H45_PORTAL_PAYLOAD = {
    **PORTAL_PAYLOAD, "MaHoSo": "H40.12-250107-0003", "DonViXuLy": "H45.12",
    "NgayTiepNhan": "20250110080000", "NgayDongBo": "20250120103000",
    "NgayCapNhat": "20250120103000",
}  # fmt: skip
H45_IOFFICE_PAYLOAD = {
    **IOFFICE_PAYLOAD, "SoKyHieu": "3/TXL-STP", "DonViBanHanh": "H45.12",
    "NguoiKy": "Hoàng Văn Em", "MaHoSoLienQuan": "H40.12-250107-0003",
    "NgayBanHanh": "20250121090000", "NgayCapNhat": "20250121090000",
}  # fmt: skip


def _insert(
    conn: psycopg.Connection, table: str, key_field: str, rows: list, province: str = "H40"
) -> None:
    source, entity = table.split("__")
    for extracted, payload in rows:
        extracted_at = datetime.fromisoformat(extracted).replace(tzinfo=UTC)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        conn.execute(
            f"""
            insert into raw.{table} (batch_id, province_code, source, entity, window_start,
                window_end, extracted_at, record_key, record_updated_at, payload_hash, payload)
            values (%(batch)s, %(province)s, %(source)s, %(entity)s, %(at)s - interval '1 day',
                %(at)s, clock_timestamp() + (%(at)s - timestamptz '2025-01-01') / 1000000,
                %(key)s, to_timestamp(%(updated)s, 'YYYYMMDDHH24MISS')::timestamp
                    at time zone 'Asia/Ho_Chi_Minh',
                md5(%(text)s), %(text)s::jsonb)
            """,
            {"batch": f"{province}-{table}-{extracted}", "province": province,
             "source": source, "entity": entity,
             "at": extracted_at, "key": payload[key_field], "updated": payload["NgayCapNhat"],
             "text": text},
        )  # fmt: skip


# The main warehouse is built in two nights: H40's records updated up to FIRST_NIGHT (a full
# build), then H40's later versions and the whole of H45, a province new to the warehouse (an
# incremental build). The warehouses of each province alone are built in one full build:
# test_every_relation_keeps_the_provinces_apart also proves the incremental build equal to a
# full one.
FIRST_NIGHT = "20250210000000"


def _create_raw(pg: PgParams) -> None:
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        from cchc.warehouse import ensure_schemas

        ensure_schemas(conn)
        # the staging models hash personal data with the warehouse function the bootstrap creates
        from cchc.security.roles import bootstrap_roles

        bootstrap_roles(conn, pii_salt="dbt-test-salt-0123456789")
        for table in RAW_TABLES:
            conn.execute(f"drop table if exists raw.{table} cascade")
            conn.execute(f"create table raw.{table} ({RAW_COLUMNS})")


def _load(pg: PgParams, provinces: tuple[str, ...], night: str = "all") -> None:
    """Insert the provinces' records: all of them, or those of the first or second night."""

    def keep(rows: list) -> list:
        if night == "all":
            return rows
        first = [row for row in rows if row[1]["NgayCapNhat"] <= FIRST_NIGHT]
        return first if night == "first" else [row for row in rows if row not in first]

    with psycopg.connect(pg.url(), autocommit=True) as conn:
        if "H40" in provinces:
            _insert(conn, "onestop__administrative_units", "MaDonVi", keep(UNIT_ROWS))
            _insert(conn, "onestop__dossiers", "MaHoSo", keep(ONESTOP_ROWS))
            _insert(conn, "portal__dossier_syncs", "MaHoSo", keep([("2025-01-15 20:00", PORTAL_PAYLOAD)]))  # fmt: skip
            _insert(conn, "ioffice__outgoing_documents", "MaVanBan", keep([("2025-01-26 20:00", IOFFICE_PAYLOAD)]))  # fmt: skip
        if "H45" in provinces:
            _insert(conn, "onestop__administrative_units", "MaDonVi", H45_UNIT_ROWS, "H45")
            _insert(conn, "onestop__dossiers", "MaHoSo", H45_ONESTOP_ROWS, "H45")
            _insert(conn, "portal__dossier_syncs", "MaHoSo", [("2025-01-20 20:00", H45_PORTAL_PAYLOAD)], "H45")  # fmt: skip
            _insert(conn, "ioffice__outgoing_documents", "MaVanBan", [("2025-01-21 20:00", H45_IOFFICE_PAYLOAD)], "H45")  # fmt: skip


@pytest.fixture(scope="module")
def built(warehouse_pg: PgParams) -> tuple[list[NodeResult], float]:
    _create_raw(warehouse_pg)
    _load(warehouse_pg, ("H40",), night="first")
    dbt_build(warehouse_pg, full_refresh=True)
    _load(warehouse_pg, ("H40",), night="second")
    _load(warehouse_pg, ("H45",))
    started = time.perf_counter()
    results = dbt_build(warehouse_pg)  # incremental
    return results, time.perf_counter() - started


@pytest.fixture(scope="module")
def built_alone(make_database) -> dict[str, PgParams]:
    """Each province alone in a warehouse of its own, built in full (seeds and models only)."""
    alone = {}
    for province in ("H40", "H45"):
        pg = make_database(f"dbt_{province.lower()}_alone")
        _create_raw(pg)
        _load(pg, (province,))
        run_dbt(["build", "--full-refresh", "--resource-type", "seed", "--resource-type", "model"], pg)  # fmt: skip
        alone[province] = pg
    return alone


def _query(pg: PgParams, sql: str) -> list[dict]:
    with psycopg.connect(pg.url()) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(sql).fetchall()


def test_build_passes_every_node(built):
    results, seconds = built
    kinds = {r.resource_type for r in results}
    assert {"seed", "model", "test", "unit_test"} <= kinds
    # exposures are nodes too: dbt build reports them as no-op
    bad = [
        (r.name, r.status, r.message)
        for r in results
        if r.status not in ("success", "pass") and r.resource_type != "exposure"
    ]
    assert not bad, bad
    assert {r.name for r in results if r.resource_type == "exposure"} >= {
        "bi_cchc_indicators", "export_form06_quarterly_report",
    }  # fmt: skip
    print(f"dbt build: {len(results)} nodes in {seconds:.1f}s")


MART_COUNTS = (
    "dossiers_in_scope", "dossiers_received", "dossiers_ended", "ended_on_time", "ended_late",
    "open_on_time", "open_overdue", "on_time_ratio", "progress_score",
)  # fmt: skip
EXPECTED_MART = {
    # January: one on time, one late, one late by two supplements, one open within its date
    ("H40", "H40.12", "2025-01-01"): (4, 4, 3, 1, 2, 1, 0, Decimal("0.500000"), Decimal("10.00")),
    # February: the open dossier is past its date at the end of the month
    ("H40", "H40.12", "2025-02-01"): (1, 0, 0, 0, 0, 0, 1, Decimal("0.000000"), Decimal("0.00")),
    # no January row for H40.15 (nothing in scope); the never-received dossier is out of scope
    ("H40", "H40.15", "2025-02-01"): (3, 3, 3, 2, 1, 0, 0, Decimal("0.666667"), Decimal("13.33")),
    # H45 under the same dossier codes: two late in January, one open on time since February;
    # March is H45's own (its data reaches 1 March), H40 has no March row
    ("H45", "H45.12", "2025-01-01"): (2, 2, 2, 0, 2, 0, 0, Decimal("0.000000"), Decimal("0.00")),
    ("H45", "H45.12", "2025-02-01"): (1, 1, 0, 0, 0, 1, 0, Decimal("1.000000"), Decimal("20.00")),
    ("H45", "H45.12", "2025-03-01"): (1, 0, 0, 0, 0, 1, 0, Decimal("1.000000"), Decimal("20.00")),
}


def test_progress_mart_numbers(built, warehouse_pg):
    rows = _query(warehouse_pg, "select * from marts.mart_dossier_progress_monthly")
    got = {
        (r["province_code"], r["agency_code"], r["month_start"].isoformat()): tuple(
            r[c] for c in MART_COUNTS
        )
        for r in rows
    }
    assert got == EXPECTED_MART
    assert {r["agency_code"]: r["agency_name"] for r in rows} == {**AGENCIES, **H45_AGENCIES}


def test_staging_keeps_latest_version_and_no_personal_data(built, warehouse_pg):
    rows = _query(
        warehouse_pg,
        "select * from staging.stg_onestop__dossiers where province_code = 'H40'"
        " order by dossier_code",
    )
    assert len(rows) == len({payload["MaHoSo"] for _, payload in ONESTOP_ROWS})
    first = rows[0]
    assert first["dossier_code"] == "H40.12-250105-0001"
    assert first["status_code"] == 9
    assert first["received_at"] == datetime(2025, 1, 5, 1, 0, tzinfo=UTC)  # 08:00 local
    assert first["handling_ended_at"] == datetime(2025, 1, 15, 3, 0, tzinfo=UTC)
    assert len(first["applicant_id_hash"]) == 64
    assert first["applicant_id_hash"] != first["applicant_phone_hash"]
    values = json.dumps([list(map(str, r.values())) for r in rows], ensure_ascii=False)
    for personal in ("Nguyễn Văn An", "Trần Thị Bình", "040090001234", "0912345678", "@"):
        assert personal not in values
    documents = _query(warehouse_pg, "select * from staging.stg_ioffice__outgoing_documents")
    values = json.dumps([list(map(str, r.values())) for r in documents], ensure_ascii=False)
    assert "Lê Văn Cường" not in values and "Hoàng Văn Em" not in values


def test_dimensions_and_fact(built, warehouse_pg):
    agencies = _query(
        warehouse_pg, "select * from marts.dim_agencies order by province_code, agency_code"
    )
    assert [(a["province_code"], a["agency_code"], a["agency_name"]) for a in agencies] == [
        ("H40", code, name) for code, name in AGENCIES.items()
    ] + [("H45", code, name) for code, name in H45_AGENCIES.items()]
    facts = {
        (r["province_code"], r["dossier_code"]): r
        for r in _query(warehouse_pg, "select * from marts.fct_dossiers")
    }
    assert facts["H40", "H40.12-250107-0003"]["is_ended_late"]
    assert facts["H40", "H40.12-250107-0003"]["has_multiple_supplement_requests"]
    assert facts["H40", "H40.15-250203-0001"]["end_type"] == "handled"
    assert facts["H40", "H40.15-250205-0002"]["end_type"] == "refused"
    assert not facts["H40", "H40.12-250120-0004"]["is_ended"]
    tet = _query(
        warehouse_pg,
        "select is_holiday, is_working_day from marts.dim_date where date_day = '2025-01-29'",
    )
    assert tet == [{"is_holiday": True, "is_working_day": False}]
    comment = _query(
        warehouse_pg,
        "select col_description('marts.mart_dossier_progress_monthly'::regclass, 13) as c",
    )
    assert comment[0]["c"].startswith("Điểm Tiến độ giải quyết")


def test_the_same_keys_in_two_provinces_are_two_records(built, warehouse_pg):
    facts = {
        (r["province_code"], r["dossier_code"]): r
        for r in _query(warehouse_pg, "select * from marts.fct_dossiers")
    }
    shared = "H40.12-250120-0004"
    assert facts["H40", shared]["agency_code"] == "H40.12"
    assert facts["H45", shared]["agency_code"] == "H45.12"
    assert facts["H40", shared]["received_date"] != facts["H45", shared]["received_date"]
    # the apology letter VB-0001 of each province belongs to that province's dossier
    matches = {
        (r["province_code"], r["dossier_code"]): r
        for r in _query(warehouse_pg, "select * from intermediate.int_dossier_matches")
    }
    with_apology = {key for key, r in matches.items() if r["has_apology_letter"]}
    assert with_apology == {("H40", "H40.12-250106-0002"), ("H45", "H40.12-250107-0003")}
    synced = {key for key, r in matches.items() if r["is_synced"]}
    assert synced == {("H40", "H40.12-250105-0001"), ("H45", "H40.12-250107-0003")}
    documents = _query(
        warehouse_pg,
        "select province_code, agency_code, is_apology_for_late_dossier from marts.fct_documents"
        " where document_id = 'VB-0001' order by province_code",
    )
    assert [(d["province_code"], d["agency_code"]) for d in documents] == [
        ("H40", "H40.12"), ("H45", "H45.12"),
    ]  # fmt: skip
    assert all(d["is_apology_for_late_dossier"] for d in documents)


def test_province_totals_are_each_provinces_own(built, warehouse_pg):
    rows = _query(
        warehouse_pg,
        "select * from marts.mart_cchc_indicators where period_label = '2025Q1'"
        " and scope_kind in ('agency', 'province')",
    )
    totals: dict[str, Counter] = defaultdict(Counter)
    provinces = {}
    for row in rows:
        counts = {c: row[c] for c in ("dossiers_received", "ended_late", "late_with_apology",
                                       "synced_dossiers", "outgoing_documents")}  # fmt: skip
        if row["scope_kind"] == "agency":
            totals[row["province_code"]].update(counts)
        else:
            assert row["scope_code"] == row["province_code"]
            provinces[row["province_code"]] = counts
    assert provinces == {province: dict(counts) for province, counts in totals.items()}
    assert provinces["H40"] == {"dossiers_received": 7, "ended_late": 3, "late_with_apology": 1,
                                "synced_dossiers": 1, "outgoing_documents": 1}  # fmt: skip
    assert provinces["H45"] == {"dossiers_received": 3, "ended_late": 2, "late_with_apology": 1,
                                "synced_dossiers": 1, "outgoing_documents": 1}  # fmt: skip


# Relations that hold national reference data, not a province's records.
NATIONAL = {"marts.dim_date", "marts.dim_channels", "marts.dim_document_types"}


def _relations_by_province(pg: PgParams, province: str) -> dict[str, list[str]]:
    """Every row of every marts / intermediate relation of one province, as sorted text."""
    with psycopg.connect(pg.url()) as conn:
        relations = [
            r[0]
            for r in conn.execute(
                """
                select table_schema || '.' || table_name from information_schema.columns
                where table_schema in ('intermediate', 'marts') and column_name = 'province_code'
                    -- the incremental models' bookkeeping, not data
                    and table_name not in ('incremental_watermarks', 'incremental_changes',
                        'incremental_load_runs', 'incremental_load_marks')
                order by 1
                """
            )
        ]
        return {
            relation: [
                r[0]
                for r in conn.execute(
                    # when a version was loaded differs between warehouses: not data
                    f"select (to_jsonb(t) - 'extracted_at')::text from {relation} as t"
                    " where province_code = %s order by 1",
                    [province],
                )
            ]
            for relation in relations
        }


def test_every_relation_keeps_the_provinces_apart(built, warehouse_pg, built_alone):
    with psycopg.connect(warehouse_pg.url()) as conn:
        relations = {
            r[0]
            for r in conn.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
                " where table_schema in ('intermediate', 'marts')"
                " and table_name not in ('incremental_watermarks', 'incremental_changes',"
                " 'incremental_load_runs', 'incremental_load_marks')"
            )
        }
    together = {p: _relations_by_province(warehouse_pg, p) for p in ("H40", "H45")}
    # every relation but the national reference data carries the province
    assert relations - set(together["H40"]) == NATIONAL
    for province, pg in built_alone.items():
        alone = _relations_by_province(pg, province)
        assert set(alone) == set(together[province])
        for relation, rows in alone.items():
            assert together[province][relation] == rows, (province, relation)
    # both provinces have rows in every mart they have data for
    for relation in ("marts.fct_dossiers", "marts.mart_cchc_indicators",
                     "marts.mart_qd766_scores", "marts.mart_form06_quarterly",
                     "marts.mart_dossier_progress_monthly", "marts.fct_documents"):  # fmt: skip
        assert together["H40"][relation] and together["H45"][relation], relation


def test_failure_names_the_failing_nodes(built, warehouse_pg):
    with psycopg.connect(warehouse_pg.url(), autocommit=True) as conn:
        # a raw table without its payload column (a missing table reads as empty)
        conn.execute("alter table raw.onestop__dossiers rename column payload to payload_hidden")
        try:
            with pytest.raises(DbtRunError) as caught:
                run_dbt(["run", "--select", "stg_onestop__dossiers"], warehouse_pg)
        finally:
            conn.execute(
                "alter table raw.onestop__dossiers rename column payload_hidden to payload"
            )
    assert [n.name for n in caught.value.failed] == ["stg_onestop__dossiers"]
    assert "stg_onestop__dossiers" in str(caught.value)


FORM06_COLUMNS = (
    "received_total", "received_online", "received_direct_or_postal", "received_carried_over",
    "resolved_total", "resolved_before_deadline", "resolved_on_deadline", "resolved_late",
    "in_progress_total", "in_progress_within_deadline", "in_progress_overdue",
)  # fmt: skip


def test_form06_mart(built, warehouse_pg):
    rows = _query(warehouse_pg, "select * from marts.mart_form06_quarterly")
    got = {
        (
            r["province_code"],
            r["period_kind"],
            r["period_label"],
            r["period_start"].isoformat(),
            r["agency_code"],
        ): tuple(r[c] for c in FORM06_COLUMNS)
        for r in rows
    }
    h40_12 = (4, 3, 1, 0, 3, 2, 0, 1, 1, 0, 1)
    h40_15 = (3, 2, 1, 0, 3, 2, 0, 1, 0, 0, 0)
    # two late, one open within its deadline at H45's as-of
    h45_12 = (3, 2, 1, 0, 2, 0, 0, 2, 1, 1, 0)
    assert got == {
        ("H40", "calendar", "2025Q1", "2025-01-01", "H40.12"): h40_12,
        ("H40", "calendar", "2025Q1", "2025-01-01", "H40.15"): h40_15,
        ("H40", "legal", "2025Q1", "2024-12-15", "H40.12"): h40_12,
        ("H40", "legal", "2025Q1", "2024-12-15", "H40.15"): h40_15,
        ("H45", "calendar", "2025Q1", "2025-01-01", "H45.12"): h45_12,
        ("H45", "legal", "2025Q1", "2024-12-15", "H45.12"): h45_12,
    }


def test_qd766_scores_follow_the_seed_rules(built, warehouse_pg):
    """Every point of the mart equals the Python rule on the same numerator and denominator."""
    from cchc.qd766.rules import load_rules, points

    rules = load_rules()
    rows = _query(warehouse_pg, "select * from marts.mart_qd766_scores")
    # every component our sources can measure; not (no data in any source): e-certified copies,
    # sync with the personal data store, procedures connected to population data
    not_measured = {
        "ELECTRONIC_CERTIFIED_COPY", "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
        "CITIZEN_DATA_CONNECTED_FORMALITY",
    }  # fmt: skip
    assert {r["component_code"] for r in rows} == {
        c.code for c in rules.components if c.code not in not_measured
    }
    for row in rows:
        component = rules[row["component_code"]]
        assert row["points"] == points(component, row["numerator"], row["denominator"]), row
        assert row["is_estimate"] == component.is_estimate
    by_key = {
        (r["province_code"], r["scope_kind"], r["scope_code"], r["period_label"],
         r["component_code"]): r
        for r in rows
    }  # fmt: skip
    # January, refined rule: D1 on time, D4 open within its working days; D2 late, D3 two supplements
    progress = by_key[("H40", "agency", "H40.12", "2025-01", "DOSSIER_HANDLING_ON_TIME")]
    assert (progress["numerator"], progress["denominator"], progress["points"]) == (
        2,
        4,
        Decimal("10.00"),
    )
    sync = by_key[("H40", "province", "H40", "2025Q1", "DOSSIER_SYNC")]
    assert (sync["numerator"], sync["denominator"], sync["points"]) == (1, 7, Decimal("0.86"))
    sync = by_key[("H45", "province", "H45", "2025Q1", "DOSSIER_SYNC")]
    assert (sync["numerator"], sync["denominator"], sync["points"]) == (1, 3, Decimal("2.00"))
    # every agency here has fewer dossiers than the minimum to be ranked: scored, marked, not
    # ranked (ranks per level and province: tests/exports/test_unregistered_codes.py)
    for key in (("H40", "agency", "H40.15"), ("H45", "agency", "H45.12")):
        row = by_key[(*key, "2025Q1", "DOSSIER_SYNC")]
        assert (row["rank_status"], row["rank_in_period"], row["unit_level"]) == (
            "below_minimum",
            None,
            1,
        )
        assert row["dossiers_received"] == 3
    province = by_key[("H40", "province", "H40", "2025Q1", "DOSSIER_SYNC")]
    assert (province["rank_status"], province["rank_in_period"]) == ("province", 1)
    comment = _query(
        warehouse_pg,
        "select obj_description('marts.mart_qd766_scores'::regclass, 'pg_class') as c",
    )
    assert comment[0]["c"].startswith("Điểm Bộ chỉ số 766")


def test_supplement_waiting_time_is_subtracted(built, warehouse_pg):
    rows = {
        r["dossier_code"]: r
        for r in _query(
            warehouse_pg,
            "select * from intermediate.int_dossier_deadlines where province_code = 'H40'",
        )
    }
    two_supplements = rows["H40.12-250107-0003"]
    assert two_supplements["supplement_wait_working_days"] == 2
    assert (
        two_supplements["net_handling_working_days"] == two_supplements["handling_working_days"] - 2
    )
    assert not two_supplements["is_ended_on_time_net"]  # more than one supplement request
    assert rows["H40.12-250105-0001"]["is_ended_on_time_net"]


def test_qd766_bounds_move_with_the_flagged_dossiers(built, warehouse_pg):
    """Flags written as the quality checks write them move the bounds of the component their
    rule reaches, the way cchc.qd766.bounds says, on the same scoring rule."""
    from cchc.qd766.bounds import EITHER, Flagged, State, component_bounds
    from cchc.qd766.rules import load_rules
    from cchc.quality.results import ensure_tables

    at = datetime(2025, 2, 1, tzinfo=UTC)
    # D2 (late) has a wrong end date: it may be on time; D1 (on time) is a copy keyed twice
    flags = [("H40.12-250106-0002", "end_before_receipt"),
             ("H40.12-250105-0001", "entered_in_two_systems")]  # fmt: skip
    with psycopg.connect(warehouse_pg.url(), autocommit=True) as conn:
        ensure_tables(conn, "H40")
        for _, rule in flags:
            conn.execute(
                "insert into dq.validation_runs (run_id, suite, rule_id, severity, element_count,"
                " unexpected_count, success, validated_at, source, entity) values ('run-b',"
                " 'onestop_dossiers', %s, 'data_entry', 7, 1, false, %s, 'onestop', 'dossiers')",
                [rule, at],
            )
        # an older run of the suite: its flags no longer count
        conn.execute(
            "insert into dq.validation_runs (run_id, suite, rule_id, severity, element_count,"
            " unexpected_count, success, validated_at, source, entity) values ('run-a',"
            " 'onestop_dossiers', 'end_before_receipt', 'data_entry', 7, 1, false, %s,"
            " 'onestop', 'dossiers')",
            [at.replace(month=1)],
        )
        conn.execute(
            "insert into dq.record_flags values ('run-a', 'onestop', 'dossiers',"
            " 'H40.12-250107-0003', 'end_before_receipt', 'data_entry', %s, 'H40')",
            [at.replace(month=1)],
        )
        conn.cursor().executemany(
            "insert into dq.record_flags values ('run-b', 'onestop', 'dossiers', %s, %s,"
            " 'data_entry', %s, 'H40')",
            [(key, rule, at) for key, rule in flags],
        )
    try:
        run_dbt(["build", "--select", "mart_qd766_bounds"], warehouse_pg)
        rows = _query(warehouse_pg, "select * from marts.mart_qd766_bounds")
    finally:
        with psycopg.connect(warehouse_pg.url(), autocommit=True) as conn:
            conn.execute("drop schema dq cascade")
        run_dbt(["run", "--select", "mart_qd766_bounds"], warehouse_pg)
    by_key = {(r["province_code"], r["scope_code"], r["period_label"], r["component_code"]): r
              for r in rows}  # fmt: skip
    # January at H40.12: D1 and D4 on time of 4; D2 may be on time (3/4), D1 may not exist (1/3)
    progress = by_key[("H40", "H40.12", "2025-01", "DOSSIER_HANDLING_ON_TIME")]
    assert (progress["numerator"], progress["denominator"], progress["points"]) == (
        2, 4, Decimal("10.00"))  # fmt: skip
    expected = component_bounds(
        load_rules()["DOSSIER_HANDLING_ON_TIME"], 2, 4,
        [Flagged(State.DENOMINATOR, EITHER), Flagged(State.IN_NUMERATOR,
                                                     frozenset({State.ABSENT}), State.ABSENT)],
    )  # fmt: skip
    assert (progress["points_low"], progress["points_high"], progress["points_estimate"]) == (
        Decimal("6.67"), Decimal("15.00"), Decimal("6.67"))  # fmt: skip
    assert (expected.low, expected.high, expected.estimate) == (
        progress["points_low"], progress["points_high"], progress["points_estimate"])  # fmt: skip
    assert progress["points_at_stake"] == Decimal("8.33") and progress["flagged_records"] == 2
    assert progress["bounds_status"] == "bounded"
    # the province's scope counts the same flagged dossiers
    assert by_key[("H40", "H40", "2025-01", "DOSSIER_HANDLING_ON_TIME")]["flagged_records"] == 2
    # the copy reaches the digitization components too; no data-entry rule reaches the sync
    assert by_key[("H40", "H40.12", "2025Q1", "SO_HOA_GIAY_TO_GIAI_QUYET")]["flagged_records"] == 1
    sync = by_key[("H40", "H40.12", "2025Q1", "DOSSIER_SYNC")]
    assert sync["bounds_status"] == "not_reached" and sync["points_at_stake"] == 0
    assert sync["points_low"] == sync["points"] == sync["points_high"]  # width 0, said so
    assert "không thể sai lệch" in sync["bounds_note"]
    # satisfaction counts the same dossiers, their place in its numerator unknown: both may
    # move it, and the bounds hold the points
    pleased = by_key[("H40", "H40.12", "2025-01", "DOSSIER_RECEIVING_SATISFACTION")]
    assert pleased["bounds_status"] == "bounded" and pleased["flagged_records"] == 2
    assert pleased["points_low"] < pleased["points"] or pleased["points"] < pleased["points_high"]
    # H45 has no flags: its bounds are its points
    h45 = by_key[("H45", "H45.12", "2025Q1", "DOSSIER_HANDLING_ON_TIME")]
    assert h45["bounds_status"] == "no_flags" and h45["points_at_stake"] == 0
