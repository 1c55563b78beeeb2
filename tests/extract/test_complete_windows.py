"""A window is published only when it was fetched completely; every bad record is set aside
on its own; the audit adds up. Crafted responses fed to the real client and loader."""

from __future__ import annotations

import hashlib
import json
import threading
import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import psycopg
import pytest
import tenacity

from cchc.extract.connector import (
    IncompleteWindow,
    RetryableResponse,
    RetryPolicy,
    SourceClient,
    SourceConnection,
    SourceError,
    _WaitHonouringRetryAfter,
    retry_after_seconds,
)  # fmt: skip
from cchc.extract.loader import load_window
from cchc.extract.window import TZ, Window
from cchc.reporting import status_lines
from tests.extract.test_pages import DOSSIERS, WINDOW, dossier, page, serve

FAST = RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.01)


@pytest.fixture
def conn(make_database):
    with psycopg.connect(make_database("extract_complete").url()) as connection:
        yield connection


def load(conn, pages, window=WINDOW, requested=None):
    client = SourceClient("onestop", SourceConnection("http://source", "t"), FAST,
                          transport=serve(pages, requested))  # fmt: skip
    with client:
        return load_window(conn, client, DOSSIERS, window, page_size=2, province="H40")


def raw(conn) -> list[tuple[str, str]]:
    return conn.execute(
        "select record_key, batch_id from raw.onestop__dossiers order by 1"
    ).fetchall()


GOOD = {1: page([dossier("A-1"), dossier("A-2")], 1, 2, 3), 2: page([dossier("B-1")], 2, 2, 3)}

MAINTENANCE = "<html><body><h1>Hệ thống đang bảo trì</h1></body></html>"


