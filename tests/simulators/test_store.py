"""The window semantics of the contract, checked against a brute-force reading of the store."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from cchc.simulators.store import SimStore
from cchc.synthetic.recordstore import decode_payload
from cchc.synthetic.timeutil import parse_stamp

NIGHT = timedelta(days=1)
ENTITY_NAMES = (
    "dossiers", "dossier-sync", "outgoing-documents", "incoming-documents", "payments",
    "ratings",
)  # fmt: skip


def _expected(path: Path, entity: str, start: str, end: str) -> list[dict]:
    """Latest version before `end` per key, kept when it is at or after `start`."""
    latest: dict[str, tuple[str, str]] = {}
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT record_key, version_at, payload FROM records WHERE entity = ?", (entity,)
        )
        for key, version_at, payload in rows:
            if version_at < end and (key not in latest or version_at > latest[key][0]):
                latest[key] = (version_at, payload)
    kept = sorted((v, k, p) for k, (v, p) in latest.items() if v >= start)
    return [decode_payload(p) for _, _, p in kept]


def test_list_matches_brute_force(store_path: Path) -> None:
    store = SimStore(store_path)
    for entity in ENTITY_NAMES:
        for start, end in (("20250305000000", "20250306000000"), ("20250310120000", "20250314")):
            end = end.ljust(14, "0")
            got = store.list(entity, parse_stamp(start), parse_stamp(end))
            assert got == _expected(store_path, entity, start, end), (entity, start)
            assert got, entity


def _night(day: datetime) -> tuple[datetime, datetime]:
    return day, day + NIGHT


def test_dossier_appears_received_then_done_not_in_between(store_path: Path) -> None:
    store = SimStore(store_path)
    day1 = datetime(2025, 3, 4)
    night1 = {d["MaHoSo"]: d for d in store.list("dossiers", *_night(day1))}
    night2 = {d["MaHoSo"]: d for d in store.list("dossiers", *_night(day1 + NIGHT))}
    night3 = {d["MaHoSo"]: d for d in store.list("dossiers", *_night(day1 + 2 * NIGHT))}
    # A dossier received and still open on day 1, untouched on day 2, handled further on day 3.
    candidates = [
        key
        for key, dossier in night1.items()
        if dossier["NgayTiepNhan"].startswith("20250304")
        and dossier["NgayKetThucXuLy"] is None
        and key not in night2
        and key in night3
    ]
    assert candidates, "no dossier with that life in the fixture"
    key = candidates[0]
    assert night1[key]["TrangThaiHoSo"] in (2, 4)
    assert night3[key]["NgayCapNhat"].startswith("20250306")
    assert len(night3[key]["QuaTrinhXuLy"]) > len(night1[key]["QuaTrinhXuLy"])
    # Its latest state as of each night's end is what the window serves.
    versions = store.versions("dossiers", key)
    assert night1[key] == [v for v in versions if v["NgayCapNhat"] < "20250305"][-1]


def test_window_is_half_open(store_path: Path) -> None:
    store = SimStore(store_path)
    first = store.list("dossiers", datetime(2025, 3, 5), datetime(2025, 3, 6))[0]
    at = parse_stamp(first["NgayCapNhat"])
    assert first in store.list("dossiers", at, at + timedelta(seconds=1))
    assert first not in store.list("dossiers", at - timedelta(hours=1), at)


def test_aware_datetimes_are_read_as_local_time(store_path: Path) -> None:
    from zoneinfo import ZoneInfo

    store = SimStore(store_path)
    utc = ZoneInfo("UTC")
    local = store.list("dossiers", datetime(2025, 3, 5, 7), datetime(2025, 3, 5, 12))
    # 07:00 local is 00:00 UTC.
    aware = store.list(
        "dossiers", datetime(2025, 3, 5, tzinfo=utc), datetime(2025, 3, 5, 5, tzinfo=utc)
    )
    assert local == aware and local


def _read_pages(store: SimStore, entity: str, window: tuple, size: int, order) -> dict:
    return {n: store.page(entity, *window, n, size) for n in order}


def test_pages_in_order_and_out_of_order_give_the_window(store_path: Path) -> None:
    window = (parse_stamp("20250303000000"), parse_stamp("20250317000000"))
    expected = SimStore(store_path).list("dossiers", *window)
    size = max(1, len(expected) // 7)
    count = -(-len(expected) // size)
    in_order = _read_pages(SimStore(store_path), "dossiers", window, size, range(1, count + 1))
    # A fresh store asked backwards and with jumps (retries, a restarted client): OFFSET path.
    jumps = [*range(count, 0, -2), *range(1, count + 1)]
    mixed = _read_pages(SimStore(store_path), "dossiers", window, size, jumps)
    for pages in (in_order, mixed):
        assert [item for n in sorted(pages) for item in pages[n].items] == expected
        assert {p.total for p in pages.values()} == {len(expected)}
    assert SimStore(store_path).page("dossiers", *window, count + 1, size).items == []


def test_a_window_read_page_after_page_is_counted_once_and_never_skips_rows(
    store_path: Path,
) -> None:
    store = SimStore(store_path)
    statements: list[str] = []
    store.trace = statements.append
    window = (parse_stamp("20250303000000"), parse_stamp("20250317000000"))
    size = 50
    pages = -(-store.page("dossiers", *window, 1, size).total // size)
    assert pages >= 5
    for n in range(2, pages + 1):
        store.page("dossiers", *window, n, size)
    counts = [s for s in statements if "count(*)" in s]
    assert len(counts) == 1  # the total is remembered per window
    page_reads = [s for s in statements if "r.payload" in s]
    assert len(page_reads) == pages
    assert not any("OFFSET" in s for s in page_reads)  # each page starts where the last ended
    # and its index range too, not at the window's start (SQLite seeks on no row value)
    assert "r.version_at >= '20250303000000'" in page_reads[0]
    assert not any("r.version_at >= '20250303000000'" in s for s in page_reads[1:])
