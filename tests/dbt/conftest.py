"""A private embedded warehouse for the dbt tests, in a temporary folder on a free port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from cchc.config import PgParams


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def warehouse_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgParams]:
    from cchc import warehouse
    from cchc.config import load_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCHC_DATA_DIR", str(tmp_path_factory.mktemp("warehouse")))
        mp.setenv("CCHC_PG_PORT_EMBEDDED", str(_free_port()))
        mp.delenv("CCHC_WAREHOUSE_URL", raising=False)
        mp.delenv("AIRFLOW_CONN_CCHC_WAREHOUSE", raising=False)
        settings = load_settings()
        pg = warehouse.params(settings)
        try:
            yield pg
        finally:
            warehouse.stop_embedded(settings)
