"""Load one entity for one window into the raw layer: streamed, deduplicated, audited, atomic.

Pages stream through one COPY into a session temp table as they arrive (nothing is held
for the whole window in memory), so PostgreSQL parses each page's JSON while Python reads the
next; then one short transaction, serialised per window by an advisory lock, replaces the
window's previous batch and inserts the new rows. Rejected records go to `audit.quarantine`,
so fetched = loaded + duplicates + quarantined for every batch.

A window is published only when it was fetched completely: every page read, and the distinct
records received at least the source's `pagination.total`. Otherwise nothing in raw changes,
the attempt is recorded as `failed` with its error, and the error is raised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import psycopg

from cchc.extract.connector import IncompleteWindow, Page, SourceClient, TotalChanged
from cchc.extract.decoding import printable, text_fault
from cchc.extract.entities import EVALUATION_ENDPOINTS, Entity
from cchc.extract.raw_store import ensure_raw_tables
from cchc.extract.window import TZ, Window, from_source_date

log = logging.getLogger(__name__)


# PostgreSQL's btree index rows hold at most ~2.7 kB: a longer key could never be stored, and
# no real system's key comes near this.
MAX_KEY_BYTES = 1024
# A window whose total keeps changing while it is paged is started again at most this often.
WINDOW_ATTEMPTS = 3


class LoadAuditError(RuntimeError):
    """The batch's counts do not reconcile: something was lost."""


@dataclass
class BatchResult:
    batch_id: str
    province: str
    source: str
    entity: str
    window: Window
    pages: int = 0
    fetched: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    unknown_fields: set[str] = field(default_factory=set)

    @property
    def reconciles(self) -> bool:
        return self.fetched == self.loaded + self.duplicates + self.quarantined

    def summary(self) -> str:
        extra = f", unknown fields: {sorted(self.unknown_fields)}" if self.unknown_fields else ""
        return (
            f"{self.province} {self.source}/{self.entity} {self.window}: fetched {self.fetched}, loaded "
            f"{self.loaded}, duplicates {self.duplicates}, quarantined {self.quarantined}{extra}"
        )


def canonical_json(record: dict) -> str:
    """The one serialisation a payload is hashed and stored in: sorted keys, compact, UTF-8."""
    return _canonical(record).decode()


_canonical = msgspec.json.Encoder(order="sorted").encode  # canonical_json, as UTF-8 bytes


class _Rejected(ValueError):
    pass


def _validate(entity: Entity, record: object) -> tuple[str, datetime]:
    if not isinstance(record, dict):
        raise _Rejected(f"record is a {type(record).__name__}, not an object")
    missing = [name for name in entity.required if record.get(name) in (None, "")]
    if missing:
        raise _Rejected(f"missing required field(s): {', '.join(missing)}")
    key = record[entity.key]
    if isinstance(key, (dict, list, bool)):
        raise _Rejected(f"key {entity.key} is a {type(key).__name__}, not text")
    key = str(key)
    if not key.strip():
        raise _Rejected(f"blank key: {entity.key} holds only whitespace")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise _Rejected(f"key too long: {entity.key} over {MAX_KEY_BYTES} bytes")
    try:
        updated = _source_date(str(record[entity.updated_field]))
    except ValueError as error:
        raise _Rejected(f"bad {entity.updated_field}: {error}") from error
    return key, updated


def _source_date(text: str) -> datetime:
    """`from_source_date`, five times faster for the 14 digits sources send."""
    if len(text) == 14 and text.isascii() and text.isdigit():
        try:
            return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]),
                            int(text[10:12]), int(text[12:]), tzinfo=TZ)  # fmt: skip
        except ValueError:
            pass  # from_source_date words the error
    return from_source_date(text)


