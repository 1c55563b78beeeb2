"""Test-wide setup: an isolated Airflow home and data folder, and one embedded warehouse.

The environment is set before anything imports Airflow, so the tests never touch a
developer's own `.data/` folder or warehouse. The suite runs on two pytest-xdist workers
(`addopts` in pyproject.toml); each worker imports this file, so each has its own folder,
ports, warehouse, Airflow home, dbt target/ and GX project: nothing one writes is the other's.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="cchc-tests-"))
# The committed GX project, copied: the nights a test runs write their results and Data Docs
# under the copy's uncommitted/, not into the checkout another worker writes too.
_GX_PROJECT = _SESSION_DIR / "expectations"
shutil.copytree(
    Path(__file__).parents[1] / "expectations",
    _GX_PROJECT,
    ignore=shutil.ignore_patterns("uncommitted"),
)


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
        "CCHC_DBT_TARGET_DIR": str(_SESSION_DIR / "dbt-target"),
        "CCHC_GX_PROJECT_DIR": str(_GX_PROJECT),
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


def pytest_unconfigure(config):
    """The session's folder (warehouse cluster, data, exports: gigabytes after a full run) is
    removed when the session ends, once its servers are down; `CCHC_KEEP_TEST_DATA=1` keeps it
    for a post-mortem."""
    if os.environ.get("CCHC_KEEP_TEST_DATA") == "1":
        print(f"\nkept the test session's folder: {_SESSION_DIR}")
        return
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


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


# The unit of work xdist hands a worker (`pytest_xdist_make_scheduler` below): a folder whose
# conftest.py builds session fixtures for several files is one unit, so they are built once,
# not on both workers; every other file is its own unit (the compose stack test, mostly
# waiting on containers, among them).
_FOLDERS_SHARING_FIXTURES = {"dbt", "exports", "extract", "quality", "simulators", "ui"}


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0].removeprefix("tests/")
    folder = path.split("/", 1)[0]
    return folder if folder in _FOLDERS_SHARING_FIXTURES else path


# The longest units first (`--no-loadscope-reorder` keeps this order): a long group handed out
# last would run on alone while the other worker sits idle. From a full run's durations.
_LONGEST_FIRST = (
    "deploy/test_stack.py",
    "e2e/test_nightly_pipeline.py",
    "ui",
    "quality",
    "qd766/test_causes.py",
    "indicators/test_indicators_match_truth.py",
    "e2e/test_missed_night.py",
    "e2e/test_failing_source.py",
    "e2e/test_two_provinces.py",
    "warning/test_replay.py",
    "dbt",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(_layer(item))
    rank = {group: i for i, group in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item.nodeid), len(rank)))  # units stay whole


def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling with `_group` as the scope. (Its `loadgroup` marks cannot do
    it: xdist 3.8 renames the test ids through an attribute pytest 9 no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

        def _reschedule(self, node) -> None:
            # xdist hands a worker its next unit once two of its tests are left; a worker
            # runs a test only once it knows the next one, so one left is enough. With two,
            # the unit handed to the stack test's worker after its first night waited the
            # whole Celery night idle while the other worker ran out of work.
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return GroupScheduling(config, log)
