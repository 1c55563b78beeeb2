"""How the loader treats what a source sends badly: quarantined with a reason, never lost.

These feed crafted HTTP responses to the real client and loader (the simulators' own fault
modes are exercised in test_extract_from_simulators.py).
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
import unicodedata
from datetime import datetime

import httpx
import psycopg
import pytest

from cchc.extract.connector import RetryPolicy, SourceClient, SourceConnection, SourceError
from cchc.extract.entities import entities_of
from cchc.extract.loader import _source_date, canonical_json, load_window
from cchc.extract.window import TZ, Window, from_source_date

WINDOW = Window(datetime(2024, 4, 1, tzinfo=TZ), datetime(2024, 4, 2, tzinfo=TZ))
(DOSSIERS,) = entities_of("onestop", "dossiers")


def dossier(code: str, **extra) -> dict:
    return {
        "MaHoSo": code,
        "NgayCapNhat": "20240401100000",
        "TrangThaiHoSo": 2,
        "DonViXuLy": "H40.12",
        **extra,
    }


def page(items, number: int, total_pages: int, total: int | None = None, **dumps) -> str:
    """A page of the contract's envelope; `total` defaults to the items of a single page."""
    return json.dumps(
        {"code": "OK", "message": "OK", "data": {"items": items, "pagination": {
            "total": len(items) if total is None else total, "currentPage": number,
            "pageSize": 2, "totalPages": total_pages}}},
        **{"ensure_ascii": False, **dumps},
    )  # fmt: skip


def _total(pages: dict) -> int:
    """The total the last page reported, for the empty page past it."""
    last = pages[max(pages)]
    try:
        text = last.decode("utf-8", "replace") if isinstance(last, bytes) else last
        return json.loads(text)["data"]["pagination"]["total"]
    except (ValueError, KeyError, TypeError):
        return 0


def serve(pages: dict[int, str | bytes], requested: list | None = None) -> httpx.MockTransport:
    """The pages by number; past the last, an empty page (as a source answers)."""

    def answer(request):
        number = int(request.url.params["page"])
        if requested is not None:
            requested.append(number)
        body = pages.get(number) or page([], number, len(pages), total=_total(pages))
        return httpx.Response(200, content=body.encode() if isinstance(body, str) else body)

    return httpx.MockTransport(answer)


@pytest.fixture
def conn(make_database):
    with psycopg.connect(make_database("extract_pages").url()) as connection:
        yield connection


def load(conn, pages: dict[int, str]):
    client = SourceClient("onestop", SourceConnection("http://source", "t"),
                          RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.01), transport=serve(pages))  # fmt: skip
    with client:
        return load_window(conn, client, DOSSIERS, WINDOW, page_size=2, province="H40")


def test_keyless_and_undated_records_are_quarantined_and_the_rest_loads(conn):
    result = load(conn, {
        1: page([dossier("A-1"), {"NgayCapNhat": "20240401100000", "TrangThaiHoSo": 2}], 1, 2, 5),
        2: page([dossier("C-1"), dossier("C-2", NgayCapNhat="not a date"), "oops"], 2, 2, 5),
    })  # fmt: skip
    assert (result.fetched, result.loaded, result.quarantined) == (5, 2, 3)
    reasons = conn.execute("select reason from audit.quarantine order by reason").fetchall()
    assert [r[0].split(":")[0] for r in reasons] == [
        "bad NgayCapNhat", "missing required field(s)", "record is a str, not an object",
    ]  # fmt: skip
    keys = [r[0] for r in conn.execute("select record_key from raw.onestop__dossiers order by 1")]
    assert keys == ["A-1", "C-1"]


def test_duplicates_inside_a_window_are_counted_and_dropped(conn):
    result = load(
        conn,
        {1: page([dossier("A-1"), dossier("A-1")], 1, 2, 1), 2: page([dossier("A-1")], 2, 2, 1)},
    )
    assert (result.fetched, result.loaded, result.duplicates) == (3, 1, 2)


def test_a_nul_character_quarantines_its_record_not_the_batch(conn):
    """PostgreSQL cannot store U+0000 in text or jsonb; one such record must not sink the
    window. A literal backslash-u text (escaped in JSON) is an ordinary string."""
    result = load(conn, {1: page([dossier("A-1", GhiChu="a\x00b"), dossier("A-2"),
                                  dossier("A-3", GhiChu="C:\\u0000")], 1, 1)})  # fmt: skip
    assert (result.fetched, result.loaded, result.quarantined) == (3, 2, 1)
    reason, key = conn.execute("select reason, record_key from audit.quarantine").fetchone()
    assert key == "A-1" and "U+0000" in reason
    stored = conn.execute(
        "select payload->>'GhiChu' from raw.onestop__dossiers where record_key = 'A-3'"
    ).fetchone()[0]
    assert stored == "C:\\u0000"


def test_decomposed_vietnamese_is_stored_composed(conn):
    name = "Sở Tư pháp tỉnh Nghệ An"
    load(conn, {1: page([dossier("A-1", TenDonViXuLy=unicodedata.normalize("NFD", name))], 1, 1)})
    stored = conn.execute("select payload->>'TenDonViXuLy' from raw.onestop__dossiers").fetchone()[
        0
    ]
    assert stored == name and unicodedata.is_normalized("NFC", stored)


def test_unknown_fields_are_kept_and_reported(conn):
    result = load(conn, {1: page([dossier("A-1", TruongMoi="x")], 1, 1)})
    assert result.loaded == 1
    assert (
        conn.execute("select payload->>'TruongMoi' from raw.onestop__dossiers").fetchone()[0] == "x"
    )


