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
    # A dossier received on day 1, untouched on day 2, finished on day 3.
    candidates = [
        key
        for key, dossier in night1.items()
        if dossier["NgayTiepNhan"].startswith("20250304")
        and key not in night2
        and night3.get(key, {}).get("TrangThaiHoSo") in (9, 10)
    ]
    assert candidates, "no dossier with that life in the fixture"
    key = candidates[0]
    assert night1[key]["TrangThaiHoSo"] in (2, 4)
    assert night1[key]["NgayKetThucXuLy"] is None
    assert night3[key]["NgayKetThucXuLy"].startswith("20250306")
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
