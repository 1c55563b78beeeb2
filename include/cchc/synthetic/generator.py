"""Generates a province's source systems over a date range into one SQLite store, with the
ground truth beside it: `truth/errors.csv` (injected errors) and `truth/indicators.csv`."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from faker import Faker

from cchc.qd766.portal_rule import snapshot_at

from . import entities
from .catalog import procedures_for
from .dossiers import DossierSimulator
from .errors import DossierErrorInjector, ErrorRates, TruthManifest, double_entry
from .evaluation import build_evaluations
from .indicators import IndicatorCounters
from .ioffice import OutgoingRegister, incoming_versions
from .people import PeopleFactory
from .portal import (
    payment_version,
    petition_versions,
    portal_only_copy,
    rating_version,
    status_differs,
    sync_versions,
)
from .portal_view import PortalView
from .procedures_feed import procedure_versions
from .profiles import ChannelQuota, behaviour, online_share
from .recordstore import RecordWriter
from .staff import build_staff
from .timeutil import office_time, stamp
from .units import DEFAULT_PROVINCE, Unit, build_units, province, units_on
from .units_feed import unit_versions
from .workdays import WorkingCalendar

STORE_NAME = "store.sqlite"
TRUTH_DIR = "truth"
# 4: step durations make lateness (slowness.py); the review writes a version.
# 5: a stalled sync is a status mismatch only when the portal's copy really differs.
GENERATOR_VERSION = "province-5"
# Scale 1.0: a large province, about 8,000 dossiers per working day.
DOSSIERS_PER_WORKING_DAY = 8_000
SATURDAY_SHARE = 0.15
PETITIONS_PER_DAY_AT_FULL_SCALE = 40
INCOMING_PER_DAY_AT_FULL_SCALE = 900

Progress = Callable[[int], None]  # called with the number of days just simulated


def generate(
    out_dir: Path,
    start: date,
    end: date,
    seed: int = 42,
    scale: float = 0.02,
    errors: ErrorRates | None = None,
    clean: bool = False,
    progress: Progress | None = None,
    province_code: str = DEFAULT_PROVINCE,
) -> Path:
    """Simulate the days [start, end) and write every record version to `out_dir/store.sqlite`.

    The simulated clock stops at `end` 00:00 local time: versions after it are not written,
    so dossiers still being handled then stay open. Same arguments, same payloads.
    `errors`: rates of injected data-entry errors (default: realistic); `clean=True`: none.
    `province_code`: which synthetic province (`cchc.synthetic.units.PROVINCES`).
    """
    province(province_code)  # fails early on an unknown province
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    rates = ErrorRates.clean() if clean else (errors or ErrorRates())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / STORE_NAME
    partial = out_dir / f"{STORE_NAME}.partial"
    manifest = TruthManifest(out_dir / TRUTH_DIR / "errors.csv")
    try:
        with RecordWriter(partial) as writer:
            run = _ProvinceRun(writer, manifest, province_code, start, end, seed, scale, rates)
            run.run(progress)
            portal = run.portal.overrides()
            for month in run.counters.months():
                snapshot = snapshot_at(date.fromisoformat(f"{month}-01"), run.horizon).date()
                bodies = build_evaluations(run.counters, month, province_code, portal, snapshot)
                for name, body in bodies.items():
                    writer.add_evaluation(name, month, body)
            run.counters.write_csv(out_dir / TRUTH_DIR / "indicators.csv")
            writer.set_meta(
                {
                    "generator_version": GENERATOR_VERSION,
                    "province_code": province_code,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "seed": str(seed),
                    "scale": repr(scale),
                    "clean": str(clean).lower(),
                    **{f"count:{name}": str(n) for name, n in sorted(writer.counts.items())},
                }
            )
    finally:
        manifest.close()
    os.replace(partial, target)
    return target


def _probabilistic_round(rng: random.Random, value: float) -> int:
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


class _ProvinceRun:
    def __init__(
        self,
        writer: RecordWriter,
        manifest: TruthManifest,
        province_code: str,
        start: date,
        end: date,
        seed: int,
        scale: float,
        rates: ErrorRates,
    ) -> None:
        self.writer = writer
        self.manifest = manifest
        self.province = province_code
        self.start, self.end = start, end
        self.seed, self.scale = seed, scale
        self.rates = rates
        self.horizon = datetime.combine(end, datetime.min.time())
        self.calendar = WorkingCalendar()
        self.staff: dict[tuple[str, date], object] = {}
        units = build_units(province_code)
        self.behaviours = {(u.code, u.valid_from): behaviour(u) for u in units}
        self.known_agencies = frozenset(u.code for u in units)
        self.register = OutgoingRegister(self.calendar, start, rates.unsigned_rate)
        self.quota = ChannelQuota()
        self.counters = IndicatorCounters()
        self.portal = PortalView(province_code, self.horizon)
        self.ratings: dict[str, object] = {}  # the rating of the dossier being written
        self.faker = Faker("vi_VN")  # one instance, re-seeded per agency-day

    def _staff(self, unit: Unit):
        key = (unit.code, unit.valid_from)
        if key not in self.staff:
            self.staff[key] = build_staff(unit, self.seed)
        return self.staff[key]

    def run(self, progress: Progress | None = None) -> None:
        for version in unit_versions(self.horizon, self.province):
            self._write(entities.UNITS, version.payload["MaDonVi"], version)
        for version in procedure_versions(self.horizon, self.province):
            self._write(entities.PROCEDURES, version.payload["MaTTHC"], version)
        day = self.start
        while day < self.end:
            self._write_documents_before(datetime.combine(day, datetime.min.time()))
            for unit in units_on(day, self.province):
                self._simulate_unit_day(unit, day)
            day += timedelta(days=1)
            if progress is not None:
                progress(1)
        self._write_documents_before(self.horizon)

    def _write(self, spec: entities.EntitySpec, key: str, version) -> None:
        self.writer.add(spec.name, key, stamp(version.at), version.payload)

    def _daily_count(self, rng: random.Random, unit: Unit, saturday_service: bool, day) -> int:
        mean = DOSSIERS_PER_WORKING_DAY * self.scale * unit.volume
        if day.weekday() == 5 and not self.calendar.is_holiday(day):
            mean = mean * SATURDAY_SHARE if saturday_service else 0.0
        elif not self.calendar.is_working_day(day):
            return 0
        if day.day >= 25:  # month-end rush to meet the monthly figures
            mean *= 1.15
        return _probabilistic_round(rng, mean * rng.uniform(0.8, 1.2))

    def _simulate_unit_day(self, unit: Unit, day: date) -> None:
        # Each unit-day has its own rngs, so adding units or days leaves the others as they were,
        # and the error draws never shift the data they bend.
        rng = random.Random(f"{self.seed}|{unit.code}|{day.isoformat()}")
        error_rng = random.Random(f"{self.seed}|errors|{unit.code}|{day.isoformat()}")
        conduct = self.behaviours[(unit.code, unit.valid_from)]
        count = self._daily_count(rng, unit, conduct.saturday_service, day)
        working = self.calendar.is_working_day(day)
        if count == 0 and not working:
            return
        self.faker.seed_instance(rng.getrandbits(64))
        people = PeopleFactory(rng, self.faker)
        staff = self._staff(unit)
        simulator = DossierSimulator(self.calendar, unit, conduct, staff, rng, people)
        injector = DossierErrorInjector(self.rates, self.calendar, error_rng, self.known_agencies)
        procedures, cumulative = procedures_for(unit, self.province)
        share = online_share(conduct.online_share_q4_2023, day)
        apology_rate = conduct.apology_rate if self.rates.apologies_follow_behaviour else 1.0
        max_supplements = 2 if self.rates.multiple_supplements else 1
        saturday = day.weekday() == 5
        arrivals = sorted(office_time(rng, day, morning_only=saturday) for _ in range(count))
        for number, received_at in enumerate(arrivals, start=1):
            code = f"{unit.code}-{day:%y%m%d}-{number:04d}"
            procedure = rng.choices(procedures, cum_weights=cumulative)[0]
            channel = self.quota.channel(unit.code, share, rng)
            life = simulator.simulate(
                procedure, code, received_at, self.horizon, channel, max_supplements
            )
            self._dossier_truth(unit, life, received_at, rng, staff, apology_rate)
            versions, applied = injector.apply(life.versions, self.horizon)
            for rule in applied:
                self.manifest.record("onestop", entities.DOSSIERS.name, code, rule)
            # Judged on the versions served, not the life simulated: a backdated bulk entry
            # drops the versions its month-end entry pushes past the horizon.
            if versions and len(versions[-1].payload["DanhSachHoSoBoSung"]) > 1:
                self.manifest.record(
                    "onestop", entities.DOSSIERS.name, code, "multiple_supplement_requests"
                )
            # the sync's draws depend on the versions served, which an injected error may
            # change: its own stream keeps the dossiers after it as they would be without
            sync_rng = random.Random(rng.getrandbits(64))
            self._write_dossier(sync_rng, error_rng, code, versions, received_at)
            if injector.wants_double_entry():
                twin = f"{unit.code}-{day:%y%m%d}-{9000 + number:04d}"
                self.manifest.record(
                    "onestop", entities.DOSSIERS.name, twin, "entered_in_two_systems"
                )
                # the copy is the injected error: its draws come from the errors' stream, so
                # the dossiers after it are the same as in a province generated without errors
                self._write_dossier(
                    error_rng, error_rng, twin, double_entry(versions, twin), received_at
                )
        self._portal_only(unit, day, arrivals, procedures, cumulative)
        if working:
            self.register.add_ordinary_day(rng, unit, staff, day, self.scale)
            self._petitions(rng, unit, day)
            self._incoming(rng, unit, staff, day)

    def _dossier_truth(self, unit, life, received_at, rng, staff, apology_rate) -> None:
        first = life.versions[0].payload
        self.counters.add_dossier(unit.code, life, received_at, first)
        results = [v for v in life.versions if v.payload["DanhSachGiayToKetQua"]]
        if results:
            self.counters.add(unit.code, received_at.date(), e_result=1)
        apologized = self.register.add_apology(rng, unit, staff, life, apology_rate)
        if life.late and not apologized and life.due_at is not None and life.due_at < self.horizon:
            self.manifest.record(
                "onestop", entities.DOSSIERS.name, life.code, "late_without_apology"
            )
        rating = rating_version(rng, first, life.ended_at, life.late, self.horizon)
        if rating is not None:
            self._write(entities.RATINGS, rating.payload["MaDanhGia"], rating)
            self.ratings[life.code] = rating
            dissatisfied = int(rating.payload["MucDoHaiLong"] == 3)
            self.counters.add(
                unit.code, received_at.date(), rated=1, rated_dissatisfied=dissatisfied
            )
        payment = payment_version(rng, first, received_at, self.horizon)
        if payment is not None:
            self._write(entities.PAYMENTS, payment.payload["MaGiaoDich"], payment)

    def _write_dossier(self, rng, error_rng, code, versions, received_at) -> None:
        for version in versions:
            self._write(entities.DOSSIERS, code, version)
        stall = error_rng.random() < self.rates.portal_stall_rate
        synced, never = sync_versions(rng, versions, self.horizon, self.rates.sync_rate, stall)
        for version in synced:
            self._write(entities.DOSSIER_SYNC, code, version)
        if never:
            self.manifest.record("portal", entities.DOSSIER_SYNC.name, code, "missing_from_portal")
        elif stall and status_differs(versions, synced):
            self.manifest.record(
                "portal", entities.DOSSIER_SYNC.name, code, "portal_status_mismatch"
            )
        if synced and versions:
            unit = versions[0].payload["DonViXuLy"]
            self.counters.add(unit, received_at.date(), synced=1)
        self.portal.add_dossier(versions, synced, self.ratings.pop(code, None))

    def _portal_only(self, unit: Unit, day: date, arrivals, procedures, cumulative) -> None:
        """Dossiers received on the national portal that never reach the one-stop system:
        the portal counts their copies, the one-stop system has no record of them."""
        rng = random.Random(f"{self.seed}|portal-only|{unit.code}|{day.isoformat()}")
        for number, received_at in enumerate(arrivals, start=1):
            if rng.random() >= self.rates.portal_only_rate:
                continue
            code = f"{unit.code}-{day:%y%m%d}-{8000 + number:04d}"
            procedure = rng.choices(procedures, cum_weights=cumulative)[0]
            copy = portal_only_copy(rng, code, procedure, unit, received_at, self.calendar)
            if copy.at >= self.horizon:
                continue
            self._write(entities.DOSSIER_SYNC, code, copy)
            # the data-quality rule that finds it: a portal copy with no one-stop dossier
            self.manifest.record(
                "portal", entities.DOSSIER_SYNC.name, code, "dossier_sync_dossier_exists"
            )
            self.portal.add_dossier([], [copy], None)

    def _petitions(self, rng: random.Random, unit: Unit, day: date) -> None:
        count = _probabilistic_round(
            rng, PETITIONS_PER_DAY_AT_FULL_SCALE * self.scale * unit.volume
        )
        for number in range(1, count + 1):
            versions = petition_versions(
                rng, unit.code, number, office_time(rng, day), self.calendar, self.horizon
            )
            last = versions[-1].payload
            on_time = bool(last["NgayTraLoi"]) and last["NgayTraLoi"] <= last["HanXuLy"]
            self.counters.add(unit.code, day, petitions=1, petitions_on_time=int(on_time))
            for version in versions:
                self._write(entities.PETITIONS, version.payload["MaPAKN"], version)
            self.portal.add_petition(versions)

    def _incoming(self, rng: random.Random, unit: Unit, staff, day: date) -> None:
        count = _probabilistic_round(rng, INCOMING_PER_DAY_AT_FULL_SCALE * self.scale * unit.volume)
        for number in range(1, count + 1):
            versions, overdue = incoming_versions(
                rng, unit, staff, number, day, self.calendar, self.horizon,
                self.rates.incoming_overdue_rate,
            )  # fmt: skip
            key = versions[0].payload["MaVanBanDen"]
            self.counters.add(unit.code, day, incoming_documents=1, incoming_overdue=int(overdue))
            if overdue:
                self.manifest.record(
                    "ioffice", entities.INCOMING_DOCUMENTS.name, key, "incoming_document_overdue"
                )
            for version in versions:
                self._write(entities.INCOMING_DOCUMENTS, key, version)

    def _write_documents_before(self, moment: datetime) -> None:
        for version in self.register.due_before(moment):
            payload = version.payload
            key = payload["MaVanBan"]
            self._write(entities.OUTGOING_DOCUMENTS, key, version)
            unsigned = not payload["CoChuKySo"]
            self.counters.add(
                payload["DonViBanHanh"], version.at.date(), outgoing_documents=1,
                outgoing_unsigned=int(unsigned),
            )  # fmt: skip
            if unsigned:
                self.manifest.record(
                    "ioffice", entities.OUTGOING_DOCUMENTS.name, key, "unsigned_outgoing_document"
                )
