"""The monthly progress indicator computed independently, in Python, from what the
simulators served: the reference the warehouse's mart must equal."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from cchc.extract.window import TZ, from_source_date


def _at(text: str | None) -> datetime | None:
    return from_source_date(text) if text else None


def _month_start(moment: datetime) -> date:
    local = moment.astimezone(TZ)
    return date(local.year, local.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ)


def expected_progress(dossiers: list[dict]) -> dict[tuple[str, date], Counter]:
    """Latest dossier versions → counts per (agency code, month start)."""
    as_of = max(_at(d["NgayCapNhat"]) for d in dossiers)
    received_all = [_at(d.get("NgayTiepNhan")) for d in dossiers]
    month, last = _month_start(min(r for r in received_all if r)), _month_start(as_of)
    months = []
    while month <= last:
        months.append(month)
        month = _next_month(month)
    out: dict[tuple[str, date], Counter] = {}
    for d in dossiers:
        received = _at(d.get("NgayTiepNhan"))
        if received is None:
            continue
        ends = [
            t for t in (_at(d.get(f)) for f in ("NgayKetThucXuLy", "NgayTra", "NgayTuChoi")) if t
        ]
        ended = min(ends) if ends else None
        due = _at(d.get("NgayHenTra"))
        at_most_one_supplement = len(d.get("DanhSachHoSoBoSung") or []) <= 1
        for m in months:
            start, end = _midnight(m), _midnight(_next_month(m))
            if received >= end or (ended is not None and ended < start):
                continue
            row = out.setdefault((d["DonViXuLy"], m), Counter())
            row["dossiers_in_scope"] += 1
            row["dossiers_received"] += received >= start
            if ended is not None and ended < end:
                row["dossiers_ended"] += 1
                on_time = due is not None and ended <= due and at_most_one_supplement
                row["ended_on_time" if on_time else "ended_late"] += 1
            else:
                judged_at = min(end, as_of)
                on_time = due is not None and due >= judged_at and at_most_one_supplement
                row["open_on_time" if on_time else "open_overdue"] += 1
    return out
