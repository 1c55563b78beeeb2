"""Source freshness: is every source loaded past the quarter's end?

`audit.watermarks` holds, per source entity, the end of the last window loaded. A quarter
is fresh when the oldest watermark is at or after local midnight following its last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from cchc.config import LOCAL_TZ
from cchc.exports.periods import Quarter
from cchc.extract.freshness import read_watermarks

DRAFT_MARK = "BẢN NHÁP"
DRAFT_WARNING_VI = (
    "BẢN NHÁP: kỳ báo cáo chưa kết thúc hoặc chưa có dữ liệu; số liệu không dùng để báo cáo"
    " chính thức."
)
DRAFT_WARNING_EN = "DRAFT: the period has not ended or has no data; not for official reporting."


@dataclass(frozen=True)
class Freshness:
    quarter_closes_at: datetime
    loaded_until: datetime | None  # the oldest watermark: every source is loaded up to here
    # (source, entity, loaded_until) of every registered entity; None: never loaded
    entities: tuple[tuple[str, str, datetime | None], ...]
    # A draft export (a quarter not ended or without data, forced): every banner says so.
    draft: bool = False

    @property
    def stale(self) -> bool:
        return self.loaded_until is None or self.loaded_until < self.quarter_closes_at

    @property
    def lagging(self) -> list[str]:
        return [
            f"{s}.{e}"
            for s, e, until in self.entities
            if until is None or until < self.quarter_closes_at
        ]

    def warning_vi(self) -> str | None:
        warning = self._stale_warning_vi()
        if self.draft:
            return " ".join(t for t in (DRAFT_WARNING_VI, warning) if t)
        return warning

    def _stale_warning_vi(self) -> str | None:
        if not self.stale:
            return None
        if self.loaded_until is None:
            return (
                "CẢNH BÁO: có nguồn dữ liệu chưa từng được nạp"
                f" ({', '.join(self.lagging)}); số liệu có thể chưa đầy đủ."
            )
        return (
            f"CẢNH BÁO: dữ liệu nguồn mới được nạp đến {local_time(self.loaded_until)}, trước khi kỳ"
            f" báo cáo kết thúc ({local_time(self.quarter_closes_at)}); số liệu có thể chưa đầy đủ."
        )

    def warning_en(self) -> str | None:
        warning = self._stale_warning_en()
        if self.draft:
            return " ".join(t for t in (DRAFT_WARNING_EN, warning) if t)
        return warning

    def _stale_warning_en(self) -> str | None:
        if not self.stale:
            return None
        if self.loaded_until is None:
            return f"WARNING: sources never loaded ({', '.join(self.lagging)}); figures may be incomplete."
        return (
            f"WARNING: sources loaded only up to {local_time(self.loaded_until)}, before the period"
            f" closed ({local_time(self.quarter_closes_at)}); figures may be incomplete"
            f" (lagging: {', '.join(self.lagging)})."
        )

    def as_of_vi(self) -> str:
        """The data horizon, under every title and in every printed page's header; a draft's
        starts with the draft mark, so no printed page of it passes for official."""
        if self.loaded_until is None:
            horizon = "Dữ liệu nguồn: chưa nạp"
        else:
            horizon = f"Dữ liệu nguồn tính đến {local_time(self.loaded_until)}"
        return f"{DRAFT_MARK} — {horizon}" if self.draft else horizon

    def to_json(self) -> dict:
        return {
            "stale": self.stale,
            "draft": self.draft,
            "period_closes_at": self.quarter_closes_at.isoformat(),
            "loaded_until": self.loaded_until.isoformat() if self.loaded_until else None,
            "warning": self.warning_en(),
            "watermarks": [
                {"source": s, "entity": e, "loaded_until": until.isoformat() if until else None}
                for s, e, until in self.entities
            ],
        }


def local_time(moment: datetime) -> str:
    return f"{moment.astimezone(ZoneInfo(LOCAL_TZ)):%H:%M %d/%m/%Y}"


def read_freshness(conn: psycopg.Connection, quarter: Quarter, province: str) -> Freshness:
    watermarks = read_watermarks(conn, province)
    entities = tuple((s, e, until) for (s, e), until in sorted(watermarks.items()))
    loaded = [until for *_, until in entities]
    oldest = None if None in loaded else min(loaded, default=None)
    return Freshness(quarter.closes_at, oldest, entities)
