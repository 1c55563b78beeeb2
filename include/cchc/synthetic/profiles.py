"""How each unit behaves: online share (calibrated), lateness, apologies, digitization.

Online shares of the units named in the province's letter of December 2023 (seed 003) are
exact for Q4/2023; other units get a plausible share for their kind. Shares grow a little
each quarter after that (and were lower before), as the province pushes online services.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from .units import KIND_COMMUNE, KIND_DEPARTMENT, Unit

CALIBRATION_QUARTER = (2023, 4)
# Online share (KenhThucHien = 2 among dossiers received) in Q4/2023, by unit name.
ONLINE_SHARE_Q4_2023 = {
    "UBND huyện Kỳ Sơn": 0.014,
    "UBND huyện Tương Dương": 0.058,
    "UBND huyện Quế Phong": 0.122,
    "UBND thị xã Cửa Lò": 0.1882,
    "UBND huyện Quỳ Châu": 0.203,
    "UBND huyện Tân Kỳ": 0.231,
    "Sở Lao động - Thương binh và Xã hội": 0.0332,
    "Sở Xây dựng": 0.079,
    "Sở Tài nguyên và Môi trường": 0.0838,
    "Sở Nông nghiệp và Phát triển nông thôn": 0.0914,
    "Sở Giao thông vận tải": 0.1249,
}
TYPICAL_ONLINE_SHARE = {KIND_DEPARTMENT: 0.30, "district": 0.20, KIND_COMMUNE: 0.12}
GROWTH_PER_QUARTER = 0.12  # relative
POSTAL_SHARE = 0.02  # of the dossiers not submitted online


@dataclass(frozen=True)
class Behaviour:
    online_share_q4_2023: float
    late_rate: float
    apology_rate: float  # share of late dossiers that get an apology letter
    digitized_rate: float
    saturday_service: bool


def behaviour(unit: Unit) -> Behaviour:
    rng = random.Random(f"behaviour|{unit.code}|{unit.valid_from.isoformat()}")
    online = ONLINE_SHARE_Q4_2023.get(unit.name)
    if online is None:
        online = TYPICAL_ONLINE_SHARE[unit.kind] * rng.uniform(0.5, 1.6)
    return Behaviour(
        online_share_q4_2023=online,
        late_rate=rng.uniform(0.03, 0.2),
        apology_rate=rng.uniform(0.4, 0.95),
        digitized_rate=rng.uniform(0.1, 0.7),
        saturday_service=unit.kind == KIND_DEPARTMENT and rng.random() < 0.3,
    )


def online_share(base: float, day: date) -> float:
    """Constant within a quarter, so a quarter's share is exactly the calibrated one."""
    quarters = (day.year - CALIBRATION_QUARTER[0]) * 4 + (day.month - 1) // 3 + 1
    quarters -= CALIBRATION_QUARTER[1]
    return min(0.95, max(0.2 * base, base * (1 + GROWTH_PER_QUARTER * quarters)))


class ChannelQuota:
    """Assigns channels by error diffusion per unit: after n dossiers the online count is
    within one of n × share, however small n is (independent draws would scatter)."""

    def __init__(self) -> None:
        self._carry: dict[str, float] = {}

    def channel(self, unit_code: str, share: float, rng: random.Random) -> int:
        carry = self._carry.get(unit_code, 0.5) + share
        if carry >= 1.0:
            self._carry[unit_code] = carry - 1.0
            return 2
        self._carry[unit_code] = carry
        return 3 if rng.random() < POSTAL_SHARE else 1
