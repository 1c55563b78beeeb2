"""The manifest lists a portal status mismatch only where the data served shows one."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path

from cchc.synthetic import generate
from cchc.synthetic.entities import DOSSIER_SYNC, DOSSIERS
from cchc.synthetic.errors import ErrorRates
from cchc.synthetic.portal import STATUS_FIELDS
from cchc.synthetic.recordstore import decode_payload


def _latest(conn: sqlite3.Connection, entity: str) -> dict[str, dict]:
    rows = conn.execute(
        "select record_key, payload from records where entity = ? order by version_at", (entity,)
    )
    return {key: decode_payload(blob) for key, blob in rows}  # the last version wins


def test_every_recorded_mismatch_differs_and_every_difference_is_recorded(tmp_path: Path) -> None:
    # Many stalls: most miss a status change, some only the review's hand-over (no mismatch).
    rates = ErrorRates(sync_rate=1.0, portal_stall_rate=0.5)
    store = generate(tmp_path, date(2025, 3, 3), date(2025, 3, 24), scale=0.01, errors=rates)
    with (tmp_path / "truth" / "errors.csv").open(encoding="utf-8") as file:
        truth = {
            r["record_key"] for r in csv.DictReader(file) if r["rule"] == "portal_status_mismatch"
        }
    with sqlite3.connect(store) as conn:
        dossiers, syncs = _latest(conn, DOSSIERS.name), _latest(conn, DOSSIER_SYNC.name)
    differing = {
        key
        for key, copy in syncs.items()
        if key in dossiers and any(copy[f] != dossiers[key][f] for f in STATUS_FIELDS)
    }
    assert truth, "no mismatch injected"
    # every sync here is on time (no resend pending at a Monday horizon), so only stalls differ
    assert truth == differing