def _copy_text(value: str) -> str:
    """A field of COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _Batch:
    """The state of one batch while its pages stream in."""

    def __init__(self, province: str, entity: Entity, window: Window, known: set[str]):
        self.entity, self.window, self.known_fields = entity, window, known
        self.result = BatchResult(uuid.uuid4().hex, province, entity.source, entity.name, window)
        self.started_at = datetime.now(UTC)
        self.quarantine: list[tuple[str | None, str, str]] = []
        self.reported_total: int | None = None
        # Hashes of the distinct valid records received (the payload holds the key), to
        # compare with the source's total: ~50 bytes a record, the strings are the COPY's.
        self.versions: set[str] = set()

    def check_complete(self) -> None:
        """The distinct records received cover the total the source reported."""
        if self.reported_total is None:
            return
        received = len(self.versions) + self.result.quarantined
        if received < self.reported_total:
            raise IncompleteWindow(
                f"source {self.entity.source!r}, entity {self.entity.name!r}, window "
                f"{self.window}: received {received} distinct records on {self.result.pages} "
                f"page(s) but the source reported {self.reported_total}"
            )

    def _reject(self, key: str | None, reason: str, record: object) -> None:
        self.quarantine.append((None if key is None else printable(key), reason, _dump(record)))
        self.result.quarantined += 1

    def add_page(self, page: Page) -> bytes:
        """The page's valid records as lines of COPY text; rejected ones are set aside."""
        self.result.pages += 1
        if self.reported_total is None:
            self.reported_total = page.total
        lines = []
        for record in page.items:
            self.result.fetched += 1
            if page.suspect_text and (fault := text_fault(record, page.valid_utf8)):
                self._reject(_key_or_none(self.entity, record), fault, record)
                continue
            try:
                key, updated = _validate(self.entity, record)
            except _Rejected as reason:
                self._reject(_key_or_none(self.entity, record), str(reason), record)
                continue
            if self.known_fields and not self.known_fields.issuperset(record):
                self.result.unknown_fields.update(set(record) - self.known_fields)
            payload = _canonical(record)
            if b"\\u0000" in payload and _has_nul(record):
                # PostgreSQL text and jsonb cannot hold U+0000: set the record aside, not the batch.
                self._reject(key, "NUL character (U+0000) in a text field", record)
                continue
            digest = hashlib.md5(payload).hexdigest()
            self.versions.add(digest)
            # Compact JSON holds no tab or line break (JSON escapes them): only \ needs escaping.
            lines.append(f"{_copy_text(key)}\t{updated.isoformat()}\t{digest}\t".encode())
            lines.append(payload.replace(b"\\", b"\\\\") + b"\n")
        return b"".join(lines)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _key_or_none(entity: Entity, record: object) -> str | None:
    if isinstance(record, dict) and record.get(entity.key) not in (None, ""):
        return str(record[entity.key])
    return None


def _dump(record: object) -> str:
    """The record's text for quarantine (json escapes NUL; `printable` shows surrogates)."""
    try:
        return printable(json.dumps(record, ensure_ascii=False))
    except (TypeError, ValueError):
        return printable(repr(record))


def load_window(
    conn: psycopg.Connection,
    client: SourceClient,
    entity: Entity,
    window: Window,
    page_size: int = 500,
    known_fields: set[str] | None = None,
    ensure: bool = True,
    *,
    province: str,
) -> BatchResult:
    """Extract `entity` for `window` from `province`'s systems and make it that window's only
    batch in raw, if every page was received and they add up to the source's total; otherwise
    raise, leave raw as it was and record the attempt as `failed`. `ensure=False` skips
    creating the raw tables, for callers that did it once."""
    if ensure:
        ensure_raw_tables(conn, province)
    conn.execute(
        # jsonb: PostgreSQL parses (and compresses) each payload once, as its page arrives.
        "create temp table if not exists incoming (record_key text, record_updated_at timestamptz,"
        " payload_hash text, payload jsonb) on commit preserve rows"
    )
    conn.execute("set client_encoding to 'UTF8'")  # the COPY below is sent as UTF-8 bytes
    conn.commit()
    batch = None
    try:
        for attempt in range(1, WINDOW_ATTEMPTS + 1):
            batch = _Batch(province, entity, window, known_fields or set(entity.fields))
            try:
                _receive(conn, client, batch, page_size)
                break
            except TotalChanged as changed:
                conn.rollback()
                if attempt == WINDOW_ATTEMPTS:
                    raise IncompleteWindow(f"{changed} (on {attempt} attempts)") from changed
                log.warning("%s; fetching the window again", changed)
        batch.check_complete()
        _publish(conn, batch)
    except Exception as error:
        conn.rollback()
        if batch is not None:
            _record_failure(conn, batch, error)
        raise
    result = batch.result
    if not result.reconciles:
        raise LoadAuditError(f"counts do not reconcile: {result.summary()}")
    log.info("loaded %s", result.summary())
    return result


