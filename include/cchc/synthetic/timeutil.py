"""Local-time helpers. All datetimes here are naive and mean Asia/Ho_Chi_Minh (no DST there)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

STAMP_FORMAT = "%Y%m%d%H%M%S"

MORNING = (time(7, 30), time(11, 30))
AFTERNOON = (time(13, 30), time(17, 0))
WORKDAY_END = time(17, 30)


def stamp(moment: datetime | None) -> str | None:
    """yyyyMMddHHmmss, the contract's date format; None stays None."""
    if moment is None:
        return None
    # f-string rather than strftime: this runs for every date of every version.
    m = moment
    return f"{m.year:04d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}"


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, STAMP_FORMAT)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def office_time(rng: random.Random, day: date, morning_only: bool = False) -> datetime:
    """A random moment of office hours on `day` (mornings only for Saturday counters)."""
    spans = [MORNING] if morning_only else [MORNING, AFTERNOON]
    lengths = [_seconds(b) - _seconds(a) for a, b in spans]
    offset = rng.randrange(sum(lengths))
    for (begin, _), length in zip(spans, lengths, strict=True):
        if offset < length:
            return datetime.combine(day, begin) + timedelta(seconds=offset)
        offset -= length
    raise AssertionError("unreachable")


def office_time_after(rng: random.Random, day: date, after: datetime) -> datetime:
    """An office-hours moment on `day` later than `after` (just after it when the day is over)."""
    for _ in range(4):
        moment = office_time(rng, day)
        if moment > after:
            return moment
    return after + timedelta(minutes=rng.randint(1, 30))
