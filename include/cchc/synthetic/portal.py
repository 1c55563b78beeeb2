"""The national portal's copy of a dossier: one sync record version per status change.

Most dossiers are synced within minutes, some the next day, a few never (the 766 index's
"synced dossiers" ratio needs the gap).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .timeutil import stamp
from .versions import Version

SYNC_RATE = 0.95
NEXT_DAY_SHARE = 0.1
# What the portal_status_mismatch rule compares between the two systems' latest versions.
STATUS_FIELDS = ("TrangThaiHoSo", "NgayHenTra", "NgayKetThucXuLy")


def sync_versions(
    rng: random.Random,
    dossier_versions: list[Version],
    horizon: datetime,
    sync_rate: float = SYNC_RATE,
    stall: bool = False,
) -> tuple[list[Version], bool]:
    """The portal's copies; `stall`: the dossier's last change never reaches the portal, so
    the two systems disagree on its status for good. Returns the copies and whether the
    dossier is never synced at all."""
    synced_draw = rng.random()
    if not dossier_versions or synced_draw >= sync_rate:
        return [], bool(dossier_versions)
    if stall and len(dossier_versions) > 1:
        dossier_versions = dossier_versions[:-1]
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
    return synced, False


def status_differs(dossier_versions: list[Version], synced: list[Version]) -> bool:
    """Whether the portal's latest copy shows another status, appointment or end date than
    the one-stop system's latest version. A stalled sync is a mismatch only then: the change
    it misses may touch none of them (the review's hand-over keeps the dossier in progress)."""
    if not dossier_versions or not synced:
        return False
    served, copy = dossier_versions[-1].payload, synced[-1].payload
    return any(served[name] != copy[name] for name in STATUS_FIELDS)


def portal_only_copy(rng: random.Random, code: str, procedure, unit, received_at: datetime,
                     calendar) -> Version:  # fmt: skip
    """The portal's copy of a dossier submitted on the national portal that the one-stop
    system never received (its receipt failed there): received, never handled."""
    due = datetime.combine(
        calendar.add_working_days(received_at.date(), procedure.handling_days), received_at.time()
    )
    synced_at = received_at + timedelta(seconds=rng.randint(20, 1800))
    return Version(
        synced_at,
        {
            "MaHoSo": code,
            "MaTTHC": procedure.code,
            "DonViXuLy": unit.code,
            "KenhThucHien": 2,
            "TrangThaiHoSo": 2,  # received
            "NgayTiepNhan": stamp(received_at),
            "NgayHenTra": stamp(due),
            "NgayKetThucXuLy": None,
            "NgayDongBo": stamp(synced_at),
            "NgayCapNhat": stamp(synced_at),
        },
    )


def payment_version(
    rng: random.Random, dossier: dict, received_at: datetime, horizon: datetime
) -> Version | None:
    """The portal's payment platform record of a fee paid online (DuocThanhToanTrucTuyen)."""
    if not dossier["DuocThanhToanTrucTuyen"] or not dossier["DanhSachLePhi"]:
        return None
    paid_at = received_at + timedelta(minutes=rng.randint(5, 600))
    if paid_at >= horizon:
        return None
    fee = dossier["DanhSachLePhi"][0]
    return Version(
        paid_at,
        {
            "MaGiaoDich": f"GD{dossier['MaHoSo'].replace('.', '').replace('-', '')}",
            "MaHoSo": dossier["MaHoSo"],
            "MaTTHC": dossier["MaTTHC"],
            "DonViXuLy": dossier["DonViXuLy"],
            "MaPhiLePhi": fee["MaPhiLePhi"],
            "SoTien": fee["Gia"],
            "KenhThanhToan": dossier["DuocThanhToanTrucTuyen"],  # 1 portal, 2 provincial portal
            "TrangThaiGiaoDich": 1,  # 1 success
            "NgayThanhToan": stamp(paid_at),
            "MaBienLai": f"BL{rng.randrange(10**9):09d}",
            "NgayCapNhat": stamp(paid_at),
        },
    )


RATING_SHARE = 0.3
RATING_WEIGHTS = (0.55, 0.38, 0.07)  # MucDoHaiLong 1 very satisfied, 2 satisfied, 3 not


def rating_version(
    rng: random.Random, dossier: dict, ended_at: datetime | None, late: bool, horizon: datetime
) -> Version | None:
    if ended_at is None or rng.random() >= RATING_SHARE:
        return None
    rated_at = ended_at + timedelta(hours=rng.randint(1, 72))
    if rated_at >= horizon:
        return None
    weights = (0.3, 0.4, 0.3) if late else RATING_WEIGHTS
    level = rng.choices((1, 2, 3), weights=weights)[0]
    return Version(
        rated_at,
        {
            "MaDanhGia": f"DG-{dossier['MaHoSo']}",
            "MaHoSo": dossier["MaHoSo"],
            "DonViXuLy": dossier["DonViXuLy"],
            "MucDoHaiLong": level,
            "YKien": "Cán bộ hướng dẫn chưa rõ" if level == 3 else None,
            "NgayDanhGia": stamp(rated_at),
            "NgayCapNhat": stamp(rated_at),
        },
    )


PETITION_TOPICS = (
    (1, "Phản ánh về thời gian giải quyết hồ sơ"),
    (1, "Kiến nghị đơn giản hóa thành phần hồ sơ"),
    (2, "Phản ánh thái độ của cán bộ tiếp nhận"),
    (3, "Kiến nghị về cơ sở hạ tầng"),
)


def petition_versions(
    rng: random.Random, unit_code: str, number: int, received_at: datetime, calendar, horizon
) -> list[Version]:
    """PAKN: received, then answered (mostly within 10 working days), with satisfaction."""
    category, subject = rng.choice(PETITION_TOPICS)
    due = calendar.add_working_days(received_at.date(), 10)
    key = f"PAKN-{unit_code}-{received_at:%y%m%d}-{number:03d}"
    base = {
        "MaPAKN": key,
        "TieuDe": subject,
        "NoiDung": f"{subject} tại {unit_code}",
        "PhanLoai": category,  # 1 procedures, 2 officials' conduct, 3 other
        "DonViXuLy": unit_code,
        "NgayTiepNhan": stamp(received_at),
        "HanXuLy": stamp(datetime.combine(due, received_at.time())),
        "TrangThai": 1,  # 1 received, 3 answered
        "NgayTraLoi": None,
        "MucDoHaiLong": None,
        "NgayCapNhat": stamp(received_at),
    }
    versions = [Version(received_at, base)]
    answered_at = received_at + timedelta(days=rng.choice((2, 4, 7, 9, 12, 20)), hours=2)
    if answered_at < horizon:
        answered = {
            **base,
            "TrangThai": 3,
            "NgayTraLoi": stamp(answered_at),
            "MucDoHaiLong": rng.choices((1, 2, 3), weights=(0.4, 0.35, 0.25))[0],
            "NgayCapNhat": stamp(answered_at),
        }
        versions.append(Version(answered_at, answered))
    return versions