@pytest.mark.parametrize(
    "broken",
    [
        {1: MAINTENANCE, 2: GOOD[2]},  # an HTML maintenance page with status 200
        {1: GOOD[1][: len(GOOD[1]) // 2], 2: GOOD[2]},  # JSON broken on page 1
        {1: GOOD[1], 2: '{"code": "OK", "data": {"items": null}}'},
        {1: GOOD[1], 2: '{"code": "OK", "data": {"items": {}, "pagination": {}}}'},
        {1: GOOD[1], 2: '{"code": "BUSY", "message": "quá tải", "data": null}'},
    ],
    ids=["maintenance", "broken-json", "items-null", "items-object", "code-not-ok"],
)
def test_a_page_that_stays_unparseable_fails_the_window_and_raw_keeps_what_it_had(conn, broken):
    first = load(conn, GOOD)
    with pytest.raises(
        SourceError,
        match=r"source 'onestop', entity 'dossiers', window .* page \d: giving up after 2 attempts: unparseable page",
    ):
        load(conn, broken)
    assert raw(conn) == [("A-1", first.batch_id), ("A-2", first.batch_id), ("B-1", first.batch_id)]
    status, error = conn.execute(
        "select status, error from audit.load_batches order by started_at desc limit 1"
    ).fetchone()
    assert status == "failed" and "unparseable page" in error


def test_paging_goes_on_past_a_total_pages_one_too_small(conn):
    requested = []
    pages = {1: page([dossier("A-1"), dossier("A-2")], 1, 1, 3), 2: page([dossier("B-1")], 2, 1, 3)}
    result = load(conn, pages, requested=requested)
    assert requested == [1, 2] and result.loaded == 3


def test_paging_goes_on_while_pages_are_full_even_when_every_count_lies(conn):
    pages = {1: page([dossier("A-1"), dossier("A-2")], 1, 1, 2), 2: page([dossier("B-1")], 2, 1, 2)}
    assert load(conn, pages).loaded == 3


def test_fewer_records_than_the_total_fail_the_window_and_keep_raw(conn):
    first = load(conn, GOOD)
    short = {1: page([dossier("A-1"), dossier("A-2")], 1, 2, 4), 2: page([dossier("B-1")], 2, 2, 4)}
    with pytest.raises(
        IncompleteWindow, match="received 3 distinct records on 2 page.* reported 4"
    ):
        load(conn, short)
    assert [key for key, _ in raw(conn)] == ["A-1", "A-2", "B-1"]
    assert {b for _, b in raw(conn)} == {first.batch_id}


def test_a_total_that_changes_while_paging_fetches_the_window_again(conn):
    """A late write lands in the window between pages 1 and 2: offsets move, so the first
    reading cannot be trusted; the second, consistent reading is published."""
    calls = []
    later = {1: page([dossier("A-0"), dossier("A-1")], 1, 2, 4),
             2: page([dossier("A-2"), dossier("B-1")], 2, 2, 4)}  # fmt: skip

    def answer(request):
        number = int(request.url.params["page"])
        calls.append(number)
        body = GOOD[1] if calls == [1] else later.get(number, page([], number, 2, 4))
        return httpx.Response(200, text=body)

    client = SourceClient("onestop", SourceConnection("http://source", "t"), FAST,
                          transport=httpx.MockTransport(answer))  # fmt: skip
    with client:
        result = load_window(conn, client, DOSSIERS, WINDOW, page_size=2, province="H40")
    assert calls[:2] == [1, 2] and calls[2] == 1
    assert [k for k, _ in raw(conn)] == ["A-0", "A-1", "A-2", "B-1"] and result.fetched == 4


def long_key(length: int = 4000) -> str:
    """A key PostgreSQL cannot compress under its index row limit (~2.7 kB)."""
    text = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(length // 64 + 1))
    return text[:length]


def test_a_key_too_long_for_the_index_is_quarantined_not_the_window(conn):
    result = load(conn, {1: page([dossier(long_key()), dossier("A-1")], 1, 1)})
    assert (result.loaded, result.quarantined) == (1, 1)
    assert (
        conn.execute("select reason from audit.quarantine").fetchone()[0].startswith("key too long")
    )
    assert load(conn, {1: page([dossier(long_key()), dossier("A-1")], 1, 1)}).loaded == 1


def test_a_whitespace_only_key_is_quarantined(conn):
    result = load(conn, {1: page([dossier("  \t "), dossier("A-1")], 1, 1)})
    assert (result.loaded, result.quarantined) == (1, 1)
    assert conn.execute("select reason from audit.quarantine").fetchone()[0].startswith("blank key")


def test_invalid_utf8_quarantines_its_record_with_a_reason_not_a_replacement_character(conn):
    body = page([dossier("A-1", ChuHoSo="Lê@@X"), dossier("A-2", ChuHoSo="Lê Văn")], 1, 1)
    result = load(conn, {1: body.encode().replace(b"@@X", b"\xff")})
    assert (result.fetched, result.loaded, result.quarantined) == (2, 1, 1)
    key, reason, raw_text = conn.execute(
        "select record_key, reason, raw_text from audit.quarantine"
    ).fetchone()
    assert (key, reason) == ("A-1", "invalid UTF-8 (byte 0xFF)") and "\\udcff" in raw_text
    stored = conn.execute("select payload->>'ChuHoSo' from raw.onestop__dossiers").fetchone()[0]
    assert stored == "Lê Văn" and "\ufffd" not in stored


def test_a_lone_surrogate_quarantines_one_record_not_its_page(conn):
    records = [dossier(f"A-{i}") for i in range(5)]
    body = page(records, 1, 1).replace('"A-2"', '"A-2", "GhiChu": "x\\ud800"', 1)
    result = load(conn, {1: body})
    assert (result.fetched, result.loaded, result.quarantined) == (5, 4, 1)
    key, reason = conn.execute("select record_key, reason from audit.quarantine").fetchone()
    assert (key, reason) == ("A-2", "lone UTF-16 surrogate (U+D800)")


def test_paired_surrogate_escapes_are_ordinary_text(conn):
    body = page([dossier("A-1", GhiChu="😀")], 1, 1, ensure_ascii=True)
    assert "\\ud83d\\ude00" in body
    assert load(conn, {1: body}).loaded == 1
    assert (
        conn.execute("select payload->>'GhiChu' from raw.onestop__dossiers").fetchone()[0] == "😀"
    )


def test_decomposed_text_sent_as_escapes_is_stored_composed(conn):
    name = "Sở Tư pháp tỉnh Nghệ An"
    body = page([dossier("A-1", TenDonViXuLy=unicodedata.normalize("NFD", name))], 1, 1,
                ensure_ascii=True)  # fmt: skip
    assert body.isascii()
    load(conn, {1: body})
    stored = conn.execute("select payload->>'TenDonViXuLy' from raw.onestop__dossiers").fetchone()
    assert stored[0] == name


def test_retry_after_as_seconds_and_as_an_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=20), usegmt=True), now) == 20
    assert retry_after_seconds("Thu, 01 Jan 2026 11:59:00 GMT", now) == 0.0  # already past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_an_http_date_retry_after_is_waited_for_up_to_the_cap():
    wait = _WaitHonouringRetryAfter(RetryPolicy(initial_wait=0.01, max_wait=30))
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=12), usegmt=True)
    state = tenacity.RetryCallState(None, None, (), {})
    state.set_exception((RetryableResponse, RetryableResponse(429, retry_after_seconds(later), ""), None))  # fmt: skip
    assert 10 < wait(state) <= 12
    capped = _WaitHonouringRetryAfter(RetryPolicy(initial_wait=0.01, max_wait=5))
    assert capped(state) == 5


