"""Extraction against the simulators: nothing lost, nothing duplicated, reruns identical."""

from __future__ import annotations

import hashlib
import threading

import psycopg
import pytest

from cchc.extract.connector import RetryPolicy, SourceError
from cchc.extract.entities import ENTITIES, EVALUATION_ENDPOINTS, WINDOWED_ENTITIES, entities_of
from cchc.extract.loader import canonical_json
from cchc.extract.run import extract_entity
from cchc.simulators.server import SimulatorProcess
from cchc.simulators.store import SimStore
from tests.extract.conftest import night_windows, with_sim

FAST = RetryPolicy(attempts=8, initial_wait=0.01, max_wait=1.5, timeout=10)


def store_entity(entity) -> str:
    return entity.path.rsplit("/", 1)[-1]


def served(store: SimStore, entity, windows) -> set[tuple[str, str]]:
    """What the simulator serves for these windows, by its own listing: (key, payload hash)."""
    versions = set()
    for window in windows:
        for record in store.list(store_entity(entity), window.start, window.end):
            versions.add(
                (record[entity.key], hashlib.md5(canonical_json(record).encode()).hexdigest())
            )
    return versions


def loaded(settings, entity) -> list[tuple[str, str]]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(
            f"select record_key, payload_hash from {entity.table} order by 1, 2"
        ).fetchall()


def raw_checksum(settings) -> str:
    digest = hashlib.sha256()
    for entity in ENTITIES:
        for row in loaded(settings, entity):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_every_served_version_lands_exactly_once_despite_faults(
    settings, sim_store, extract_settings
):
    # A 12-hour overlap makes each night re-serve the afternoon before it.
    windows = night_windows(overlap_minutes=12 * 60)
    with SimulatorProcess(sim_store, port=0, faults="500:0.15,429:0.1,seed=3") as sim:
        config = with_sim(extract_settings, sim)
        for window in windows:
            for entity in ENTITIES:
                result = extract_entity(entity, window, config, FAST)
                assert result.reconciles, result.summary()
    store = SimStore(sim_store)
    for entity in WINDOWED_ENTITIES:
        rows = loaded(extract_settings, entity)
        assert len(rows) == len(set(rows)), f"{entity.table} holds a version twice"
        assert set(rows) == served(store, entity, windows), entity.table
    assert loaded(extract_settings, WINDOWED_ENTITIES[0]), (
        "nothing loaded: the test would prove nothing"
    )
    with psycopg.connect(extract_settings.warehouse_url) as conn:
        fetched, accounted = conn.execute(
            "select sum(fetched), sum(loaded + duplicates + quarantined) from audit.load_batches"
        ).fetchone()
        assert fetched == accounted
        # Overlapping windows serve some versions twice: counted as duplicates, stored once.
        assert conn.execute("select sum(duplicates) from audit.load_batches").fetchone()[0] > 0


def test_rerunning_a_night_leaves_raw_identical(settings, sim_store, extract_settings):
    windows = night_windows()
    with SimulatorProcess(sim_store, port=0) as sim:
        config = with_sim(extract_settings, sim)
        for window in windows[:3]:
            for entity in ENTITIES:
                extract_entity(entity, window, config, FAST)
        before = raw_checksum(extract_settings)
        for entity in ENTITIES:
            extract_entity(entity, windows[1], config, FAST)
        assert raw_checksum(extract_settings) == before


def test_updates_after_a_night_arrive_with_the_next_night(settings, sim_store, extract_settings):
    (dossiers,) = entities_of("onestop", "dossiers")
    first, second = night_windows()[:2]
    store = SimStore(sim_store)
    changed = {r["MaHoSo"] for r in store.list("dossiers", second.start, second.end)}
    seen_first = {r["MaHoSo"]: r for r in store.list("dossiers", first.start, first.end)}
    updated_later = changed & set(seen_first)
    assert updated_later, "the synthetic data should update some dossiers on a later night"
    with SimulatorProcess(sim_store, port=0) as sim:
        config = with_sim(extract_settings, sim)
        extract_entity(dossiers, first, config, FAST)
        with psycopg.connect(config.warehouse_url) as conn:
            count = "select count(*) from raw.onestop__dossiers where record_key = any(%s)"
            assert conn.execute(count, [list(updated_later)]).fetchone()[0] == len(updated_later)
            extract_entity(dossiers, second, config, FAST)
            # Both versions are kept; staging picks the latest.
            assert conn.execute(count, [list(updated_later)]).fetchone()[0] == 2 * len(
                updated_later
            )


def test_two_concurrent_runs_of_one_window_leave_correct_data(
    settings, sim_store, extract_settings
):
    window = night_windows()[0]
    (dossiers,) = entities_of("onestop", "dossiers")
    errors: list[BaseException] = []
    with SimulatorProcess(sim_store, port=0) as sim:
        config = with_sim(extract_settings, sim)

        def run() -> None:
            try:
                extract_entity(dossiers, window, config, FAST)
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    rows = loaded(extract_settings, dossiers)
    assert len(rows) == len(set(rows))
    assert set(rows) == served(SimStore(sim_store), dossiers, [window])


def test_exhausted_retries_name_source_entity_window_and_status(
    settings, sim_store, extract_settings
):
    (dossiers,) = entities_of("onestop", "dossiers")
    window = night_windows()[0]
    with SimulatorProcess(sim_store, port=0, faults="500:1.0") as sim:
        config = with_sim(extract_settings, sim)
        with pytest.raises(SourceError) as raised:
            extract_entity(
                dossiers, window, config, RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
            )
    message = str(raised.value)
    for part in ("'onestop'", "'dossiers'", str(window), "HTTP status: 500", "3 attempts"):
        assert part in message


def test_the_portals_monthly_evaluations_are_stored_as_served(
    settings, sim_store, extract_settings
):
    import httpx

    (evaluations,) = entities_of("portal", "evaluations")
    window = night_windows()[0]
    with SimulatorProcess(sim_store, port=0) as sim:
        config = with_sim(extract_settings, sim)
        first = extract_entity(evaluations, window, config, FAST)
        again = extract_entity(evaluations, window, config, FAST)
        served = httpx.get(f"{sim.url('portal')}/api/v1/evaluation/dvc-progress-tree",
                           params={"year": 2024, "month": 4},
                           headers={"Authorization": f"Bearer {sim.token}"}).json()["data"]  # fmt: skip
    assert first.loaded == 6 and again.loaded == 6  # six endpoints, one month; a rerun replaces
    with psycopg.connect(extract_settings.warehouse_url) as conn:
        rows = conn.execute(
            "select record_key, payload from raw.portal__evaluations order by 1"
        ).fetchall()
    assert [key for key, _ in rows] == sorted(f"{n}:2024-04" for n in EVALUATION_ENDPOINTS)
    stored = dict(rows)["dvc-progress-tree:2024-04"]
    assert stored["data"] == served and stored["Nam"] == 2024 and stored["Thang"] == 4
