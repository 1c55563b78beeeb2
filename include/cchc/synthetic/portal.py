"""The national portal's copy of a dossier: one sync record version per status change.

Most dossiers are synced within minutes, some the next day, a few never (the 766 index's
"synced dossiers" ratio needs the gap).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .dossiers import Version
from .timeutil import stamp

SYNC_RATE = 0.95
NEXT_DAY_SHARE = 0.1


def sync_versions(
    rng: random.Random, dossier_versions: list[Version], horizon: datetime
) -> list[Version]:
    if not dossier_versions or rng.random() >= SYNC_RATE:
        return []
    synced: list[Version] = []
    previous: datetime | None = None
    for version in dossier_versions:
        if rng.random() < NEXT_DAY_SHARE:  # caught up by the nightly resend
            delay = timedelta(days=1, hours=rng.randint(0, 4), minutes=rng.randint(0, 59))
            synced_at = version.at.replace(hour=1, minute=0, second=0) + delay
        else:
            synced_at = version.at + timedelta(seconds=rng.randint(20, 1800))
        if previous is not None and synced_at <= previous:
            synced_at = previous + timedelta(seconds=1)
        if synced_at >= horizon:
            break
        source = version.payload
        synced.append(
            Version(
                synced_at,
                {
                    "MaHoSo": source["MaHoSo"],
                    "MaTTHC": source["MaTTHC"],
                    "DonViXuLy": source["DonViXuLy"],
                    "KenhThucHien": source["KenhThucHien"],
                    "TrangThaiHoSo": source["TrangThaiHoSo"],
                    "NgayTiepNhan": source["NgayTiepNhan"],
                    "NgayHenTra": source["NgayHenTra"],
                    "NgayKetThucXuLy": source["NgayKetThucXuLy"],
                    "NgayDongBo": stamp(synced_at),
                    "NgayCapNhat": stamp(synced_at),
                },
            )
        )
        previous = synced_at
    return synced
