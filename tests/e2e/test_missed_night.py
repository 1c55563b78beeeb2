"""The missed night, through `cchc night run` as an operator meets it.

History loaded to 01:00 on 5 April; the sources are down for the night of 5 April (the run
fails); they are back for the night of 6 April, which then loads every record of the missed
night too, with no hand work. In between, freshness says stale.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import psycopg
import pytest

from cchc.extract.entities import WINDOWED_ENTITIES
from cchc.extract.run import load_history
from cchc.extract.window import Window, local_midnight
from cchc.orchestration import local_airflow
from cchc.simulators.server import SimulatorProcess
from cchc.simulators.store import SimStore
from cchc.synthetic import generate
from tests.conftest import settings_using
from tests.extract.test_extract_from_simulators import served

MISSED, NEXT = date(2024, 4, 5), date(2024, 4, 6)


def night_interval(night: date) -> Window:
    return Window(local_midnight(night) + timedelta(hours=1), local_midnight(night) + timedelta(hours=25))  # fmt: skip


def raw_versions(conn, entity) -> set[tuple[str, str]]:
    return set(conn.execute(f"select record_key, payload_hash from {entity.table}").fetchall())


def freshness(conn, night: date) -> dict[str, bool]:
    expected = night_interval(night).end
    return {
        f"{source}/{entity}": fresh
        for source, entity, fresh in conn.execute(
            "select source, entity, is_fresh from audit.source_freshness where expected_until = %s",
            [expected],
        )
    }


@pytest.fixture(scope="module")
def nights(settings, make_database, tmp_path_factory):
    # Its own export folder: the nightly pipeline's test reads the latest export of the session's.
    config = dataclasses.replace(
        settings_using(settings, make_database("e2e_missed_night")),
        export_dir=tmp_path_factory.mktemp("exports"),
    )
    store = generate(tmp_path_factory.mktemp("sim"), MISSED - timedelta(days=6),
                     NEXT + timedelta(days=1), seed=5, scale=0.01)  # fmt: skip
    env = local_airflow.prepare(config)
    env.update(
        CCHC_RETRY_DELAY_SECONDS="1", CCHC_HTTP_ATTEMPTS="2", CCHC_HTTP_MAX_WAIT_SECONDS="0.2"
    )
    record = {}
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        load_history(MISSED, config)
    # The simulators are stopped: nothing listens on their port for the whole night.
    with pytest.raises(local_airflow.AirflowRunError):
        local_airflow.run_night(config, MISSED, env)
    with psycopg.connect(config.warehouse_url) as conn:
        record["fresh after the missed night"] = freshness(conn, MISSED)
        record["raw after the missed night"] = {e.table: raw_versions(conn, e) for e in WINDOWED_ENTITIES}  # fmt: skip
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        local_airflow.run_night(config, NEXT, env)
    with psycopg.connect(config.warehouse_url) as conn:
        record["fresh after the next night"] = freshness(conn, NEXT)
        record["raw"] = {e.table: raw_versions(conn, e) for e in WINDOWED_ENTITIES}
        record["failed attempts"] = conn.execute(
            "select count(*) from audit.load_batches where status = 'failed'"
        ).fetchone()[0]
    return SimStore(store), record


def test_the_missed_night_was_reported_stale(nights):
    _, record = nights
    fresh = record["fresh after the missed night"]
    assert fresh and not any(fresh.values()), fresh
    assert record["failed attempts"] > 0


def test_the_next_night_loaded_every_record_of_the_missed_night(nights):
    store, record = nights
    missed_night = [night_interval(MISSED)]
    total = 0
    for entity in WINDOWED_ENTITIES:
        of_the_night = served(store, entity, missed_night)
        before = record["raw after the missed night"][entity.table]
        assert of_the_night - before or not of_the_night, f"{entity.table}: not missed at all"
        missing = of_the_night - record["raw"][entity.table]
        assert not missing, f"{entity.table}: {len(missing)} of {len(of_the_night)} lost"
        total += len(of_the_night)
    assert total > 100, "the missed night served too little to prove anything"


def test_freshness_is_back_after_the_next_night(nights):
    _, record = nights
    fresh = record["fresh after the next night"]
    assert fresh and all(fresh.values()), fresh
