"""`cchc dq score`'s horizon: records a partially loaded warehouse cannot judge yet."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from cchc.quality.cli import score, store_beside, unsettled_keys


def _store(path, rows):
    with sqlite3.connect(path) as lite:
        lite.execute(
            "create table records (entity text, record_key text, version_at text, payload blob)"
        )
        lite.executemany("insert into records values (?, ?, ?, x'')", rows)
    return path


def test_records_changed_after_the_watermark_are_not_judged(tmp_path):
    (tmp_path / "truth").mkdir()
    store = _store(
        tmp_path / "store.sqlite",
        [
            ("dossiers", "D1", "20240331090000"),  # settled: last version before the night
            ("dossiers", "D2", "20240331090000"),
            ("dossiers", "D2", "20240401020000"),  # changed after the watermark (01:00 local)
            ("dossiers", "D3", "20240401003000"),  # before it: loaded
            ("dossier-sync", "D4", "20240402080000"),
            ("outgoing-documents", "V1", "20240301080000"),  # its entity was never loaded
        ],
    )
    assert store_beside(tmp_path / "truth") == store
    assert store_beside(tmp_path / "truth" / "errors.csv") == store
    assert store_beside(tmp_path) == store
    night = datetime(2024, 3, 31, 18, 0, tzinfo=UTC)  # 01:00 on 1 April, local time
    watermarks = {("onestop", "dossiers"): night, ("portal", "dossier_syncs"): night}
    assert unsettled_keys(store, watermarks) == {"D2", "D4", "V1"}


def test_unjudged_records_leave_both_sides():
    truth = {"invalid_phone": {"D1", "D2"}}
    flags = {"invalid_phone": {"D1"}}
    unsettled = {"D2"}
    (s,) = score(
        {r: k - unsettled for r, k in truth.items()}, {r: k - unsettled for r, k in flags.items()}
    )
    assert (s.precision, s.recall) == (1.0, 1.0)
