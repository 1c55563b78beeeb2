"""The portal's procedure catalogue feed: one record per TTHC, written at its publication."""

from __future__ import annotations

from datetime import datetime

from .catalog import catalogue
from .timeutil import stamp
from .versions import Version


def _day(d) -> str:
    return stamp(datetime.combine(d, datetime.min.time()))


def procedure_versions(horizon: datetime, province: str) -> list[Version]:
    versions = []
    for p in catalogue(province):
        published = datetime.combine(p.published_date, datetime.min.time().replace(hour=8))
        if published >= horizon:
            continue
        versions.append(
            Version(
                published,
                {
                    "MaTTHC": p.code,
                    "TenTTHC": p.name,
                    "MaLinhVuc": p.field_code,
                    "TenLinhVuc": p.field_name,
                    "CapThucHien": p.level,
                    "ThoiHanGiaiQuyet": p.handling_days,  # working days
                    "LePhi": p.fee,
                    "MucDoDVC": p.online_level,  # toan-trinh | mot-phan | khong
                    "NgayQuyetDinhCongBo": _day(p.decision_date),
                    "NgayHieuLucCanCu": _day(p.legal_basis_effective),
                    "NgayCongKhai": _day(p.published_date),
                    "DayDuNoiDung": p.content_complete,
                    "CanCuPhapLy": f"Quyết định công bố ngày {p.decision_date:%d/%m/%Y}",
                    "NgayCapNhat": stamp(published),
                },
            )
        )
    return versions
