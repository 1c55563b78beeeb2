"""Each fault mode, forced by the X-Sim-Fault header, does what a connector must survive."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cchc.simulators.app import create_app
from cchc.simulators.corruption import DRIFT_EXTRA_FIELD
from cchc.simulators.server import SimulatorProcess
from cchc.synthetic.entities import DOSSIERS

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WEEK = {"updatedFrom": "20250303000000", "updatedTo": "20250310000000", "pageSize": 50}
PATH = DOSSIERS.path


@pytest.fixture(scope="module")
def client(store_path: Path) -> TestClient:
    return TestClient(create_app(store_path, TOKEN))


def _get(client: TestClient, fault: str | None = None, page: int = 1) -> httpx.Response:
    headers = {**AUTH, "X-Sim-Fault": fault} if fault else AUTH
    return client.get(PATH, params={**WEEK, "page": page}, headers=headers)


def test_truncated_and_malformed_pages_do_not_parse(client: TestClient) -> None:
    clean = _get(client).text
    for fault in ("truncated", "malformed"):
        response = _get(client, fault)
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
    assert clean.startswith(_get(client, "truncated").text)


def test_duplicate_repeats_a_record_of_the_neighbouring_page(client: TestClient) -> None:
    page1, page2 = (_get(client, page=p).json()["data"]["items"] for p in (1, 2))
    dup1 = _get(client, "duplicate", 1).json()["data"]["items"]
    dup2 = _get(client, "duplicate", 2).json()["data"]["items"]
    assert dup1 == [*page1, page2[0]]
    assert dup2 == [page1[-1], *page2]


def test_schema_drift(client: TestClient) -> None:
    clean = _get(client).json()["data"]["items"]
    extra = _get(client, "drift-extra").json()["data"]["items"]
    missing = _get(client, "drift-missing").json()["data"]["items"]
    renamed = _get(client, "drift-renamed").json()["data"]["items"]
    assert all(DRIFT_EXTRA_FIELD in item for item in extra)
    assert all(DOSSIERS.optional_field not in item for item in missing)
    old, new = DOSSIERS.renamed_field
    assert all(old not in item and new in item for item in renamed)
    assert [item[new] for item in renamed] == [item[old] for item in clean]


def test_nfd_text_normalises_back_to_the_same_records(client: TestClient) -> None:
    clean = _get(client).json()["data"]["items"]
    response = _get(client, "nfd")
    assert unicodedata.normalize("NFD", "Tiếp nhận") in response.text
    assert "Tiếp nhận" not in response.text
    restored = json.loads(unicodedata.normalize("NFC", response.text))["data"]["items"]
    assert restored == clean


def test_keyless_record(client: TestClient) -> None:
    items = _get(client, "keyless").json()["data"]["items"]
    assert DOSSIERS.key_field not in items[0]
    assert all(DOSSIERS.key_field in item for item in items[1:])


def test_configured_rates_draw_every_new_kind_deterministically(store_path: Path) -> None:
    spec = "truncated:0.2,duplicate:0.2,nfd:0.2,keyless:0.2,seed=5"

    def bodies() -> list[str]:
        client = TestClient(create_app(store_path, TOKEN, spec))
        return [client.get(PATH, params=WEEK, headers=AUTH).text for _ in range(30)]

    first = bodies()
    assert first == bodies()
    assert len(set(first)) >= 4


def test_timeout_outlasts_the_client(store_path: Path) -> None:
    with SimulatorProcess(store_path, port=0, token=TOKEN) as sim:
        url = f"{sim.base_url}{PATH}"
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url, params=WEEK, headers={**AUTH, "X-Sim-Fault": "timeout:2"}, timeout=0.3)
        assert httpx.get(url, params=WEEK, headers=AUTH, timeout=5).status_code == 200
