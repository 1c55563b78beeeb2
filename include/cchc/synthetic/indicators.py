"""The true indicator values the generator implies, per unit and month of receipt.

Counted from the generator's own truth (before any injected error), so the warehouse can be
checked against an independent computation. Written to `truth/indicators.csv`; the portal's
evaluation endpoints are computed from the same counters.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from .versions import DossierLife

COLUMNS = (
    "dossiers_received",
    "online_received",
    "direct_received",
    "postal_received",
    "ended_by_month_end",
    "on_time_766",  # ended on time, or open and not yet due, at the month's end
    "overdue_766",
    "ended_late",  # ended (whenever) after the appointment date
    "processing_days_sum",  # over ended_by_month_end, calendar days
    "digitized",
    "reused",
    "e_result",
    "fee_dossiers",
    "paid_online",
    "synced",
    "rated",
    "rated_dissatisfied",
    "petitions",
    "petitions_on_time",
    "incoming_documents",
    "incoming_overdue",
    "outgoing_documents",
    "outgoing_unsigned",
)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_end(day: date) -> datetime:
    first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(first_next, datetime.min.time())


class IndicatorCounters:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(COLUMNS, 0)
        )

    def add(self, unit: str, day: date, **increments: int) -> None:
        row = self.counts[(unit, month_key(day))]
        for name, value in increments.items():
            row[name] += value

    def add_dossier(self, unit: str, life: DossierLife, received_at: datetime, first: dict) -> None:
        end_of_month = month_end(received_at.date())
        ended = life.ended_at is not None and life.ended_at < end_of_month
        judged_at = life.ended_at if ended else end_of_month
        on_time = life.due_at is not None and judged_at.date() <= life.due_at.date()
        on_time = on_time and not (ended and life.late)
        self.add(
            unit,
            received_at.date(),
            dossiers_received=1,
            online_received=int(life.channel == 2),
            direct_received=int(life.channel == 1),
            postal_received=int(life.channel == 3),
            ended_by_month_end=int(ended),
            on_time_766=int(on_time),
            overdue_766=int(not on_time),
            ended_late=int(life.ended_at is not None and life.late),
            processing_days_sum=(life.ended_at - received_at).days if ended else 0,
            digitized=first["HoSoCoThanhPhanSoHoa"],
            reused=int(any(c["DuocTaiSuDung"] for c in first["TaiLieuNop"])),
            fee_dossiers=int(bool(first["DanhSachLePhi"])),
            paid_online=int(bool(first["DuocThanhToanTrucTuyen"])),
        )

    def write_csv(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(("agency_code", "month", *COLUMNS))
            for (unit, month), row in sorted(self.counts.items()):
                writer.writerow((unit, month, *(row[c] for c in COLUMNS)))

    def months(self) -> list[str]:
        return sorted({month for _, month in self.counts})
