"""Working-day arithmetic for statutory deadlines: weekends and Vietnamese public holidays
(Tết included) do not count."""

from __future__ import annotations

from datetime import date, timedelta

import holidays


class WorkingCalendar:
    def __init__(self) -> None:
        # Years are filled in lazily on lookup, so any range works.
        self._holidays = holidays.country_holidays("VN")
        # Memoised: every dossier asks the same few questions, and the generator is hot here.
        self._working: dict[date, bool] = {}
        self._added: dict[tuple[date, int], date] = {}

    def is_holiday(self, day: date) -> bool:
        return day in self._holidays

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = day.weekday() < 5 and day not in self._holidays
        return known

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start`; `start` itself never counts, so a
        dossier received on a Saturday or a holiday starts counting on the next working day."""
        key = (start, days)
        if key in self._added:
            return self._added[key]
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        self._added[key] = current
        return current

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how far `end` lies after `start`."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count