def test_a_rerun_marks_the_batch_it_replaces_and_sums_count_raw(conn):
    first = load(conn, GOOD)
    second = load(conn, GOOD)
    rows = dict(conn.execute("select batch_id, status from audit.load_batches").fetchall())
    assert rows == {first.batch_id: "replaced", second.batch_id: "loaded"}
    loaded = conn.execute(
        "select sum(loaded) from audit.load_batches where status = 'loaded'"
    ).fetchone()[0]
    assert loaded == conn.execute("select count(*) from raw.onestop__dossiers").fetchone()[0] == 3
    assert "current batches: 3 record versions in raw; failed attempts: 0" in status_lines(conn)


def test_the_watermark_never_jumps_a_hole(conn):
    day = timedelta(days=1)
    load(conn, {1: page([], 1, 0)}, WINDOW)
    later = Window(WINDOW.end + day, WINDOW.end + 2 * day)
    load(conn, {1: page([], 1, 0)}, later)

    def until():
        return conn.execute("select loaded_until from audit.watermarks").fetchone()[0]

    assert until() == WINDOW.end  # the day in between is missing
    load(conn, {1: page([], 1, 0)}, Window(WINDOW.end - timedelta(hours=1), WINDOW.end + day))
    assert until() == WINDOW.end + day
    load(conn, {1: page([], 1, 0)}, later)
    assert until() == later.end


def test_the_quarantine_keeps_a_keys_text_whatever_it_holds(conn):
    body = json.dumps({"code": "OK", "data": {"items": [dossier("A\x00B"), dossier("A-2")],
                       "pagination": {"total": 2, "totalPages": 1, "pageSize": 2}}})  # fmt: skip
    assert load(conn, {1: body}).quarantined == 1
    assert conn.execute("select record_key from audit.quarantine").fetchone()[0] == "A\\u0000B"


def test_windows_start_at_the_watermark_in_bounded_chunks():
    from cchc.extract.window import windows_since

    start = datetime(2024, 4, 6, 1, tzinfo=TZ)
    end = start + timedelta(days=1)
    (own,) = windows_since(start, start, end, 60, 24)
    assert own == Window(start - timedelta(hours=1), end)
    assert windows_since(None, start, end, 60, 24) == [own]
    # the missed night's own window, as it would have run
    missed = windows_since(start - timedelta(days=1), start, end, 60, 24)
    assert missed == [Window(start - timedelta(days=1, hours=1), start), own]
    week = windows_since(start - timedelta(days=7), start, end, 60, 24)
    assert len(week) == 8 and all(w.end - w.start == timedelta(hours=25) for w in week)
    assert all(a.end - b.start == timedelta(hours=1) for a, b in zip(week, week[1:], strict=False))
    # a watermark between two nights: a shorter first window, still no hole
    odd = windows_since(start - timedelta(hours=30), start, end, 60, 24)
    assert [w.end - w.start for w in odd] == [
        timedelta(hours=25),
        timedelta(hours=7),
        timedelta(hours=25),
    ]


def test_rows_are_stamped_on_the_load_clock_when_published(make_database):
    """The loader stamps raw's extracted_at at publish, under the load-clock lock held shared:
    while a dbt run holds it exclusively (taking its load mark), a publish waits, and its rows
    are stamped after the mark, so the next run reads them (dbt's macro take_load_mark)."""
    from cchc.extract.loader import LOAD_CLOCK_LOCK

    url = make_database("extract_load_clock").url()
    with psycopg.connect(url) as first:
        load(first, GOOD)  # the tables exist
    published: list = []

    def publish() -> None:
        with psycopg.connect(url) as loader:
            published.append(load(loader, GOOD))  # the window again: all three rows anew

    with psycopg.connect(url, autocommit=True) as dbt:
        dbt.execute(f"select pg_advisory_lock({LOAD_CLOCK_LOCK})")
        thread = threading.Thread(target=publish, daemon=True)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the publish did not wait for the load-clock lock"
        (mark,) = dbt.execute("select clock_timestamp()").fetchone()
        dbt.execute(f"select pg_advisory_unlock({LOAD_CLOCK_LOCK})")
        thread.join(timeout=30)
        assert published and published[0].loaded == 3
        (stamped,) = dbt.execute(
            "select min(extracted_at) from raw.onestop__dossiers where batch_id = %s",
            [published[0].batch_id],
        ).fetchone()
    assert stamped > mark
