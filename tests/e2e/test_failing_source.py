"""A source that is down: retried, reported, and the other sources and the marts still load."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import psycopg
import pytest

from cchc.orchestration import local_airflow
from cchc.simulators.server import SimulatorProcess, free_port
from cchc.synthetic import generate
from tests.conftest import settings_using

NIGHT = date(2024, 4, 2)


@pytest.fixture(scope="module")
def failed_night(settings, make_database, tmp_path_factory):
    config = settings_using(settings, make_database("e2e_failing_source"))
    # I-Office points at a port where nothing listens; the other two at the simulators.
    dead = f"http://:{config.sim_token}@127.0.0.1:{free_port()}/ioffice"
    config = dataclasses.replace(config, source_urls={**config.source_urls, "ioffice": dead})
    store = generate(
        tmp_path_factory.mktemp("sim"),
        NIGHT - timedelta(days=10),
        NIGHT + timedelta(days=2),
        seed=3,
        scale=0.01,
    )
    env = local_airflow.prepare(config)
    env.update(
        CCHC_RETRY_DELAY_SECONDS="1", CCHC_HTTP_ATTEMPTS="2", CCHC_HTTP_MAX_WAIT_SECONDS="0.2"
    )
    with (
        SimulatorProcess(store, port=config.sim_port, token=config.sim_token),
        pytest.raises(local_airflow.AirflowRunError) as failure,
    ):
        local_airflow.run_night(config, NIGHT, env)
    log = failure.value.log_file.read_text()
    return config, str(failure.value), log


def test_the_run_is_reported_failed(failed_night):
    _, message, log = failed_night
    assert "DagRun failed" in message
    assert "source 'ioffice'" in log and "giving up after 2 attempts" in log


def test_the_failing_source_was_retried_by_airflow(failed_night):
    _, _, log = failed_night
    # Both I-Office tasks ran three times: the first try and two retries.
    for entity in ("outgoing_documents", "incoming_documents"):
        assert log.count(f"starting task_id=extract_ioffice__{entity} ") == 3, entity
    assert "source 'ioffice', entity 'incoming_documents'" in log


def test_the_other_sources_and_the_marts_still_loaded(failed_night):
    config, _, _ = failed_night
    with psycopg.connect(config.warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.onestop__dossiers").fetchone()[0] > 0
        assert conn.execute("select count(*) from raw.portal__dossier_syncs").fetchone()[0] > 0
        assert conn.execute("select count(*) from marts.fct_dossiers").fetchone()[0] > 0
        stale = conn.execute(
            "select source, entity from audit.source_freshness where not is_fresh order by 1, 2"
        ).fetchall()
    assert stale == [("ioffice", "incoming_documents"), ("ioffice", "outgoing_documents")]
