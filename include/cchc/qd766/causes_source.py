"""The inputs of the cause breakdown (`causes`), read from the warehouse's raw record
versions and marts, or from a generated store (to check the synthetic portal itself)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from cchc.qd766.causes import Dossier, Scored
from cchc.qd766.portal_rule import COMPONENTS, parse, snapshot_at
from cchc.synthetic.recordstore import decode_payload

Cells = dict[tuple[str, date, str], Scored]


@dataclass
class Inputs:
    dossiers: list[Dossier]
    petitions: list[list[dict]]
    units: dict[str, dict]  # MaDonVi -> its latest register payload
    official: Cells
    published: dict[date, datetime]  # month -> when the portal's figures were taken

    def snapshot_of(self) -> Callable[[date], datetime]:
        def of(month: date) -> datetime:
            moment = snapshot_at(month)
            taken = self.published.get(month)
            return min(moment, taken) if taken is not None else moment

        return of

    def unit_on(self, code: str, day: date) -> str:
        unit = self.units.get(code)
        while unit is not None and unit.get("MaDonViMoi"):
            ended = parse(unit.get("NgayHetHieuLuc"))
            if ended is None or ended.date() >= day:
                break
            code, unit = unit["MaDonViMoi"], self.units.get(unit["MaDonViMoi"])
        return code


def _gather(rows, by: dict[str, Dossier], attr: str, key_field: str = "MaHoSo") -> None:
    for payload in rows:
        getattr(by.setdefault(payload[key_field], Dossier()), attr).append(payload)


def _sorted(versions: list[dict]) -> list[dict]:
    return sorted(versions, key=lambda p: p.get("NgayCapNhat") or "")


def _finish(by: dict[str, Dossier], petitions: dict[str, list[dict]]):
    dossiers = []
    for d in by.values():
        d.onestop, d.copies, d.ratings = _sorted(d.onestop), _sorted(d.copies), _sorted(d.ratings)
        if d.onestop or d.copies:
            dossiers.append(d)
    return dossiers, [_sorted(v) for v in petitions.values()]


# --- the portal's published figures, as its evaluation responses give them per agency ----


def official_cells(month: date, endpoint: str, body: dict) -> Cells:
    data, cells = body.get("data") or {}, {}
    if endpoint == "dvc-progress-tree":
        for child in data.get("children") or ():
            cells[(child["departmentCode"], month, "DOSSIER_HANDLING_ON_TIME")] = Scored(
                child.get("totalOnTime"), child.get("totalReceived"), _dec(child.get("score"))
            )
    for entry in data.get("evaluation") or ():
        for metric in entry.get("metrics") or ():
            if metric["code"] in COMPONENTS:
                cells[(entry["departmentCode"], month, metric["code"])] = Scored(
                    metric.get("numerator"), metric.get("denominator"), _dec(metric.get("score"))
                )
    return cells


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- from a generated store: every version the sources ever wrote ------------------------


def from_store(path: Path) -> Inputs:
    conn = sqlite3.connect(path)
    try:
        by: dict[str, Dossier] = {}
        petitions: dict[str, list[dict]] = defaultdict(list)
        units: dict[str, dict] = {}

        def versions(entity: str):
            for (blob,) in conn.execute(
                "SELECT payload FROM records WHERE entity = ? ORDER BY record_key, version_at",
                (entity,),
            ):
                yield decode_payload(blob)

        _gather(versions("dossiers"), by, "onestop")
        _gather(versions("dossier-sync"), by, "copies")
        _gather(versions("ratings"), by, "ratings")
        for p in versions("petitions"):
            petitions[p["MaPAKN"]].append(p)
        for p in versions("administrative-units"):
            units[p["MaDonVi"]] = p
        official: Cells = {}
        for endpoint, period, blob in conn.execute("SELECT * FROM evaluations"):
            official |= official_cells(date.fromisoformat(f"{period}-01"), endpoint,
                                       decode_payload(blob))  # fmt: skip
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()
    horizon = datetime.combine(date.fromisoformat(meta["end"]), datetime.min.time())
    published = {month: horizon for (_, month, _) in official}
    dossiers, petition_lists = _finish(by, petitions)
    return Inputs(dossiers, petition_lists, units, official, published)


# --- from the warehouse: the raw versions it extracted, and its marts ---------------------


# Only the fields the portal's rule reads: a quarter of a large province is hundreds of
# thousands of versions. The documents' lists are reduced to what the rule asks of them.
DOSSIER_FIELDS = """jsonb_build_object(
    'MaHoSo', payload->'MaHoSo', 'DonViXuLy', payload->'DonViXuLy',
    'NgayTiepNhan', payload->'NgayTiepNhan', 'NgayHenTra', payload->'NgayHenTra',
    'NgayKetThucXuLy', payload->'NgayKetThucXuLy', 'NgayCapNhat', payload->'NgayCapNhat',
    'KenhThucHien', payload->'KenhThucHien',
    'HoSoCoThanhPhanSoHoa', payload->'HoSoCoThanhPhanSoHoa',
    'TaiLieuNop', case when jsonb_path_exists(payload,
        '$.TaiLieuNop[*] ? (@.DuocTaiSuDung == 1 || @.DuocTaiSuDung == true)')
        then '[{"DuocTaiSuDung": 1}]'::jsonb else '[]'::jsonb end,
    'DanhSachGiayToKetQua', case when jsonb_typeof(payload->'DanhSachGiayToKetQua') = 'array'
        and jsonb_array_length(payload->'DanhSachGiayToKetQua') > 0
        then '[1]'::jsonb else '[]'::jsonb end)"""


def _raw(conn: psycopg.Connection, table: str, province: str, where: str = "true", params=(),
         fields: str = "payload"):  # fmt: skip
    rows = conn.execute(
        f"select {fields} from {table} where province_code = %s and {where}", (province, *params)
    )
    for (payload,) in rows:
        yield payload if isinstance(payload, dict) else json.loads(payload)


def from_warehouse(conn: psycopg.Connection, province: str, start: date, end: date) -> Inputs:
    """Months [start, end): the dossiers and petitions received then (a month's margin
    before, for receipt dates moved back), every version the warehouse holds of them."""
    low = f"{(start.replace(day=1) - timedelta(days=1)).replace(day=1):%Y%m}"
    high = f"{end:%Y%m}"
    received = "left(payload->>'NgayTiepNhan', 6) between %s and %s"
    by: dict[str, Dossier] = {}
    _gather(_raw(conn, "raw.onestop__dossiers", province, received, (low, high),
                 DOSSIER_FIELDS), by, "onestop")  # fmt: skip
    _gather(_raw(conn, "raw.portal__dossier_syncs", province, received, (low, high)), by,
            "copies")  # fmt: skip
    # ratings come after the receipt
    _gather(_raw(conn, "raw.portal__ratings", province,
                 "left(payload->>'NgayCapNhat', 6) >= %s", (low,)), by, "ratings")  # fmt: skip
    petitions: dict[str, list[dict]] = defaultdict(list)
    for p in _raw(conn, "raw.portal__petitions", province, received, (low, high)):
        petitions[p["MaPAKN"]].append(p)
    units: dict[str, dict] = {}
    for p in sorted(_raw(conn, "raw.onestop__administrative_units", province),
                    key=lambda p: p.get("NgayCapNhat") or ""):  # fmt: skip
        units[p["MaDonVi"]] = p
    official: Cells = {}
    published: dict[date, datetime] = {}
    for code, month, component, num, den, pts, at in conn.execute(
        "select scope_code, period_start, component_code, numerator, denominator,"
        " official_points, (published_at at time zone %s)::timestamp"
        " from marts.mart_qd766_official where province_code = %s and scope_kind = 'agency'"
        " and not is_group_total and period_start >= %s and period_start < %s",
        ("Asia/Ho_Chi_Minh", province, start, end),
    ):
        official[(code, month, component)] = Scored(num, den, pts)
        published[month] = min(at, published.get(month, at))
    dossiers, petition_lists = _finish(by, petitions)
    return Inputs(dossiers, petition_lists, units, official, published)


def ours_from_warehouse(conn: psycopg.Connection, province: str, start: date, end: date) -> Cells:
    return {
        (code, month, component): Scored(num, den, pts)
        for code, month, component, num, den, pts in conn.execute(
            "select scope_code, period_start, component_code, numerator, denominator, points"
            " from marts.mart_qd766_scores where province_code = %s and period_grain = 'month'"
            " and scope_kind in ('agency', 'unregistered_code')"
            " and period_start >= %s and period_start < %s",
            (province, start, end),
        )
    }
