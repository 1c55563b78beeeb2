"""Test-wide setup: an isolated Airflow home and data folder, and one embedded warehouse.

The environment is set before anything imports Airflow, so the tests never touch a
developer's own `.data/` folder or warehouse.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="cchc-tests-"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


os.environ.update(
    {
        "CCHC_DATA_DIR": str(_SESSION_DIR / "data"),
        "CCHC_EXPORT_DIR": str(_SESSION_DIR / "exports"),
        "CCHC_PG_PORT_EMBEDDED": str(free_port()),
        "CCHC_SIM_PORT": str(free_port()),
        # The named test-only mode: fsync off (a throw-away warehouse, never the default).
        "CCHC_PG_DURABILITY": "fast",
        "AIRFLOW_HOME": str(_SESSION_DIR / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    }
)
os.environ.pop("CCHC_WAREHOUSE_URL", None)
os.environ.pop("AIRFLOW_CONN_CCHC_WAREHOUSE", None)

from cchc.config import load_settings  # noqa: E402 - only after the environment above is set

_SESSION_SETTINGS = load_settings()


@pytest.fixture(scope="session")
def settings():
    """The session's settings, read once from the environment set above. Tests that need
    other settings derive them (`settings_using`, `dataclasses.replace`) rather than patching
    the environment, so one test's environment never leaks into another's warehouse."""
    return _SESSION_SETTINGS


@pytest.fixture(scope="session")
def pg(settings):
    """The session's embedded warehouse server, stopped at the end."""
    from cchc import warehouse

    params = warehouse.params(settings)
    yield params
    warehouse.stop_embedded(settings)


@pytest.fixture(scope="session")
def make_database(pg):
    """`make_database(name)`: a new, empty database on the session's server; each test area
    gets its own so their raw tables never mix."""
    import dataclasses

    import psycopg

    def make(name: str):
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            conn.execute(f'create database "{name}"')
        return dataclasses.replace(pg, dbname=name)

    return make


def settings_using(settings, database):
    """The same settings, pointed at `database` as a configured (non-embedded) warehouse."""
    import dataclasses

    return dataclasses.replace(settings, warehouse_url=database.url())


# Every test carries one layer marker, derived from what it needs, so a quick loop can pick
# a layer (`pytest -m unit`: no server, a minute or two) without anyone marking tests by hand.
_LAYER_BY_FOLDER = {"ui": "browser", "e2e": "e2e", "hostile_source": "e2e"}


def _layer(item) -> str:
    if item.get_closest_marker("stack"):
        return "e2e"
    folder = Path(item.path).relative_to(Path(__file__).parent).parts[0]
    if folder in _LAYER_BY_FOLDER:
        return _LAYER_BY_FOLDER[folder]
    return "warehouse" if "pg" in getattr(item, "fixturenames", ()) else "unit"


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(_layer(item))
