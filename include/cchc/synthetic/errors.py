"""Injected data-entry inaccuracies, and the ground-truth manifest that lists them.

Each rule bends a record the way careless entry does (the rules of domain.md §1). What was
bent is written to `truth/errors.csv` (source, entity, record_key, rule) beside the store and
never served. `ErrorRates.clean()` gives a province with none: every late dossier gets its
apology, every dossier is synced, nothing is bent.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path

from .timeutil import parse_stamp, stamp
from .versions import Version

DOSSIER_RULES = (
    "backdated_bulk_entry",
    "completed_without_end_date",
    "end_before_receipt",
    "status_contradicts_dates",
    "appointment_not_statutory",
    "online_without_electronic_trail",
    "entered_in_two_systems",
    "digitized_without_files",
    "invalid_citizen_id",
    "invalid_phone",
    "unknown_procedure_code",
    "unknown_agency_code",
)
# Rules that arise from how the sources behave rather than from bending a record.
NATURAL_RULES = (
    "late_without_apology",
    "missing_from_portal",
    "portal_status_mismatch",
    "multiple_supplement_requests",
    "unsigned_outgoing_document",
    "incoming_document_overdue",
)
DEFAULT_DOSSIER_RATES = {
    "backdated_bulk_entry": 0.02,
    "completed_without_end_date": 0.005,
    "end_before_receipt": 0.002,
    "status_contradicts_dates": 0.004,
    "appointment_not_statutory": 0.01,
    "online_without_electronic_trail": 0.05,  # of online dossiers
    "entered_in_two_systems": 0.003,
    "digitized_without_files": 0.03,  # of digitized dossiers
    "invalid_citizen_id": 0.004,
    "invalid_phone": 0.006,
    "unknown_procedure_code": 0.002,
    "unknown_agency_code": 0.001,
}
UNKNOWN_AGENCY_SUFFIX = ".99"
BULK_ENTRY_TIME = time(16, 0)


@dataclass(frozen=True)
class ErrorRates:
    dossier: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DOSSIER_RATES))
    sync_rate: float = 0.95  # dossiers that reach the portal at all
    portal_stall_rate: float = 0.02  # synced dossiers whose last change never reaches it
    portal_only_rate: float = 0.004  # dossiers received on the portal, never in the one-stop
    multiple_supplements: bool = True  # some dossiers get a second supplement request
    apologies_follow_behaviour: bool = True  # False: every late dossier gets its letter
    unsigned_rate: float = 0.03  # outgoing documents without a digital signature
    incoming_overdue_rate: float = 0.08

    @classmethod
    def clean(cls) -> ErrorRates:
        return cls(
            dossier={rule: 0.0 for rule in DOSSIER_RULES},
            sync_rate=1.0,
            portal_stall_rate=0.0,
            portal_only_rate=0.0,
            multiple_supplements=False,
            apologies_follow_behaviour=False,
            unsigned_rate=0.0,
            incoming_overdue_rate=0.0,
        )

    def scaled(self, factor: float) -> ErrorRates:
        return replace(self, dossier={k: v * factor for k, v in self.dossier.items()})


class TruthManifest:
    """Streams `truth/errors.csv`; rows arrive in generation order (deterministic)."""

    HEADER = ("source", "entity", "record_key", "rule")

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(self.HEADER)
        self.counts: dict[str, int] = {}

    def record(self, source: str, entity: str, key: str, rule: str) -> None:
        self._csv.writerow((source, entity, key, rule))
        self.counts[rule] = self.counts.get(rule, 0) + 1

    def close(self) -> None:
        self._file.close()


def _month_end_entry(at: datetime, calendar) -> datetime:
    """The last working day of `at`'s month, late afternoon: when backlogs get entered."""
    day = (at.replace(day=28) + timedelta(days=4)).replace(day=1).date() - timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, BULK_ENTRY_TIME)


