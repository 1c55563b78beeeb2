"""Ground truth beside the store, new entities, evaluation shapes, units, calibration."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cchc.simulators.app import create_app
from cchc.simulators.store import SimStore
from cchc.synthetic import ENTITIES, generate
from cchc.synthetic.errors import DOSSIER_RULES, NATURAL_RULES, ErrorRates
from cchc.synthetic.evaluation import ENDPOINTS
from cchc.synthetic.profiles import ONLINE_SHARE_Q4_2023
from cchc.synthetic.units import build_units

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "national-portal"
TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MARCH = (datetime(2025, 3, 1), datetime(2025, 3, 17))


def _errors(store_path: Path) -> list[dict]:
    with (store_path.parent / "truth" / "errors.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_injected_errors_are_in_the_manifest_and_visible(tmp_path: Path) -> None:
    rates = ErrorRates(dossier=dict.fromkeys(DOSSIER_RULES, 0.04))
    store_path = generate(tmp_path, date(2025, 3, 3), date(2025, 3, 17), scale=0.01, errors=rates)
    rows = _errors(store_path)
    rules = Counter(r["rule"] for r in rows)
    assert set(DOSSIER_RULES) | set(NATURAL_RULES) <= set(rules), rules
    store = SimStore(store_path)
    served = {d["MaHoSo"]: d for d in store.list("dossiers", *MARCH)}
    for row in rows:
        if row["rule"] == "end_before_receipt" and row["record_key"] in served:
            d = served[row["record_key"]]
            assert d["NgayKetThucXuLy"] < d["NgayTiepNhan"]
        if row["rule"] == "digitized_without_files" and row["record_key"] in served:
            d = served[row["record_key"]]
            assert d["HoSoCoThanhPhanSoHoa"] and not any(c["DuocSoHoa"] for c in d["TaiLieuNop"])
    # The manifest is never served: no endpoint mentions it.
    client = TestClient(create_app(store_path, TOKEN))
    assert client.get("/onestop/api/v1/truth", headers=AUTH).status_code == 404


def test_clean_province_has_no_injected_errors(tmp_path: Path) -> None:
    store = generate(tmp_path, date(2025, 3, 3), date(2025, 3, 6), scale=0.01, clean=True)
    assert _errors(store) == []
    indicators = list(csv.DictReader((tmp_path / "truth" / "indicators.csv").open()))
    assert sum(int(r["dossiers_received"]) for r in indicators) > 50


@pytest.mark.parametrize("name", [n for n in ENTITIES if n not in ("dossiers",)])
def test_every_entity_is_served(store_path: Path, name: str) -> None:
    client = TestClient(create_app(store_path, TOKEN))
    params = {"updatedFrom": "20000101000000", "updatedTo": "20250317000000", "pageSize": 5}
    body = client.get(ENTITIES[name].path, params=params, headers=AUTH).json()
    assert body["code"] == "OK" and body["data"]["items"], name
    assert all(ENTITIES[name].key_field in item for item in body["data"]["items"])


def test_units_have_nghe_an_shape_and_dated_mergers() -> None:
    before = [u for u in build_units() if u.active_on(date(2025, 6, 30))]
    after = [u for u in build_units() if u.active_on(date(2025, 7, 1))]
    kinds = Counter(u.kind for u in before)
    assert kinds == {"department": 20, "district": 21, "commune": 412}
    assert Counter(u.kind for u in after) == {"department": 14, "commune": 130}
    codes_after = {u.code for u in after}
    assert all(u.successor in codes_after for u in before)


def _shape_matches(ours, sample, path="$") -> None:
    number = (int, float)
    if isinstance(sample, dict):
        assert isinstance(ours, dict), path
        assert set(sample) <= set(ours), (path, set(sample) - set(ours))
        for key, value in sample.items():
            _shape_matches(ours[key], value, f"{path}.{key}")
    elif isinstance(sample, list):
        assert isinstance(ours, list), path
        for item in ours[:3]:
            if sample:
                _shape_matches(item, sample[0], f"{path}[]")
    elif sample is None or isinstance(sample, number) and not isinstance(sample, bool):
        # The portal itself mixes int, float and null for the same figure.
        assert ours is None or isinstance(ours, number) and not isinstance(ours, bool), path
    else:
        assert type(ours) is type(sample), (path, ours, sample)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_evaluation_endpoints_have_the_samples_shape(store_path: Path, endpoint: str) -> None:
    client = TestClient(create_app(store_path, TOKEN))
    url = f"/portal/api/v1/evaluation/{endpoint}"
    response = client.get(url, params={"year": 2025, "month": 3}, headers=AUTH)
    assert response.status_code == 200
    sample = json.loads((SAMPLES / endpoint / "month-all.json").read_text(encoding="utf-8"))
    _shape_matches(response.json(), sample)
    assert client.get(url, params={"year": 2019, "month": 3}, headers=AUTH).status_code == 404


def test_q4_2023_online_shares_match_the_letter(tmp_path: Path) -> None:
    store = SimStore(generate(tmp_path, date(2023, 10, 1), date(2024, 1, 1), scale=0.02))
    dossiers = store.list("dossiers", datetime(2023, 10, 1), datetime(2024, 1, 1))
    names = {u.code: u.name for u in build_units()}
    received: Counter = Counter()
    online: Counter = Counter()
    for d in dossiers:
        if "20231001" <= d["NgayTiepNhan"][:8] <= "20231231":
            name = names.get(d["DonViXuLy"])
            received[name] += 1
            online[name] += d["KenhThucHien"] == 2
    for name, expected in ONLINE_SHARE_Q4_2023.items():
        share = online[name] / received[name]
        assert abs(share - expected) <= 0.01, (name, share, expected, received[name])
