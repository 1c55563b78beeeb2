"""The SQLite file shared by the generator (writer) and the simulators (reader).

`records` holds every version of every record: (entity, record_key, version_at, payload) with
version_at = the payload's NgayCapNhat (yyyyMMddHHmmss, sorts like time) and payload the
canonical JSON, zlib-compressed (a dossier version shrinks to about a third). `evaluations`
holds the portal's precomputed 766 evaluation responses per endpoint and month. `meta` holds
the generation arguments.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path
from types import TracebackType

SCHEMA = """
CREATE TABLE records (
    entity TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version_at TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE evaluations (
    endpoint TEXT NOT NULL,
    period TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (endpoint, period)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Built after the bulk load (faster than keeping them up to date row by row). The window scan
# reads the first in (version_at, record_key) order; the second finds a record's later versions.
INDEXES = (
    "CREATE INDEX records_window ON records (entity, version_at, record_key)",
    "CREATE UNIQUE INDEX records_versions ON records (entity, record_key, version_at)",
)

BATCH_ROWS = 5_000
COMPRESSION_LEVEL = 6


def encode_payload(payload: dict) -> str:
    """Canonical text of a payload: contract field order, UTF-8, no whitespace."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def compress(text: str) -> bytes:
    return zlib.compress(text.encode(), COMPRESSION_LEVEL)


def decompress_payload(blob: bytes) -> str:
    return zlib.decompress(blob).decode()


def decode_payload(blob: bytes) -> dict:
    return json.loads(zlib.decompress(blob))


class RecordWriter:
    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.conn = sqlite3.connect(path)
        # A throwaway file until it is complete (the caller renames it), so no journal needed.
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.executescript(SCHEMA)
        self._rows: list[tuple[str, str, str, bytes]] = []
        self.counts: dict[str, int] = {}

    def add(self, entity: str, key: str, version_at: str, payload: dict) -> None:
        self._rows.append((entity, key, version_at, compress(encode_payload(payload))))
        self.counts[entity] = self.counts.get(entity, 0) + 1
        if len(self._rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            self.conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", self._rows)
            self._rows.clear()

    def add_evaluation(self, endpoint: str, period: str, body: dict) -> None:
        self.conn.execute(
            "INSERT INTO evaluations VALUES (?, ?, ?)",
            (endpoint, period, compress(encode_payload(body))),
        )

    def set_meta(self, values: dict[str, str]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(values.items()))

    def close(self) -> None:
        self.flush()
        for statement in INDEXES:
            self.conn.execute(statement)
        self.conn.commit()
        self.conn.execute("ANALYZE")
        self.conn.commit()
        self.conn.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.conn.close()