class DossierErrorInjector:
    """Bends one dossier's versions in place; returns the rules it applied."""

    def __init__(self, rates: ErrorRates, calendar, rng: random.Random, known_agencies) -> None:
        self.rates = rates.dossier
        self.cal = calendar
        self.rng = rng
        self.known_agencies = known_agencies

    def apply(self, versions: list[Version], horizon: datetime) -> tuple[list[Version], list[str]]:
        applied: list[str] = []
        if not versions:
            return versions, applied
        rng = self.rng
        first = versions[0].payload
        for rule in DOSSIER_RULES:
            rate = self.rates.get(rule, 0.0)
            if rate <= 0 or rng.random() >= rate or rule == "entered_in_two_systems":
                continue
            bent = getattr(self, f"_{rule}")(versions, first, horizon)
            if bent is not None:
                versions = bent
                applied.append(rule)
        return versions, applied

    def wants_double_entry(self) -> bool:
        rate = self.rates.get("entered_in_two_systems", 0.0)
        return rate > 0 and self.rng.random() < rate

    # Each returns the (possibly new) versions when it bent something, else None.
    def _backdated_bulk_entry(self, versions, first, horizon):
        if len(versions) < 2:
            return None
        entry = _month_end_entry(versions[1].at, self.cal)
        if entry <= versions[1].at:
            return None
        kept = versions[:1]
        for offset, version in enumerate(versions[1:]):
            at = max(version.at, entry + timedelta(seconds=offset))
            if at >= horizon:
                break
            version.payload["NgayCapNhat"] = stamp(at)
            kept.append(Version(at, version.payload))
        return kept

    def _completed_without_end_date(self, versions, first, horizon):
        done = [v for v in versions if v.payload["TrangThaiHoSo"] in (9, 10)]
        for v in done:
            v.payload["NgayKetThucXuLy"] = None
        return versions if done else None

    def _end_before_receipt(self, versions, first, horizon):
        ended = [v for v in versions if v.payload["NgayKetThucXuLy"]]
        if not ended:
            return None
        wrong = versions[0].at - timedelta(days=self.rng.randint(1, 5))
        for v in ended:
            v.payload["NgayKetThucXuLy"] = stamp(wrong)
        return versions

    def _status_contradicts_dates(self, versions, first, horizon):
        last = versions[-1].payload
        if last["TrangThaiHoSo"] not in (9, 10):
            return None
        last["TrangThaiHoSo"] = 4  # "in progress" although it carries its end date
        return versions

    def _appointment_not_statutory(self, versions, first, horizon):
        if any(v.payload["DanhSachHoSoBoSung"] for v in versions):
            return None
        shift = timedelta(days=self.rng.choice((-3, -2, -1, 2, 3, 5, 7)))
        for v in versions:
            v.payload["NgayHenTra"] = stamp(parse_stamp(v.payload["NgayHenTra"]) + shift)
        return versions

    def _online_without_electronic_trail(self, versions, first, horizon):
        if first["KenhThucHien"] != 2 or len(versions) < 2:
            return None
        for v in versions:
            v.payload["QuaTrinhXuLy"] = v.payload["QuaTrinhXuLy"][:1]
        return versions

    def _digitized_without_files(self, versions, first, horizon):
        if not first["HoSoCoThanhPhanSoHoa"]:
            return None
        bare = [
            {**c, "DuocSoHoa": 0, "DuocTaiSuDung": 0, "DuocLayTuKhoDMQG": 0, "DuongDanTepTin": None}
            for c in first["TaiLieuNop"]
        ]
        for v in versions:
            v.payload["TaiLieuNop"] = bare
        return versions

    def _invalid_citizen_id(self, versions, first, horizon):
        good = first["DinhDanhCHS"][0]["SoDinhDanh"]
        bad = self.rng.choice((good[:-1], good[:6] + "O" + good[7:], good + "0"))
        for v in versions:
            v.payload["DinhDanhCHS"] = [{"LoaiDinhDanh": 1, "SoDinhDanh": bad}]
            if v.payload["SoGiayToChuHoSo"] == good:
                v.payload["SoGiayToChuHoSo"] = bad
        return versions

    def _invalid_phone(self, versions, first, horizon):
        good = first["SoDienThoai"]
        bad = self.rng.choice((good[:-1], "01" + good[2:] + "9", good.replace("0", "o", 1)))
        for v in versions:
            v.payload["SoDienThoai"] = bad
        return versions

    def _unknown_procedure_code(self, versions, first, horizon):
        parts = first["MaTTHC"].split(".")
        bad = ".".join([parts[0], f"{int(parts[1]) % 100_000 + 900_000:06d}", *parts[2:]])
        for v in versions:
            v.payload["MaTTHC"] = bad
        return versions

    def _unknown_agency_code(self, versions, first, horizon):
        bad = first["DonViXuLy"] + UNKNOWN_AGENCY_SUFFIX
        if bad in self.known_agencies:
            return None
        for v in versions:
            v.payload["DonViXuLy"] = bad
        return versions


def double_entry(versions: list[Version], code: str) -> list[Version]:
    """The same dossier keyed in again (in the sector's own system, then imported) under
    another code: same applicant, procedure and dates, never processed further."""
    first = versions[0]
    copy = {**first.payload, "MaHoSo": code, "QuaTrinhXuLy": first.payload["QuaTrinhXuLy"][:1]}
    at = first.at + timedelta(minutes=7)
    copy["NgayCapNhat"] = stamp(at)
    return [Version(at, copy)]
