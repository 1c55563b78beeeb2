from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cchc.simulators import corruption
from cchc.simulators.app import create_app
from cchc.simulators.faults import FaultConfig
from cchc.simulators.server import SimulatorProcess
from cchc.simulators.store import SimStore

TOKEN = "test-token"

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WEEK = {"updatedFrom": "20250303000000", "updatedTo": "20250310000000"}
PATHS = {
    "dossiers": "/onestop/api/v1/dossiers",
    "dossier-sync": "/portal/api/v1/dossier-sync",
    "outgoing-documents": "/ioffice/api/v1/outgoing-documents",
}


@pytest.fixture(scope="module")
def client(store_path: Path) -> TestClient:
    return TestClient(create_app(store_path, TOKEN))


@pytest.mark.parametrize("source", ["onestop", "portal", "ioffice"])
def test_health_needs_no_auth(client: TestClient, source: str) -> None:
    response = client.get(f"/{source}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_list_needs_the_bearer_token(client: TestClient, headers: dict) -> None:
    response = client.get(PATHS["dossiers"], params=WEEK, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"updatedTo": "20250310000000"}, "updatedFrom is required"),
        ({**WEEK, "updatedFrom": "2025-03-03"}, "updatedFrom must be yyyyMMddHHmmss"),
        ({**WEEK, "updatedTo": "20250231000000"}, "not a valid date"),
        ({**WEEK, "updatedTo": "20250303000000"}, "updatedFrom must be before updatedTo"),
        ({**WEEK, "page": "0"}, "page must be at least 1"),
        ({**WEEK, "pageSize": "1001"}, "pageSize must be between 1 and 1000"),
        ({**WEEK, "pageSize": "abc"}, "pageSize must be a positive integer"),
    ],
)
def test_bad_parameters_are_400(client: TestClient, params: dict, message: str) -> None:
    response = client.get(PATHS["dossiers"], params=params, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"
    assert message in response.json()["message"]


@pytest.mark.parametrize("entity", list(PATHS))
def test_pages_are_complete_and_stable(client: TestClient, store_path: Path, entity: str) -> None:
    expected = SimStore(store_path).list(entity, datetime(2025, 3, 3), datetime(2025, 3, 10))
    page_size = max(1, len(expected) // 3 - 1)  # a few pages, the last one partial
    items: list[dict] = []
    page = 1
    while True:
        body = client.get(
            PATHS[entity], params={**WEEK, "page": page, "pageSize": page_size}, headers=AUTH
        ).json()
        assert body["code"] == "OK" and body["message"] == "OK"
        pagination = body["data"]["pagination"]
        assert pagination["total"] == len(expected)
        assert pagination["pageSize"] == page_size and pagination["currentPage"] == page
        assert pagination["totalPages"] == -(-len(expected) // page_size)
        if not body["data"]["items"]:
            break
        items += body["data"]["items"]
        page += 1
    assert page - 1 == pagination["totalPages"] >= 3
    assert items == expected
    again = client.get(
        PATHS[entity], params={**WEEK, "page": 2, "pageSize": page_size}, headers=AUTH
    )
    assert again.json()["data"]["items"] == expected[page_size : 2 * page_size]


@pytest.mark.parametrize("entity", list(PATHS))
def test_a_page_is_served_as_json_dumps_writes_its_records(
    client: TestClient, store_path: Path, entity: str
) -> None:
    """The stored records' own text joined: byte for byte what serialising them would give."""
    window = (datetime(2025, 3, 3), datetime(2025, 3, 10))
    total = len(SimStore(store_path).list(entity, *window))
    for page in (1, 2, 3, 99):  # the last one past the end: an empty list
        params = {**WEEK, "page": page, "pageSize": 7}
        response = client.get(PATHS[entity], params=params, headers=AUTH)
        items = SimStore(store_path).page(entity, *window, page, 7).items
        pagination = {"total": total, "currentPage": page, "pageSize": 7,
                      "totalPages": -(-total // 7)}  # fmt: skip
        body = {"code": "OK", "message": "OK", "data": {"items": items, "pagination": pagination}}
        assert response.content == corruption.to_json(body).encode()
        assert response.headers["content-type"] == "application/json"


def test_default_page_size_is_500(client: TestClient) -> None:
    body = client.get(PATHS["dossiers"], params=WEEK, headers=AUTH).json()
    assert body["data"]["pagination"]["pageSize"] == 500
    assert len(body["data"]["items"]) == 500


def test_fault_header_500(client: TestClient) -> None:
    response = client.get(PATHS["dossiers"], params=WEEK, headers={**AUTH, "X-Sim-Fault": "500"})
    assert response.status_code == 500


def test_fault_header_429_asks_to_retry(client: TestClient) -> None:
    response = client.get(PATHS["dossier-sync"], params=WEEK,
                          headers={**AUTH, "X-Sim-Fault": "429"})  # fmt: skip
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"


def test_fault_header_slow_still_answers(client: TestClient) -> None:
    started = time.monotonic()
    response = client.get(
        PATHS["outgoing-documents"], params=WEEK, headers={**AUTH, "X-Sim-Fault": "slow:0.3"}
    )
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["code"] == "OK"


def test_unknown_fault_header_is_400(client: TestClient) -> None:
    response = client.get(PATHS["dossiers"], params=WEEK, headers={**AUTH, "X-Sim-Fault": "boom"})
    assert response.status_code == 400


def test_configured_fault_rates_are_deterministic(store_path: Path) -> None:
    def statuses(spec: str) -> list[int]:
        client = TestClient(create_app(store_path, TOKEN, spec))
        params = {**WEEK, "pageSize": 1}
        return [client.get(PATHS["dossiers"], params=params, headers=AUTH).status_code
                for _ in range(40)]  # fmt: skip

    spec = "500:0.25,429:0.25,seed=3"
    first = statuses(spec)
    assert first == statuses(spec)
    assert {200, 429, 500} == set(first)
    assert set(statuses("slow:1.0,delay=0.01")) == {200}
    assert FaultConfig.parse("") == FaultConfig()
    with pytest.raises(ValueError):
        FaultConfig.parse("500:0.8,429:0.5")


def test_simulator_process_serves_over_http(store_path: Path) -> None:
    with SimulatorProcess(store_path, port=0, token=TOKEN) as sim:
        assert httpx.get(f"{sim.url('onestop')}/health").json() == {"status": "ok"}
        response = httpx.get(
            f"{sim.base_url}{PATHS['dossiers']}", params={**WEEK, "pageSize": 10}, headers=AUTH
        )
        assert response.status_code == 200
        assert len(response.json()["data"]["items"]) == 10


def test_simulator_process_reports_a_failed_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="simulator store not found"):
        SimulatorProcess(tmp_path / "missing.sqlite", port=0).start()
