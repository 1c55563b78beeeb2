from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from cchc.simulators.store import SimStore
from cchc.synthetic import generate
from cchc.synthetic.catalog import catalogue
from cchc.synthetic.recordstore import decompress_payload
from cchc.synthetic.timeutil import parse_stamp
from cchc.synthetic.workdays import WorkingCalendar


def _payload_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT entity, record_key, version_at, payload FROM records"
            " ORDER BY entity, record_key, version_at"
        )
        for entity, key, version_at, payload in rows:
            row = (entity, key, version_at, decompress_payload(payload))
            digest.update("\x1f".join(row).encode())
            digest.update(b"\x1e")
    return digest.hexdigest()


def test_same_seed_same_payloads_other_seed_differs(tmp_path: Path) -> None:
    args = (date(2025, 3, 3), date(2025, 3, 6))
    first = _payload_digest(generate(tmp_path / "a", *args, seed=7, scale=0.01))
    again = _payload_digest(generate(tmp_path / "b", *args, seed=7, scale=0.01))
    other = _payload_digest(generate(tmp_path / "c", *args, seed=8, scale=0.01))
    assert first == again
    assert first != other


def test_rejects_empty_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="end"):
        generate(tmp_path, date(2025, 3, 3), date(2025, 3, 3))


def test_working_days_skip_weekends_and_tet() -> None:
    calendar = WorkingCalendar()
    # Friday + 1 working day is Monday.
    assert calendar.add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 10)
    # Received Saturday: counting starts Monday.
    assert calendar.add_working_days(date(2025, 3, 8), 1) == date(2025, 3, 10)
    # Tết 2025: 27 Jan - 1 Feb off (public holidays), then the weekend of 1-2 Feb.
    assert calendar.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)
    assert calendar.add_working_days(date(2025, 1, 23), 3) == date(2025, 2, 4)
    assert not calendar.is_working_day(date(2025, 1, 29))


def test_generated_deadlines_follow_the_working_calendar(tmp_path: Path) -> None:
    # The week before Tết 2025: appointments must jump over the holiday.
    store = SimStore(
        generate(tmp_path, date(2025, 1, 20), date(2025, 1, 27), scale=0.01, clean=True)
    )
    dossiers = store.list("dossiers", datetime(2025, 1, 1), datetime(2025, 1, 27))
    calendar = WorkingCalendar()
    procedures_days = {p.code: p.handling_days for p in catalogue()}
    checked = over_tet = 0
    for dossier in dossiers:
        if dossier["DanhSachHoSoBoSung"]:
            continue  # supplements move the appointment
        received = parse_stamp(dossier["NgayTiepNhan"])
        due = parse_stamp(dossier["NgayHenTra"])
        expected = calendar.add_working_days(received.date(), procedures_days[dossier["MaTTHC"]])
        assert due.date() == expected, dossier["MaHoSo"]
        assert calendar.is_working_day(due.date())
        over_tet += received.date() < date(2025, 1, 27) < due.date()
        checked += 1
    assert checked > 50 and over_tet > 10


def test_realism_of_a_fortnight(store_path: Path) -> None:
    store = SimStore(store_path)
    end = datetime(2025, 3, 17)
    dossiers = store.list("dossiers", datetime(2025, 3, 1), end)
    assert 1400 < len(dossiers) < 2200  # ~160 per working day, 10 working days
    statuses = Counter(d["TrangThaiHoSo"] for d in dossiers)
    assert statuses[4] and statuses[9] and statuses[10]  # open and finished ones
    assert set(statuses) <= {2, 3, 4, 5, 7, 8, 9, 10}
    # Late = handled after the appointment date, or still open past it.
    due = [d for d in dossiers if d["NgayHenTra"] < "20250312" and d["TrangThaiHoSo"] != 3]
    late = [d for d in due if (d["NgayKetThucXuLy"] or "9")[:8] > d["NgayHenTra"][:8]]
    assert 0.05 < len(late) / len(due) < 0.3
    assert any(len(d["DanhSachHoSoBoSung"]) == 2 for d in dossiers)
    assert any(parse_stamp(d["NgayTiepNhan"]).weekday() == 5 for d in dossiers)
    assert {d["KenhThucHien"] for d in dossiers} == {1, 2, 3}
    bent = {row.split(",")[2] for row in (store_path.parent / "truth" / "errors.csv").open()}
    for d in dossiers:
        assert re.fullmatch(r"H40\.\d{2,3}(\.\d\d)?-\d{6}-\d{4}", d["MaHoSo"])
        assert re.fullmatch(r"\d\.\d{6}\.000\.00\.00\.H40", d["MaTTHC"])
        if d["MaHoSo"] in bent:
            continue  # injected data-entry errors (truth/errors.csv) bend these on purpose
        assert re.fullmatch(r"0[35789]\d{8}", d["SoDienThoai"])
        assert re.fullmatch(r"0\d{11}", d["DinhDanhCHS"][0]["SoDinhDanh"])
        if d["LoaiDoiTuong"] == 1:
            assert d["SoGiayToChuHoSo"] == d["DinhDanhCHS"][0]["SoDinhDanh"]
        assert d["NgayCapNhat"] < "20250317000000"
    synced = store.list("dossier-sync", datetime(2025, 3, 1), end)
    assert 0.9 < len(synced) / len(dossiers) < 0.99
    documents = store.list("outgoing-documents", datetime(2025, 3, 1), end)
    apologies = [d for d in documents if d["LoaiVanBan"] == "TXL"]
    assert apologies and all(a["MaHoSoLienQuan"] for a in apologies)
    assert any(not d["CoChuKySo"] for d in documents)


def test_versions_carry_the_state_as_of_then(store_path: Path) -> None:
    store = SimStore(store_path)
    finished = store.list("dossiers", datetime(2025, 3, 1), datetime(2025, 3, 17))
    done = next(d for d in finished if d["TrangThaiHoSo"] == 10)
    versions = store.versions("dossiers", done["MaHoSo"])
    assert [v["TrangThaiHoSo"] for v in versions][:2] == [2, 4]
    assert versions[-1]["TrangThaiHoSo"] == 10
    stamps = [v["NgayCapNhat"] for v in versions]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    steps = [len(v["QuaTrinhXuLy"]) for v in versions]
    assert steps == sorted(steps) and steps[0] == 1
    assert versions[0]["NgayKetThucXuLy"] is None and versions[-1]["NgayKetThucXuLy"]
    for version in versions:
        assert all(s["ThoiDiemXuLy"] <= version["NgayCapNhat"] for s in version["QuaTrinhXuLy"])
    assert parse_stamp(stamps[-1]) - parse_stamp(stamps[0]) < timedelta(days=60)


def test_generate_command_treats_to_as_exclusive(tmp_path: Path) -> None:
    """`--to` is the day the clock stops at (its 00:00): no version is written on that day."""
    import sqlite3

    from typer.testing import CliRunner

    from cchc.cli import app

    result = CliRunner().invoke(
        app,
        ["simulate", "generate", "--from", "2025-03-03", "--to", "2025-03-05", "--scale",
         "0.005", "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2025-03-03 to 2025-03-04 (inclusive)" in result.output
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        (last,) = conn.execute("select max(version_at) from records").fetchone()
    assert last < "20250305000000"
    assert last >= "20250304000000"  # the last day itself is simulated
