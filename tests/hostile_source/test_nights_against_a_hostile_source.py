"""Acceptance: several nights against a hostile source, checked record by record.

Every version the source served for the windows that were published is in raw exactly once
and unaltered (but for NFC), or in quarantine with its own reason; nothing else is in raw; a
failed night leaves raw as it was and is reported stale until the next night catches it up;
reruns leave raw identical; every batch adds up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from datetime import date, timedelta

import psycopg
import pytest

from cchc import warehouse
from cchc.extract.connector import RetryPolicy, SourceError
from cchc.extract.entities import entities_of
from cchc.extract.freshness import record_freshness
from cchc.extract.run import extract_night
from tests.conftest import settings_using
from tests.extract.test_complete_windows import long_key
from tests.hostile_source.server import (
    BAD_BYTE,
    SURROGATE,
    TRANSIENT,
    Dataset,
    Faults,
    HostileSource,
    Version,
    local,
    source_date,
)  # fmt: skip

(DOSSIERS,) = entities_of("onestop", "dossiers")
FIRST = date(2024, 4, 1)
NIGHTS = [FIRST + timedelta(days=n) for n in range(4)]
POLICY = RetryPolicy(attempts=12, initial_wait=0.01, max_wait=0.3, timeout=5)
NAME = "Sở Tư pháp tỉnh Nghệ An"

# vid -> the reason its version must be quarantined with
BAD = {
    "BAD-LONG-KEY": "key too long",
    "BAD-BLANK-KEY": "blank key",
    "BAD-UTF8": "invalid UTF-8",
    "BAD-SURROGATE": "lone UTF-16 surrogate",
    "BAD-NUL": "NUL character",
    "BAD-DATE": "bad NgayCapNhat",
}


def dossier(key: str, vid: str, updated, **fields) -> dict:
    return {"MaHoSo": key, "MaTTHC": vid, "TrangThaiHoSo": 2, "DonViXuLy": "H40.12",
            "TenDonViXuLy": NAME, "ChuHoSo": "Nguyễn Văn An", "NgayCapNhat": source_date(updated),
            **fields}  # fmt: skip


def build_dataset() -> Dataset:
    """About 70 dossiers a day, a third updated again the next day, and bad records."""
    data, n = Dataset(), 0
    for day_index in range(len(NIGHTS) + 1):
        day = FIRST + timedelta(days=day_index)
        for i in range(70):
            updated = local(day, 0, 5) + timedelta(minutes=20 * i + 3)
            key = f"H40.12-{day:%y%m%d}-{i:04d}"
            n += 1
            data.add(Version(key, updated, dossier(key, f"V{n:05d}", updated)))
            if i % 3 == 0:  # updated again the next day: a second version
                later = updated + timedelta(days=1, minutes=7)
                n += 1
                data.add(Version(key, later, dossier(key, f"V{n:05d}", later, TrangThaiHoSo=4)))
    bad_day = local(FIRST + timedelta(days=1), 9)  # the night that fails, caught up later
    for offset, record in enumerate([
        dossier(long_key(), "BAD-LONG-KEY", bad_day),
        dossier("   ", "BAD-BLANK-KEY", bad_day),
        dossier("H40.12-BAD-1", "BAD-UTF8", bad_day, ChuHoSo=f"Lê{BAD_BYTE}Văn"),
        dossier("H40.12-BAD-2", "BAD-SURROGATE", bad_day, ChuHoSo=f"Trần{SURROGATE}"),
        dossier("H40.12-BAD-3", "BAD-NUL", bad_day, ChuHoSo="Phạm\x00Thị"),
        {**dossier("H40.12-BAD-4", "BAD-DATE", bad_day), "NgayCapNhat": "2024-04-02 09:00"},
    ]):  # fmt: skip
        data.add(Version(record["MaHoSo"], bad_day + timedelta(seconds=offset), record))
    decomposed = unicodedata.normalize("NFD", NAME)
    for day_index, escaped in ((0, True), (2, False)):  # NFD text, as \u escapes and not
        updated = local(FIRST + timedelta(days=day_index), 15, 1)
        vid = f"NFD-{'ESCAPED' if escaped else 'PLAIN'}"
        data.add(Version(f"H40.12-{vid}", updated,
                         dossier(f"H40.12-{vid}", vid, updated, TenDonViXuLy=decomposed), escaped))  # fmt: skip
    return data


def late_write() -> Version:
    updated = local(FIRST, 12, 30)
    return Version("H40.12-LATE-1", updated, dossier("H40.12-LATE-1", "LATE-1", updated))


def raw_rows(conn) -> list[tuple[str, str, dict]]:
    return conn.execute(
        f"select record_key, payload_hash, payload from {DOSSIERS.table} order by 1, 2"
    ).fetchall()


def night(settings, day: date):
    start = local(day, 1)
    return extract_night(DOSSIERS, start, start + timedelta(days=1), settings, POLICY)


def stale(conn, day: date) -> bool:
    states = record_freshness(conn, f"night-{day}", local(day + timedelta(days=1), 1), "H40")
    (state,) = [s for s in states if s.entity == DOSSIERS.name]
    return not state.is_fresh


@pytest.fixture(scope="module")
def nights(settings, make_database):
    database = make_database("hostile_source")
    dataset = build_dataset()
    with HostileSource(dataset) as source, psycopg.connect(database.url(), autocommit=True) as conn:
        config = dataclasses.replace(
            settings_using(settings, database),
            source_urls={**settings.source_urls, "onestop": source.base_url},
            page_size=20,
        )
        warehouse.bootstrap(conn, config)  # extraction connects as the loader login
        record = {}
        hostile = dict(rate=0.35, seed=5)
        first_window = source_date(local(NIGHTS[0], 0))
        source.configure(Faults(**hostile, per_window={first_window: "total-changes"},
                                late_write=late_write()))  # fmt: skip
        record["night 1"] = night(config, NIGHTS[0])
        record["raw after night 1"] = raw_rows(conn)

        # A rerun of night 1 against a source in maintenance: fails, raw as it was.
        source.configure(Faults(maintenance=True))
        with pytest.raises(SourceError) as failure:
            night(config, NIGHTS[0])
        record["rerun failure"] = str(failure.value)
        record["raw after failed rerun"] = raw_rows(conn)

        # Night 2: the source is down all night.
        with pytest.raises(SourceError):
            night(config, NIGHTS[1])
        record["raw after night 2"] = raw_rows(conn)
        record["stale after night 2"] = stale(conn, NIGHTS[1])

        # Night 3 catches night 2 up (a window whose totalPages is one short), then its own
        # (one too many); night 4 as usual.
        catch_up = source_date(local(NIGHTS[1], 0))
        own = source_date(local(NIGHTS[2], 0))
        source.configure(Faults(**{**hostile, "seed": 6}, per_window={
            catch_up: "pages-too-few", own: "pages-too-many"}))  # fmt: skip
        record["night 3"] = night(config, NIGHTS[2])
        record["stale after night 3"] = stale(conn, NIGHTS[2])
        source.configure(Faults(**{**hostile, "seed": 7}))
        record["night 4"] = night(config, NIGHTS[3])
        record["raw"] = raw_rows(conn)

        # Every night again, as an operator would after a scare: raw must not change.
        source.configure(Faults(**{**hostile, "seed": 8}))
        for day in NIGHTS:
            night(config, day)
        record["raw after reruns"] = raw_rows(conn)
        record["batches"] = conn.execute(
            "select window_start, window_end, status, fetched, loaded, duplicates, quarantined,"
            " error from audit.load_batches"
        ).fetchall()
        record["quarantine"] = conn.execute(
            "select reason, raw_text from audit.quarantine"
        ).fetchall()
        record["faults served"] = dict(source.served_faults)
    record["dataset"] = dataset
    return record


def expected_versions(record) -> dict[str, Version]:
    """What the source served for the windows that were published, by version id."""
    windows = sorted({(s, e) for s, e, status, *_ in record["batches"] if status == "loaded"})
    expected = {}
    for start, end in windows:
        for version in record["dataset"].listing(start, end):
            expected[version.record["MaTTHC"]] = version
    return expected


def stored_payload(version: Version) -> dict:
    """What raw must hold for a good version: the record as sent, text in NFC."""
    return json.loads(unicodedata.normalize("NFC", json.dumps(version.record, ensure_ascii=False)))


def test_the_published_windows_cover_the_nights_without_a_hole(nights):
    windows = sorted({(s, e) for s, e, status, *_ in nights["batches"] if status == "loaded"})
    assert windows[0][0] == local(NIGHTS[0], 0)
    assert max(e for _, e in windows) == local(NIGHTS[-1] + timedelta(days=1), 1)
    reach = windows[0][1]
    for start, end in windows[1:]:
        assert start <= reach, f"hole before {start}"
        reach = max(reach, end)


def test_every_good_version_is_in_raw_once_unaltered_and_nothing_else(nights):
    expected = {vid: v for vid, v in expected_versions(nights).items() if vid not in BAD}
    rows = nights["raw"]
    by_vid = {}
    for key, payload_hash, payload in rows:
        by_vid.setdefault(payload["MaTTHC"], []).append((key, payload_hash, payload))
    assert set(by_vid) == set(expected), "lost or extra versions"
    for vid, stored in by_vid.items():
        assert len(stored) == 1, f"{vid} stored {len(stored)} times"
        ((key, payload_hash, payload),) = stored
        want = stored_payload(expected[vid])
        assert (key, payload) == (expected[vid].key, want), vid
        canonical = json.dumps(want, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert payload_hash == hashlib.md5(canonical.encode()).hexdigest()
    assert {"NFD-ESCAPED", "NFD-PLAIN", "LATE-1"} <= set(by_vid)
    assert by_vid["NFD-ESCAPED"][0][2]["TenDonViXuLy"] == NAME


def test_every_bad_version_is_quarantined_with_its_own_reason(nights):
    found = {}
    for reason, raw_text in nights["quarantine"]:
        vid = re.search(r'"MaTTHC": "([^"]+)"', raw_text).group(1)
        found.setdefault(vid, set()).add(reason)
    assert set(found) == set(BAD), "a good record was quarantined, or a bad one not"
    for vid, reasons in found.items():
        assert all(reason.startswith(BAD[vid]) for reason in reasons), (vid, reasons)


def test_a_failed_window_leaves_raw_as_it_was_and_is_loud(nights):
    assert nights["raw after failed rerun"] == nights["raw after night 1"]
    assert nights["raw after night 2"] == nights["raw after night 1"]
    message = nights["rerun failure"]
    assert "source 'onestop', entity 'dossiers'" in message and "page 1" in message
    assert "unparseable page" in message
    failed = [b for b in nights["batches"] if b[2] == "failed"]
    assert len(failed) == 2 and all("unparseable page" in b[7] for b in failed)


def test_a_missed_night_is_stale_until_the_next_night_catches_it_up(nights):
    assert nights["stale after night 2"] is True
    assert nights["stale after night 3"] is False
    assert len(nights["night 3"]) == 2  # the missed night's window, then its own


def test_reruns_leave_raw_identical(nights):
    assert nights["raw after reruns"] == nights["raw"]
    statuses = {b[2] for b in nights["batches"]}
    assert statuses == {"loaded", "replaced", "failed"}


def test_every_batch_adds_up(nights):
    for start, end, status, fetched, loaded, duplicates, quarantined, _ in nights["batches"]:
        if status != "failed":
            assert fetched == loaded + duplicates + quarantined, (start, end, status)


def test_the_source_really_was_hostile(nights):
    served = nights["faults served"]
    everything = {"maintenance", "gzip", "total-changes", "pages-too-few", "pages-too-many"}
    assert set(TRANSIENT) | everything <= set(served), served
    assert sum(served.values()) > 20