def _receive(conn: psycopg.Connection, client: SourceClient, batch: _Batch, page_size: int) -> None:
    """Every page of the window into the session's temp table, in one COPY: the server works on
    a page while the next is fetched."""
    entity, window = batch.entity, batch.window
    conn.execute("truncate pg_temp.incoming")
    if entity.kind == "monthly":
        pages = client.monthly_pages(entity, window, EVALUATION_ENDPOINTS)
    else:
        pages = client.pages(entity, window, page_size)
    with conn.cursor().copy(
        "copy pg_temp.incoming (record_key, record_updated_at, payload_hash, payload) from stdin"
    ) as copy:
        for page in one_ahead(pages):
            copy.write(batch.add_page(page))
    conn.commit()


def one_ahead(pages: Iterator[Page]) -> Iterator[Page]:
    """`pages` in order, each next one fetched on a thread while the current one is checked,
    hashed and copied: the source prepares a page while we load the last, instead of each
    side waiting for the other (half the wall time of a backfill was spent waiting for the
    source's answer). The same requests in the same order; a fetch's error is raised here,
    at the page it would have been; one page ahead at most, so memory stays one page more.
    Leaving early (an error while loading) waits for the fetch under way, then closes
    `pages`."""
    done = object()
    with ThreadPoolExecutor(1, thread_name_prefix="cchc-fetch") as fetcher:
        try:
            upcoming = fetcher.submit(next, pages, done)
            while (page := upcoming.result()) is not done:
                upcoming = fetcher.submit(next, pages, done)
                yield page
        finally:
            fetcher.shutdown(wait=True)
            close = getattr(pages, "close", None)
            if close is not None:
                close()


def _record_failure(conn: psycopg.Connection, batch: _Batch, error: Exception) -> None:
    """A failed attempt leaves a row saying so: nothing was published, here is why."""
    result = batch.result
    try:
        conn.execute(
            """
            insert into audit.load_batches (batch_id, province_code, source, entity,
                window_start, window_end, started_at, finished_at, pages, status, error)
            values (%s, %s, %s, %s, %s, %s, %s, now(), %s, 'failed', %s)
            """,
            [result.batch_id, result.province, result.source, result.entity,
             batch.window.start, batch.window.end, batch.started_at, result.pages,
             printable(f"{type(error).__name__}: {error}")[:4000]],
        )  # fmt: skip
        conn.commit()
    except psycopg.Error as audit_error:  # the warehouse itself may be what failed
        conn.rollback()
        log.error("could not record the failed attempt %s: %s", result.batch_id, audit_error)


# The advisory lock of the load clock (the same key in dbt's macro take_load_mark).
LOAD_CLOCK_LOCK = "hashtext('cchc:raw-load-clock')"


