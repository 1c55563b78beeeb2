"""A dossier's static attributes: channel-dependent dates, submitted components (TaiLieuNop),
fees (DanhSachLePhi) and electronic results (DanhSachGiayToKetQua)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .catalog import Procedure

COMPONENT_NAMES = (
    "Đơn đề nghị (theo mẫu)",
    "Bản sao Căn cước công dân",
    "Giấy tờ chứng minh nơi cư trú",
    "Bản vẽ, sơ đồ kèm theo",
    "Văn bản ủy quyền (nếu có)",
    "Giấy chứng nhận đã cấp trước đây",
)
REUSE_RATE = 0.02  # of digitized components: taken from already-digitized data
NATIONAL_STORE_RATE = 0.01  # components taken from the national document store (Kho DMQG)
E_RESULT_RATE = 0.65  # handled dossiers whose result is issued electronically
FEE_FORMS = (1, 2, 3)  # HinhThucThu: 1 cash at the counter, 2 online, 3 bank transfer


def applicant_type(rng: random.Random, procedure: Procedure) -> int:
    business_share = 0.85 if procedure.sector in ("ke-hoach", "kinh-te") else 0.08
    return rng.choices((1, 2, 3, 4), weights=(0.96 - business_share, business_share, 0.02, 0.02))[0]


def submitted_at(rng: random.Random, channel: int, received_at: datetime) -> datetime:
    if channel == 2:  # online: sent any time, picked up by an officer later
        return received_at - timedelta(minutes=rng.randint(10, 40 * 60))
    if channel == 3:  # postal: in the mail for a few days
        return received_at - timedelta(days=rng.randint(1, 3), minutes=rng.randint(0, 600))
    return received_at - timedelta(minutes=rng.randint(0, 15))


def online_payment(rng: random.Random, procedure: Procedure, channel: int) -> int:
    if procedure.fee == 0 or channel != 2:
        return 0
    return rng.choices((0, 1, 2), weights=(0.5, 0.3, 0.2))[0]


def components(rng: random.Random, code: str, digitized: bool) -> list[dict]:
    """TaiLieuNop: at least one digitized component when the dossier says it has some."""
    count = rng.randint(1, 4)
    scanned_index = rng.randrange(count) if digitized else -1
    result = []
    for index in range(count):
        scanned = index == scanned_index or (digitized and rng.random() < 0.5)
        result.append(
            {
                "MaThanhPhanHoSo": f"{code}-TP{index + 1}",
                "TenThanhPhanHoSo": COMPONENT_NAMES[index % len(COMPONENT_NAMES)],
                "DuocSoHoa": int(scanned),
                "DuocTaiSuDung": int(scanned and rng.random() < REUSE_RATE),
                "DuocLayTuKhoDMQG": int(scanned and rng.random() < NATIONAL_STORE_RATE),
                "DuongDanTepTin": f"/files/{code}/tp{index + 1}.pdf" if scanned else None,
            }
        )
    return result


def fees(procedure: Procedure, paid_online: int) -> list[dict]:
    if procedure.fee == 0:
        return []
    return [
        {
            "MaPhiLePhi": f"LP-{procedure.code.split('.')[1]}",
            "TenPhiLePhi": "Lệ phí giải quyết thủ tục hành chính",
            "Gia": procedure.fee,
            "HinhThucThu": 2 if paid_online else 1,
        }
    ]


def electronic_results(rng: random.Random, code: str) -> list[dict]:
    if rng.random() >= E_RESULT_RATE:
        return []
    return [
        {
            "MaGiayToKetQua": f"{code}-KQ1",
            "TenGiayToKetQua": "Kết quả giải quyết thủ tục hành chính",
            "DuongDanTepTinKetQua": f"/results/{code}/kq1.pdf",
        }
    ]
