"""A missed night is caught up by the next one, and reported stale in between.

The scenario as an operator meets it: nights of 1 and 3 April load, the night of 2 April
finds the sources down. The next night extracts from where each entity's data stops (its
watermark), not from its own data interval, so nothing of 2 April is lost.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import psycopg
import pytest

from cchc.extract.connector import RetryPolicy, SourceError
from cchc.extract.entities import entities_of
from cchc.extract.freshness import record_freshness
from cchc.extract.run import extract_night
from cchc.extract.window import TZ, Window
from cchc.simulators.server import SimulatorProcess, free_port
from cchc.simulators.store import SimStore
from tests.extract.conftest import with_sim
from tests.extract.test_extract_from_simulators import loaded, served

ENTITIES = entities_of("onestop", "dossiers") + entities_of("portal", "dossier_syncs")
POLICY = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.05, timeout=5)


def interval(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, 1, tzinfo=TZ)
    return start, start + timedelta(days=1)


def run_night(settings, day: date) -> list:
    return [r for e in ENTITIES for r in extract_night(e, *interval(day), settings, POLICY)]


def stale_entities(settings, day: date) -> set[str]:
    with psycopg.connect(settings.warehouse_url) as conn:
        states = record_freshness(conn, f"night-{day}", interval(day)[1], "H40")
    return {s.entity for s in states if not s.is_fresh and s.entity in {e.name for e in ENTITIES}}


@pytest.fixture(scope="module")
def missed(settings, sim_store, make_database):
    from cchc import warehouse
    from tests.conftest import settings_using

    database = make_database("extract_missed_night")
    config = settings_using(settings, database)
    with psycopg.connect(database.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, config)  # extraction connects as the loader login
    record = {}
    with SimulatorProcess(sim_store, port=0) as sim:
        up = with_sim(config, sim)
        record["night 1"] = run_night(up, date(2024, 4, 1))
        dead = {s: f"http://:t@127.0.0.1:{free_port()}/{s}" for s in config.source_urls}
        with pytest.raises(SourceError):
            run_night(dataclasses.replace(config, source_urls=dead), date(2024, 4, 2))
        record["stale after the missed night"] = stale_entities(config, date(2024, 4, 2))
        record["night 3"] = run_night(up, date(2024, 4, 3))
        record["stale after night 3"] = stale_entities(config, date(2024, 4, 3))
    return config, record


def test_the_missed_night_is_reported_stale(missed):
    _, record = missed
    assert record["stale after the missed night"] == {e.name for e in ENTITIES}


def test_the_next_night_catches_it_up_in_its_own_batch(missed):
    _, record = missed
    for entity in ENTITIES:
        windows = [r.window for r in record["night 3"] if r.entity == entity.name]
        assert windows == [
            Window(datetime(2024, 4, 2, 0, tzinfo=TZ), datetime(2024, 4, 3, 1, tzinfo=TZ)),
            Window(datetime(2024, 4, 3, 0, tzinfo=TZ), datetime(2024, 4, 4, 1, tzinfo=TZ)),
        ]
    assert record["stale after night 3"] == set()


def test_every_record_of_the_missed_night_is_in_raw_and_nothing_else(missed, sim_store):
    config, _ = missed
    store = SimStore(sim_store)
    missed_night = [Window(datetime(2024, 4, 2, 1, tzinfo=TZ), datetime(2024, 4, 3, 1, tzinfo=TZ))]
    for entity in ENTITIES:
        in_raw = set(loaded(config, entity))
        of_the_night = served(store, entity, missed_night)
        assert of_the_night, "the night served nothing: the test would prove nothing"
        assert of_the_night <= in_raw, f"{entity.table}: {len(of_the_night - in_raw)} lost"
        assert in_raw == served(store, entity, published_windows(config, entity))


def published_windows(config, entity) -> list[Window]:
    with psycopg.connect(config.warehouse_url) as conn:
        rows = conn.execute(
            "select window_start, window_end from audit.load_batches"
            " where entity = %s and status = 'loaded'",
            [entity.name],
        ).fetchall()
    return [Window(start, end) for start, end in rows]
