"""Read side of the generated store: the contract's window semantics, in SQL.

A record is listed for `[updated_from, updated_to)` when its latest version before
`updated_to` was written inside the window; that version is returned, ordered by
(NgayCapNhat, key). Times are naive local time (Asia/Ho_Chi_Minh); aware datetimes are
converted.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cchc.config import LOCAL_TZ
from cchc.synthetic.entities import ENTITIES
from cchc.synthetic.recordstore import decode_payload, decompress_payload
from cchc.synthetic.timeutil import STAMP_FORMAT

_LOCAL = ZoneInfo(LOCAL_TZ)

# The latest version before :to must be inside [:from, :to): no later version before :to.
_WINDOW_WHERE = """
    FROM records AS r
    WHERE r.entity = :entity AND r.version_at >= :from AND r.version_at < :to
      AND NOT EXISTS (
          SELECT 1 FROM records AS later
          WHERE later.entity = r.entity AND later.record_key = r.record_key
            AND later.version_at > r.version_at AND later.version_at < :to)
"""


@dataclass(frozen=True)
class Page:
    items: list[dict]
    total: int


def _local_stamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(_LOCAL).replace(tzinfo=None)
    return moment.strftime(STAMP_FORMAT)


class SimStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"simulator store not found: {self.path}")

    def _connect(self) -> closing[sqlite3.Connection]:
        # A connection per call: cheap for SQLite, and safe across the server's worker threads.
        return closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True))

    @staticmethod
    def _params(entity: str, updated_from: datetime, updated_to: datetime) -> dict:
        if entity not in ENTITIES:
            raise KeyError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
        return {
            "entity": entity,
            "from": _local_stamp(updated_from),
            "to": _local_stamp(updated_to),
        }

    def page(
        self, entity: str, updated_from: datetime, updated_to: datetime, page: int, page_size: int
    ) -> Page:
        """One page (1-based) of the window, plus the window's total."""
        params = self._params(entity, updated_from, updated_to)
        with self._connect() as conn:
            total = conn.execute(f"SELECT count(*) {_WINDOW_WHERE}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT r.payload {_WINDOW_WHERE} ORDER BY r.version_at, r.record_key"
                " LIMIT :limit OFFSET :offset",
                {**params, "limit": page_size, "offset": (page - 1) * page_size},
            ).fetchall()
        return Page(items=[decode_payload(payload) for (payload,) in rows], total=total)

    def list(self, entity: str, updated_from: datetime, updated_to: datetime) -> list[dict]:
        """The whole window, in serving order: what a complete extraction must have loaded."""
        params = self._params(entity, updated_from, updated_to)
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT r.payload {_WINDOW_WHERE} ORDER BY r.version_at, r.record_key", params
            ).fetchall()
        return [decode_payload(payload) for (payload,) in rows]

    def versions(self, entity: str, record_key: str) -> list[dict]:
        """Every version of one record, oldest first (for tests and debugging)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT payload FROM records WHERE entity = ? AND record_key = ?"
                " ORDER BY version_at",
                (entity, record_key),
            ).fetchall()
        return [decode_payload(payload) for (payload,) in rows]

    def evaluation(self, endpoint: str, year: int, month: int) -> bytes | None:
        """The portal's evaluation response for one month, as JSON bytes (None: not generated)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT body FROM evaluations WHERE endpoint = ? AND period = ?",
                (endpoint, f"{year:04d}-{month:02d}"),
            ).fetchone()
        return None if row is None else decompress_payload(row[0]).encode()

    def evaluation_names(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute("SELECT DISTINCT endpoint FROM evaluations ORDER BY 1").fetchall()
        return [name for (name,) in rows]

    def meta(self) -> dict[str, str]:
        with self._connect() as conn:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
