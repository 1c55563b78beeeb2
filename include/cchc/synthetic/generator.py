"""Generates a province's source systems over a date range into one SQLite store."""

from __future__ import annotations

import os
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from faker import Faker

from . import entities
from .catalog import AGENCIES, PROVINCE_CODE, Agency, procedures_for
from .dossiers import DossierSimulator
from .ioffice import OutgoingRegister
from .people import PeopleFactory
from .portal import sync_versions
from .recordstore import RecordWriter
from .staff import build_staff
from .timeutil import office_time, stamp
from .workdays import WorkingCalendar

STORE_NAME = "store.sqlite"
GENERATOR_VERSION = "skeleton-1"
# Scale 1.0: a large province, about 8,000 dossiers per working day.
DOSSIERS_PER_WORKING_DAY = 8_000
SATURDAY_SHARE = 0.15


def generate(out_dir: Path, start: date, end: date, seed: int = 42, scale: float = 0.02) -> Path:
    """Simulate the days [start, end) and write every record version to `out_dir/store.sqlite`.

    The simulated clock stops at `end` 00:00 local time: versions after it are not written,
    so dossiers still being handled then stay open. Same arguments, same payloads.
    """
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / STORE_NAME
    partial = out_dir / f"{STORE_NAME}.partial"
    with RecordWriter(partial) as writer:
        _ProvinceRun(writer, start, end, seed, scale).run()
        writer.set_meta(
            {
                "generator_version": GENERATOR_VERSION,
                "province_code": PROVINCE_CODE,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "seed": str(seed),
                "scale": repr(scale),
                **{f"count:{name}": str(n) for name, n in sorted(writer.counts.items())},
            }
        )
    os.replace(partial, target)
    return target


def _probabilistic_round(rng: random.Random, value: float) -> int:
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


class _ProvinceRun:
    def __init__(
        self, writer: RecordWriter, start: date, end: date, seed: int, scale: float
    ) -> None:
        self.writer = writer
        self.start, self.end = start, end
        self.seed, self.scale = seed, scale
        self.horizon = datetime.combine(end, datetime.min.time())
        self.calendar = WorkingCalendar()
        self.staff = {agency.code: build_staff(agency, seed) for agency in AGENCIES}
        self.register = OutgoingRegister(self.calendar, start)
        self.faker = Faker("vi_VN")  # one instance, re-seeded per agency-day

    def run(self) -> None:
        day = self.start
        while day < self.end:
            self._write_documents_before(datetime.combine(day, datetime.min.time()))
            for agency in AGENCIES:
                self._simulate_agency_day(agency, day)
            day += timedelta(days=1)
        self._write_documents_before(self.horizon)

    def _daily_count(self, rng: random.Random, agency: Agency, day: date) -> int:
        mean = DOSSIERS_PER_WORKING_DAY * self.scale * agency.volume_weight
        if day.weekday() == 5 and not self.calendar.is_holiday(day):
            mean = mean * SATURDAY_SHARE if agency.saturday_service else 0.0
        elif not self.calendar.is_working_day(day):
            return 0
        return _probabilistic_round(rng, mean * rng.uniform(0.8, 1.2))

    def _simulate_agency_day(self, agency: Agency, day: date) -> None:
        # Each agency-day has its own rng, so adding agencies or days leaves the others as they were.
        rng = random.Random(f"{self.seed}|{agency.code}|{day.isoformat()}")
        self.faker.seed_instance(rng.getrandbits(64))
        people = PeopleFactory(rng, self.faker)
        staff = self.staff[agency.code]
        simulator = DossierSimulator(self.calendar, agency, staff, rng, people)
        procedures = procedures_for(agency)
        saturday = day.weekday() == 5
        count = self._daily_count(rng, agency, day)
        arrivals = sorted(office_time(rng, day, morning_only=saturday) for _ in range(count))
        for number, received_at in enumerate(arrivals, start=1):
            code = f"{agency.code}-{day:%y%m%d}-{number:04d}"
            life = simulator.simulate(rng.choice(procedures), code, received_at, self.horizon)
            for version in life.versions:
                self.writer.add(entities.DOSSIERS.name, code, stamp(version.at), version.payload)
            for version in sync_versions(rng, life.versions, self.horizon):
                self.writer.add(
                    entities.DOSSIER_SYNC.name, code, stamp(version.at), version.payload
                )
            self.register.add_apology(rng, agency, staff, life)
        if self.calendar.is_working_day(day):
            self.register.add_ordinary_day(rng, agency, staff, day, self.scale)

    def _write_documents_before(self, moment: datetime) -> None:
        for version in self.register.due_before(moment):
            key = version.payload["MaVanBan"]
            self.writer.add(
                entities.OUTGOING_DOCUMENTS.name, key, stamp(version.at), version.payload
            )
