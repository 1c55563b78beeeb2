"""Extraction windows: the half-open [start, end) interval of source updates one batch loads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cchc.config import LOCAL_TZ

TZ = ZoneInfo(LOCAL_TZ)
SOURCE_DATE_FORMAT = "%Y%m%d%H%M%S"  # how the source systems write dates, in local time


@dataclass(frozen=True)
class Window:
    start: datetime  # aware
    end: datetime  # aware, exclusive

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.start >= self.end:
            raise ValueError(f"empty window: {self.start} >= {self.end}")

    @classmethod
    def for_interval(cls, start: datetime, end: datetime, overlap_minutes: int) -> Window:
        """The data interval of a run, widened backwards so late-arriving updates are caught."""
        return cls(start - timedelta(minutes=overlap_minutes), end)

    def source_params(self) -> dict[str, str]:
        return {"updatedFrom": to_source_date(self.start), "updatedTo": to_source_date(self.end)}

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every local calendar month the window touches."""
        first, last = (
            self.start.astimezone(TZ),
            (self.end - timedelta(microseconds=1)).astimezone(TZ),
        )
        months, year, month = [], first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    def recent_months(self, limit: int) -> list[tuple[int, int]]:
        """The month before the window and the months it touches, at most the last `limit`."""
        year, month = self.months()[0]
        before = (year - 1, 12) if month == 1 else (year, month - 1)
        return [before, *self.months()][-limit:]

    def __str__(self) -> str:
        return f"[{self.start.astimezone(TZ):%Y-%m-%d %H:%M}, {self.end.astimezone(TZ):%Y-%m-%d %H:%M})"


def windows_since(
    covered_until: datetime | None,
    start: datetime,
    end: datetime,
    overlap_minutes: int,
    chunk_hours: int,
) -> list[Window]:
    """The windows a run for [start, end) extracts, in order: the run's own window (widened by
    the overlap), preceded, when the entity's data is covered only until before `start`, by
    windows from `covered_until` in steps of at most `chunk_hours`, each widened by the
    overlap as well: the nights that were missed, caught up one by one as each would have
    run (the same windows, so a later rerun of such a night replaces its batch), each its own
    batch. A source serves each record's latest version per window, so windows as long as the
    missed nights' keep the versions they would have kept."""
    overlap = timedelta(minutes=overlap_minutes)
    own = Window(start - overlap, end)
    if covered_until is None or covered_until >= start:
        return [own]
    chunk = timedelta(hours=chunk_hours)
    bounds, moment = [], covered_until
    while moment < start:
        bounds.append(moment)
        moment += chunk
    bounds.append(start)
    return [Window(a - overlap, b) for a, b in zip(bounds, bounds[1:], strict=False)] + [own]


def to_source_date(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime(SOURCE_DATE_FORMAT)


def from_source_date(text: str) -> datetime:
    return datetime.strptime(text, SOURCE_DATE_FORMAT).replace(tzinfo=TZ)


def local_midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ)
