"""Source freshness: how far each entity's loaded data reaches, compared with what a run needs.

Recorded per run in `audit.source_freshness`, so a stale source is visible in the warehouse
(BI, the quarterly export's warning) and not only in a failed task's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from cchc.extract.entities import ENTITIES
from cchc.extract.raw_store import ensure_raw_tables


@dataclass(frozen=True)
class Freshness:
    source: str
    entity: str
    expected_until: datetime
    loaded_until: datetime | None

    @property
    def is_fresh(self) -> bool:
        return self.loaded_until is not None and self.loaded_until >= self.expected_until

    def __str__(self) -> str:
        state = "fresh" if self.is_fresh else "STALE"
        return f"{self.source}/{self.entity}: loaded until {self.loaded_until} ({state})"


class StaleSourceError(RuntimeError):
    pass


def read_watermarks(
    conn: psycopg.Connection, province: str
) -> dict[tuple[str, str], datetime | None]:
    """How far every registered entity of `province` is loaded; None for one never loaded
    (which makes any period stale: a source that never arrived is the stalest of all)."""
    found: dict[tuple[str, str], datetime] = {}
    if conn.execute("select to_regclass('audit.watermarks')").fetchone()[0]:
        found = {
            (source, entity): until
            for source, entity, until in conn.execute(
                "select source, entity, loaded_until from audit.watermarks"
                " where province_code = %s",
                [province],
            )
        }
    return {(e.source, e.name): found.get((e.source, e.name)) for e in ENTITIES}


def record_freshness(
    conn: psycopg.Connection, run_id: str, expected_until: datetime, province: str
) -> list[Freshness]:
    """Compare every entity's watermark of `province` with `expected_until` and record it
    for `run_id`."""
    ensure_raw_tables(conn, province)
    watermarks = read_watermarks(conn, province)
    result = [
        Freshness(e.source, e.name, expected_until, watermarks[(e.source, e.name)])
        for e in ENTITIES
    ]
    with conn.transaction():
        conn.execute(
            "delete from audit.source_freshness where run_id = %s and province_code = %s",
            [run_id, province],
        )
        for f in result:
            conn.execute(
                "insert into audit.source_freshness (run_id, province_code, source, entity,"
                " expected_until, loaded_until, is_fresh) values (%s, %s, %s, %s, %s, %s, %s)",
                [run_id, province, f.source, f.entity, f.expected_until, f.loaded_until,
                 f.is_fresh],
            )  # fmt: skip
    return result