def _publish(conn: psycopg.Connection, batch: _Batch) -> None:
    entity, window, result = batch.entity, batch.window, batch.result
    with conn.transaction():
        # Two runs of the same window wait for each other instead of interleaving.
        conn.execute(
            "select pg_advisory_xact_lock(hashtext(%s))",
            [
                f"{entity.table}|{result.province}|{window.start.isoformat()}|{window.end.isoformat()}"
            ],
        )
        # The load clock dbt's incremental models follow: rows are stamped here, at publish,
        # while holding this lock shared; a dbt run takes it exclusively for an instant
        # before it reads (macro take_load_mark), so every row stamped before that instant
        # is committed by then, and every row committed later is stamped later.
        conn.execute(f"select pg_advisory_xact_lock_shared({LOAD_CLOCK_LOCK})")
        same_window = (
            "province_code = %s and source = %s and entity = %s"
            " and window_start = %s and window_end = %s"
        )
        ident = [result.province, entity.source, entity.name, window.start, window.end]
        conn.execute(f"delete from {entity.table} where {same_window}", ident)
        conn.execute(f"delete from audit.quarantine where {same_window}", ident)
        # Their rows are gone: sums over loaded batches count what raw holds.
        conn.execute(
            f"update audit.load_batches set status = 'replaced', replaced_by = %s"
            f" where {same_window} and status in ('loaded', 'unreconciled')",
            [result.batch_id, *ident],
        )
        inserted = conn.execute(
            f"""
            insert into {entity.table} (batch_id, province_code, source, entity, window_start, window_end,
                extracted_at, record_key, record_updated_at, payload_hash, payload)
            select %s, %s, %s, %s, %s, %s, clock_timestamp(), record_key, record_updated_at,
                payload_hash, payload
            from pg_temp.incoming
            -- also skips a version repeated inside this batch
            on conflict (province_code, record_key, payload_hash) do nothing
            """,
            [result.batch_id, *ident],
        ).rowcount
        valid = result.fetched - result.quarantined
        result.loaded, result.duplicates = inserted, valid - inserted
        if batch.quarantine:
            with conn.cursor().copy(
                "copy audit.quarantine (batch_id, province_code, source, entity, window_start, window_end,"
                " record_key, reason, raw_text) from stdin"
            ) as copy:
                for key, reason, raw_text in batch.quarantine:
                    copy.write_row((result.batch_id, *ident, key, reason, raw_text))
        conn.execute(
            """
            insert into audit.load_batches (batch_id, province_code, source, entity,
                window_start, window_end, started_at, finished_at, pages, fetched, loaded,
                duplicates, quarantined, unknown_fields, status)
            values (%s, %s, %s, %s, %s, %s, %s, now(), %s, %s, %s, %s, %s, %s, %s)
            """,
            [result.batch_id, *ident, batch.started_at, result.pages, result.fetched,
             result.loaded, result.duplicates, result.quarantined,
             sorted(result.unknown_fields), "loaded" if result.reconciles else "unreconciled"],
        )  # fmt: skip
        # The watermark is the end of what is covered without a hole: it moves only with a
        # window that starts at or before it, so a missed night stays visible (stale) and is
        # where the next night starts.
        conn.execute(
            """
            insert into audit.watermarks (province_code, source, entity, loaded_until,
                last_batch_id)
            values (%s, %s, %s, %s, %s)
            on conflict (province_code, source, entity) do update
               set loaded_until = excluded.loaded_until,
                   last_batch_id = excluded.last_batch_id, updated_at = now()
             where audit.watermarks.loaded_until >= %s
               and audit.watermarks.loaded_until < excluded.loaded_until
            """,
            [result.province, entity.source, entity.name, window.end, result.batch_id,
             window.start],
        )  # fmt: skip
    conn.execute("truncate pg_temp.incoming")
    conn.commit()
    if result.loaded:
        _analyze_if_stale(conn, entity.table, result.loaded)


# A batch adding at least this share of a raw table's rows refreshes its statistics.
ANALYZE_SHARE = 0.01


def _analyze_if_stale(conn: psycopg.Connection, table: str, inserted: int) -> None:
    """ANALYZE `table` when the batch just published added at least ANALYZE_SHARE of its rows
    (or it was never analyzed), so the night's raw checks that read it minutes later are
    planned on what it holds. The new versions all lie past the statistics' newest
    `extracted_at`, which leads no index, so the planner would guess ~1 row for "loaded since
    the last check" and pick nested loops over tens of thousands of rows (the dossiers' night
    scope at scale 1.0: 156 s before autovacuum came by, 4.6 s after); autovacuum waits for
    10 % of the table, which a year's history never reaches in one night. ~1 s a large table."""
    (rows,) = conn.execute(
        "select reltuples from pg_class where oid = %s::regclass", [table]
    ).fetchone()
    if rows < 0 or inserted >= ANALYZE_SHARE * rows:
        conn.execute(f"analyze {table}")
        conn.commit()
