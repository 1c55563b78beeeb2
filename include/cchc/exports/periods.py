"""Reporting quarters: calendar quarters (Decision 766) and legal reporting quarters.

The legal reporting quarter (Decree 09/2019) runs from the 15th of the month before the
quarter to the 14th of its last month: legal 2024Q1 = 2023-12-15 … 2024-03-14.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cchc.config import LOCAL_TZ

KINDS = ("calendar", "legal")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_LABEL = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int
    kind: str = "calendar"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"period kind must be one of {KINDS}, got {self.kind!r}")
        if self.number not in ROMAN:
            raise ValueError(f"quarter must be 1–4, got {self.number}")

    @classmethod
    def parse(cls, label: str, *, legal: bool = False) -> Quarter:
        match = _LABEL.match(label.strip())
        if not match:
            raise ValueError(f"quarter must look like 2024Q1, got {label!r}")
        return cls(int(match[1]), int(match[2]), "legal" if legal else "calendar")

    @classmethod
    def containing(cls, day: date, kind: str = "calendar") -> Quarter:
        if kind == "legal" and day.day >= 15:
            # From the 15th on, a day belongs to the next month's reporting month.
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        return cls(day.year, (day.month - 1) // 3 + 1, kind)

    @classmethod
    def closed_by(cls, moment: datetime, kind: str = "calendar") -> Quarter:
        """The quarter whose last day is the local day before `moment` (a run's interval end)."""
        local = moment.astimezone(ZoneInfo(LOCAL_TZ))
        return cls.containing(local.date() - timedelta(days=1), kind)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def is_legal(self) -> bool:
        return self.kind == "legal"

    @property
    def folder_name(self) -> str:
        return f"{self.label}-legal" if self.is_legal else self.label

    @property
    def calendar_start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def start(self) -> date:
        if self.is_legal:
            before = self.calendar_start - timedelta(days=1)
            return before.replace(day=15)
        return self.calendar_start

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        next_start = self.next().calendar_start
        if self.is_legal:
            return (next_start - timedelta(days=1)).replace(day=14)
        return next_start - timedelta(days=1)

    @property
    def closes_at(self) -> datetime:
        """Local midnight after the last day: data must be loaded up to here."""
        return datetime.combine(self.end + timedelta(days=1), time(), ZoneInfo(LOCAL_TZ))

    def as_calendar(self) -> Quarter:
        return Quarter(self.year, self.number, "calendar")

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1, self.kind)
        return Quarter(self.year, self.number + 1, self.kind)

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4, self.kind)
        return Quarter(self.year, self.number - 1, self.kind)

    def title_vi(self) -> str:
        """`Quý I năm 2024 (từ ngày 01/01/2024 đến ngày 31/03/2024)`, as the form states it."""
        kind = " (kỳ báo cáo theo Nghị định 09/2019/NĐ-CP)" if self.is_legal else ""
        return (
            f"Quý {ROMAN[self.number]} năm {self.year}{kind}, "
            f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"
        )

    def title_en(self) -> str:
        kind = "legal reporting quarter" if self.is_legal else "calendar quarter"
        return f"{self.label} ({kind}, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})"
