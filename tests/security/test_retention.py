"""Raw retention: personal data leaves old, modelled versions; everything else stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest

from cchc.extract.raw_store import ensure_raw_tables
from cchc.security.retention import purge_raw, retention_months
from tests.dbt.test_dbt_project import IOFFICE_PAYLOAD, dossier

NOW = datetime(2025, 12, 15, tzinfo=UTC)


def _row(conn, table, key, extracted, payload, *, window_end=None):
    at = datetime.fromisoformat(extracted).replace(tzinfo=UTC)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    conn.execute(
        f"""insert into raw.{table} (batch_id, province_code, source, entity, window_start,
            window_end, extracted_at, record_key, record_updated_at, payload_hash, payload)
        values (%s, 'H40', %s, %s, %s - interval '1 day', %s, %s, %s, %s, md5(%s), %s::jsonb)""",
        [f"b-{extracted}", *table.split("__"), at, window_end or at, at, key, at, text, text],
    )


def _batch(conn, source, entity, window_start):
    at = datetime.fromisoformat(window_start).replace(tzinfo=UTC)
    conn.execute(
        "insert into audit.load_batches (batch_id, province_code, source, entity, window_start,"
        " window_end, started_at, status)"
        " values (%s, 'H40', %s, %s, %s, %s + interval '1 day', %s, 'loaded')",
        [f"{source}-{window_start}", source, entity, at, at, at],
    )


@pytest.fixture
def raw(make_database):
    pg = make_database("security_retention")
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        ensure_raw_tables(conn, "H40")
        # A: two old versions, then a recent one. B: one old version only, no later window.
        _row(conn, "onestop__dossiers", "A", "2023-01-10", dossier("A", "H40.12", "20230110080000"))
        _row(conn, "onestop__dossiers", "A", "2023-02-10",
             dossier("A", "H40.12", "20230210080000", TrangThaiHoSo=9))  # fmt: skip
        _row(conn, "onestop__dossiers", "A", "2025-11-10",
             dossier("A", "H40.12", "20251110080000", TrangThaiHoSo=10))  # fmt: skip
        _row(conn, "onestop__dossiers", "B", "2023-03-10", dossier("B", "H40.15", "20230310080000"))
        _row(conn, "ioffice__outgoing_documents", "VB-1", "2023-01-26", IOFFICE_PAYLOAD)
        conn.execute(
            "insert into audit.quarantine (batch_id, province_code, source, entity, window_start,"
            " window_end, record_key, reason, raw_text, quarantined_at) values"
            " ('q1', 'H40', 'onestop', 'dossiers', now(), now(), 'X', 'bad',"
            "  'SoGiayTo 040090001234', '2023-01-01'),"
            " ('q2', 'H40', 'onestop', 'dossiers', now(), now(), 'Y', 'bad', '{}', now())"
        )
    return pg


def _payloads(conn, table="onestop__dossiers"):
    return conn.execute(
        f"select record_key, extracted_at::date::text, payload, payload_hash from raw.{table}"
        " order by record_key, extracted_at"
    ).fetchall()


PERSONAL = ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DinhDanhCHS")


def test_superseded_old_versions_lose_personal_data(raw):
    with psycopg.connect(raw.url(), autocommit=True) as conn:
        before = _payloads(conn)
        report = purge_raw(conn, 24, now=NOW)
        after = _payloads(conn)
    assert report.scrubbed["onestop__dossiers"] == 2  # A's two old versions
    by_version = {(k, d): (p, h) for k, d, p, h in after}
    for version in (("A", "2023-01-10"), ("A", "2023-02-10")):
        payload, _ = by_version[version]
        assert not set(PERSONAL) & set(payload), version
        assert all("NguoiXuLy" not in step for step in payload["QuaTrinhXuLy"])
        assert payload["QuaTrinhXuLy"] == [{"TrangThai": 1}]
        # What the marts need is still there.
        assert payload["MaHoSo"] == "A" and payload["DonViXuLy"] == "H40.12"
    # The latest version of A is recent; B is old but its window is the latest one loaded.
    assert by_version[("A", "2025-11-10")][0]["SoGiayToChuHoSo"] == "040090001234"
    assert by_version[("B", "2023-03-10")][0]["ChuHoSo"] == "Nguyễn Văn An"
    # Hashes unchanged: a re-extracted old version is still recognised as a duplicate.
    assert [h for *_, h in before] == [h for *_, h in after]
    assert report.quarantine_deleted == 1


def test_latest_version_purged_once_a_later_window_was_loaded(raw):
    with psycopg.connect(raw.url(), autocommit=True) as conn:
        _batch(conn, "onestop", "dossiers", "2023-04-01")
        _batch(conn, "ioffice", "outgoing_documents", "2023-02-01")
        report = purge_raw(conn, 24, now=NOW)
        rows = {(k, d): p for k, d, p, _ in _payloads(conn)}
        document = _payloads(conn, "ioffice__outgoing_documents")[0][2]
        again = purge_raw(conn, 24, now=NOW)
    assert {t: n for t, n in report.scrubbed.items() if n} == {
        "onestop__dossiers": 3,
        "ioffice__outgoing_documents": 1,
    }
    assert "ChuHoSo" not in rows[("B", "2023-03-10")]
    assert "NguoiKy" not in document and document["ChucVuNguoiKy"] == "Giám đốc"
    assert not any(again.scrubbed.values())  # nothing left to scrub


def test_nothing_recent_is_touched(raw):
    with psycopg.connect(raw.url(), autocommit=True) as conn:
        report = purge_raw(conn, 36, now=NOW)
    assert report.scrubbed["onestop__dossiers"] == 0


def test_retention_setting(monkeypatch):
    monkeypatch.delenv("CCHC_RAW_RETENTION_MONTHS", raising=False)
    assert retention_months() == 24
    monkeypatch.setenv("CCHC_RAW_RETENTION_MONTHS", "0")
    assert retention_months() is None
    monkeypatch.setenv("CCHC_RAW_RETENTION_MONTHS", "-1")
    with pytest.raises(ValueError):
        retention_months()
