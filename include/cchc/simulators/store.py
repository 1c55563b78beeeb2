"""Read side of the generated store: the contract's window semantics, in SQL.

A record is listed for `[updated_from, updated_to)` when its latest version before
`updated_to` was written inside the window; that version is returned, ordered by
(NgayCapNhat, key). Times are naive local time (Asia/Ho_Chi_Minh); aware datetimes are
converted.

Pages are served by keyset: the store remembers where each page it served ended (and each
window's total), so the next page starts from that (version_at, record_key) through the
window index instead of re-counting the window and skipping OFFSET rows. A client reading a
window page after page then costs time proportional to the page, not to its position in the
window. A page asked for out of order (a retry, a jump) falls back to OFFSET, same rows.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
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


# Windows and page ends remembered: enough for every entity of a few concurrent extractions.
_CACHE_ENTRIES = 4_096


@dataclass(frozen=True)
class Page:
    items: list[dict]
    total: int


def _local_stamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(_LOCAL).replace(tzinfo=None)
    return moment.strftime(STAMP_FORMAT)


class _BoundedCache:
    """A small thread-safe LRU map (the server answers from several worker threads)."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)


class SimStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"simulator store not found: {self.path}")
        # (window, page_size, page) -> the last (version_at, record_key) of that page.
        self._page_ends = _BoundedCache(_CACHE_ENTRIES)
        # window -> its total number of records.
        self._totals = _BoundedCache(_CACHE_ENTRIES)
        # Called with each SQL statement run (tests check what paging costs).
        self.trace: Callable[[str], None] | None = None

    def _connect(self) -> closing[sqlite3.Connection]:
        # A connection per call: cheap for SQLite, and safe across the server's worker threads.
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        if self.trace is not None:
            conn.set_trace_callback(self.trace)
        return closing(conn)

    def _generation(self) -> tuple[int, int]:
        # A store regenerated in place must not be served from the old one's cursors.
        stat = self.path.stat()
        return stat.st_mtime_ns, stat.st_size

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
        rows, total = self._page_rows(entity, updated_from, updated_to, page, page_size)
        return Page(items=[decode_payload(payload) for payload in rows], total=total)

    def page_json(
        self, entity: str, updated_from: datetime, updated_to: datetime, page: int, page_size: int
    ) -> tuple[bytes, int]:
        """The same page as a JSON array (UTF-8), plus the window's total: the stored records'
        own text joined, the bytes `json.dumps` of `page(...).items` would give. A source
        keeps its records serialised, or serialises them in compiled code; parsing each one
        and writing it again in Python would make the simulator, not the client, the cost
        of paging."""
        rows, total = self._page_rows(entity, updated_from, updated_to, page, page_size)
        return b"[" + b",".join(zlib.decompress(payload) for payload in rows) + b"]", total

    def _page_rows(
        self, entity: str, updated_from: datetime, updated_to: datetime, page: int, page_size: int
    ) -> tuple[list[bytes], int]:
        """The page's compressed payloads, in serving order, and the window's total."""
        params = self._params(entity, updated_from, updated_to)
        window = (self._generation(), entity, params["from"], params["to"])
        with self._connect() as conn:
            total = self._totals.get(window)
            if total is None:
                total = conn.execute(f"SELECT count(*) {_WINDOW_WHERE}", params).fetchone()[0]
                self._totals.put(window, total)
            after = self._page_ends.get((window, page_size, page - 1)) if page > 1 else None
            if page == 1 or after is not None:
                keyset = "" if after is None else " AND (r.version_at, r.record_key) > (:at, :key)"
                # SQLite does not seek the index on the row value: the scan would start at the
                # window's start on every page (each one slower than the last, 0.3 s a page
                # deep in six weeks of dossiers). It starts at the last page's end instead.
                start = params if after is None else {**params, "from": after[0]}
                rows = conn.execute(
                    f"SELECT r.version_at, r.record_key, r.payload {_WINDOW_WHERE}{keyset}"
                    " ORDER BY r.version_at, r.record_key LIMIT :limit",
                    {
                        **start,
                        "limit": page_size,
                        "at": after and after[0],
                        "key": after and after[1],
                    },
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT r.version_at, r.record_key, r.payload {_WINDOW_WHERE}"
                    " ORDER BY r.version_at, r.record_key LIMIT :limit OFFSET :offset",
                    {**params, "limit": page_size, "offset": (page - 1) * page_size},
                ).fetchall()
        if rows:
            self._page_ends.put((window, page_size, page), rows[-1][:2])
        return [payload for _, _, payload in rows], total

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