def test_keys_and_payloads_are_stored_exactly_whatever_characters_they_hold(conn):
    # COPY's text format gives tabs, line breaks and backslashes a meaning: none may leak.
    key = "A-1\t\\N\r\nx"
    note = 'tab\there, "quoted", back\\slash \\N, newline\nand ký tự 😀'
    record = dossier(key, GhiChu=note)
    result = load(conn, {1: page([record], 1, 1)})
    assert result.loaded == 1
    stored_key, payload_hash, payload = conn.execute(
        "select record_key, payload_hash, payload from raw.onestop__dossiers"
    ).fetchone()
    assert (stored_key, payload) == (key, record)
    assert payload_hash == hashlib.md5(canonical_json(record).encode()).hexdigest()


def test_a_window_that_fails_midway_leaves_its_previous_batch_in_place(conn):
    pages = {1: page([dossier("A-1")], 1, 2, 2), 2: page([dossier("B-1")], 2, 2, 2)}
    first = load(conn, pages)
    broken = {1: pages[1], 2: '{"code": "OK", "data": {"items": ['}
    client = SourceClient("onestop", SourceConnection("http://source", "t"),
                          RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.01),
                          transport=httpx.MockTransport(lambda request: httpx.Response(
                              200 if request.url.params["page"] == "1" else 503, text=broken[1])))  # fmt: skip
    with client, pytest.raises(SourceError):
        load_window(conn, client, DOSSIERS, WINDOW, page_size=2, province="H40")
    conn.rollback()
    keys = conn.execute("select record_key, batch_id from raw.onestop__dossiers order by 1")
    assert keys.fetchall() == [("A-1", first.batch_id), ("B-1", first.batch_id)]
    assert load(conn, pages).loaded == 2  # and the connection still loads


def test_decoding_pages_leaves_the_garbage_collector_as_it_was(conn):
    with pytest.raises(SourceError):
        load(conn, {1: page([dossier("A-1")], 1, 2, 2), 2: "not json"})
    assert gc.isenabled()


@pytest.mark.parametrize(
    "text",
    ["20240401100000", "20240229235959", "20230229000000", "20241301000000", "20240401246000",
     "2024041100000", "202404011000000", "2024-04-01 10:00", "٢٠٢٤٠٤٠١١٠٠٠٠٠", ""],
)  # fmt: skip
def test_the_loaders_fast_date_parsing_agrees_with_the_windows(text):
    try:
        expected = from_source_date(text)
    except ValueError as error:
        with pytest.raises(ValueError, match=str(error)):
            _source_date(text)
    else:
        assert _source_date(text) == expected


def test_a_batch_that_grows_its_table_enough_refreshes_the_statistics(conn, monkeypatch):
    from cchc.extract import loader

    def planned_rows() -> float:
        query = "select reltuples from pg_class where oid = 'raw.onestop__dossiers'::regclass"
        return conn.execute(query).fetchone()[0]

    load(conn, {1: page([dossier("A-1"), dossier("A-2")], 1, 1)})
    assert planned_rows() == 2  # a table never analyzed: the planner sees its rows at once
    # A batch adding less than ANALYZE_SHARE of the rows leaves the statistics to autovacuum.
    monkeypatch.setattr(loader, "ANALYZE_SHARE", 10.0)
    later = Window(WINDOW.end, datetime(2024, 4, 3, tzinfo=TZ))
    client = SourceClient("onestop", SourceConnection("http://source", "t"),
                          transport=serve({1: page([dossier("B-1")], 1, 1)}))  # fmt: skip
    with client:
        load_window(conn, client, DOSSIERS, later, page_size=2, province="H40")
    assert planned_rows() == 2
    monkeypatch.setattr(loader, "ANALYZE_SHARE", 0.01)
    load(conn, {1: page([dossier("A-1"), dossier("A-3")], 1, 1)})  # the window again: +1 row
    assert planned_rows() == 3


def test_pages_are_fetched_one_ahead_in_order_and_a_fetch_error_comes_at_its_page():
    from cchc.extract.loader import one_ahead

    fetched: list[int] = []

    def pages():
        for number in range(1, 5):
            fetched.append(number)
            if number == 4:
                raise SourceError("page 4 unreadable")
            yield number

    seen = []
    with pytest.raises(SourceError, match="page 4"):
        for number in one_ahead(pages()):
            # the next page is fetched while this one is loaded, never one further
            deadline = time.monotonic() + 10
            while len(fetched) == number and time.monotonic() < deadline:
                time.sleep(0.01)
            seen.append((number, list(fetched)))
    # page 4's error comes after page 3, as without fetching ahead
    assert seen == [(1, [1, 2]), (2, [1, 2, 3]), (3, [1, 2, 3, 4])]


def test_leaving_the_pages_early_waits_for_the_fetch_under_way_and_closes_them():
    from cchc.extract.loader import one_ahead

    closed = []

    def pages():
        try:
            yield from range(1, 100)
        finally:
            closed.append(True)

    ahead = one_ahead(pages())
    assert next(ahead) == 1
    ahead.close()
    assert closed == [True]


def test_concurrent_jobs_keep_their_order_and_the_first_failure_is_raised():
    import threading

    from cchc.extract.run import concurrently

    threads = set()

    def job(n):
        def run():
            threads.add(threading.get_ident())
            if n in (3, 5):
                raise ValueError(f"job {n}")
            return n

        return run

    assert concurrently([job(n) for n in (0, 1, 2, 4)], 2) == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="job 3"):
        concurrently([job(n) for n in range(7)], 2)
    assert concurrently([job(n) for n in (0, 1)], 1) == [0, 1]
