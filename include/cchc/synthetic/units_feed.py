"""The administrative-units feed: one record per unit code, a new version at each event
(its creation, and at the 2025 reform its end or its new remit)."""

from __future__ import annotations

from datetime import datetime

from .timeutil import stamp
from .units import EARLIEST, OPEN_END, build_units
from .versions import Version


def _day(d) -> str | None:
    return None if d in (OPEN_END,) else stamp(datetime.combine(d, datetime.min.time()))


def unit_versions(horizon: datetime, province: str) -> list[Version]:
    versions: list[Version] = []
    for unit in build_units(province):
        effective = datetime.combine(max(unit.valid_from, EARLIEST), datetime.min.time())
        if effective >= horizon:
            continue
        payload = {
            "MaDonVi": unit.code,
            "TenDonVi": unit.name,
            "KyHieu": unit.sign,
            "LoaiDonVi": unit.kind,  # department | district | commune
            "CapDonVi": unit.level,  # 1 province, 2 district, 3 commune
            "MaDonViCha": unit.parent,
            "LinhVuc": list(unit.sectors),
            "NgayHieuLuc": _day(unit.valid_from),
            "NgayHetHieuLuc": None,
            "MaDonViMoi": None,
            "NgayCapNhat": stamp(effective),
        }
        versions.append(Version(effective, payload))
        ended = datetime.combine(unit.valid_to, datetime.min.time())
        if unit.valid_to != OPEN_END and ended < horizon and unit.successor != unit.code:
            # Its end is announced the day before the reform takes effect.
            versions.append(
                Version(
                    ended,
                    {**payload, "NgayHetHieuLuc": _day(unit.valid_to),
                     "MaDonViMoi": unit.successor, "NgayCapNhat": stamp(ended)},
                )
            )  # fmt: skip
    return versions
