"""The nightly DAG, run through real Airflow against the simulators on an embedded warehouse.

Checks what a user would: every record the sources served is in raw exactly once, the
indicator mart equals an independent computation from the served data, the export holds the
mart's numbers, data-quality results are recorded, and rerunning a night changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import openpyxl
import psycopg
import pytest

from cchc.exports.progress import COLUMNS
from cchc.extract.entities import ENTITIES, WINDOWED_ENTITIES
from cchc.extract.loader import canonical_json
from cchc.extract.run import BEGINNING, history_windows, load_history
from cchc.extract.window import Window, local_midnight
from cchc.orchestration import local_airflow
from cchc.simulators.server import SimulatorProcess
from cchc.simulators.store import SimStore
from cchc.synthetic import generate
from tests.conftest import settings_using
from tests.e2e.expected import expected_progress

HISTORY_START = date(2024, 3, 1)
NIGHTS = [date(2024, 4, 1), date(2024, 4, 2)]
COUNTS = [c for c, *_ in COLUMNS if c not in ("agency_code", "agency_name", "month_start")][:-2]


def windows(overlap_hours: int = 1) -> list[Window]:
    """The initial load's window, then each night's data interval widened by the overlap."""
    history = history_windows(NIGHTS[0])
    nights = [
        Window.for_interval(
            local_midnight(n) + timedelta(hours=1),
            local_midnight(n) + timedelta(hours=25),
            60 * overlap_hours,
        )
        for n in NIGHTS
    ]
    return [*history, *nights]


def raw_versions(conn, entity) -> list[tuple[str, str]]:
    return conn.execute(
        f"select record_key, payload_hash from {entity.table} order by 1, 2"
    ).fetchall()


def raw_checksum(conn) -> str:
    return hashlib.sha256(repr([raw_versions(conn, e) for e in ENTITIES]).encode()).hexdigest()


@pytest.fixture(scope="module")
def pipeline(settings, make_database):
    config = settings_using(settings, make_database("e2e"))
    store = generate(
        config.data_dir / "sim-e2e",
        HISTORY_START,
        NIGHTS[-1] + timedelta(days=2),
        seed=5,
        scale=0.01,
    )
    with (
        SimulatorProcess(store, port=config.sim_port, token=config.sim_token),
        psycopg.connect(config.warehouse_url) as conn,
    ):
        env = local_airflow.prepare(config)
        load_history(NIGHTS[0], config)
        runs = [local_airflow.run_night(config, night, env) for night in NIGHTS]
        checksum = raw_checksum(conn)
        conn.commit()
        rerun = local_airflow.run_night(config, NIGHTS[-1], env)
        checksum_after_rerun = raw_checksum(conn)
    return {
        "config": config,
        "store": SimStore(store),
        "runs": [*runs, rerun],
        "checksums": (checksum, checksum_after_rerun),
    }


@pytest.fixture
def conn(pipeline):
    with psycopg.connect(pipeline["config"].warehouse_url) as connection:
        yield connection


def test_each_night_ran_every_task_through_airflow(pipeline):
    for run in pipeline["runs"]:
        log = run.log_file.read_text()
        # One "succeeded" state change per task: bootstrap, each extract, freshness, raw checks,
        # dbt, mart checks, export, dbt docs.
        assert log.count("new_state=success") == 7 + len(ENTITIES), (
            f"not every task succeeded on {run.night}"
        )
        assert "DagRun Finished: dag_id=cchc_nightly" in log and "state=success" in log


def test_raw_holds_every_served_version_exactly_once(pipeline, conn):
    store = pipeline["store"]
    for entity in WINDOWED_ENTITIES:
        served = {
            (r[entity.key], hashlib.md5(canonical_json(r).encode()).hexdigest())
            for w in windows()
            for r in store.list(entity.path.rsplit("/", 1)[-1], w.start, w.end)
        }
        rows = raw_versions(conn, entity)
        assert rows and len(rows) == len(set(rows))
        assert set(rows) == served, entity.table
    fetched, accounted = conn.execute(
        "select sum(fetched), sum(loaded + duplicates + quarantined) from audit.load_batches"
    ).fetchone()
    assert fetched == accounted


def test_rerunning_a_night_leaves_raw_identical(pipeline):
    before, after = pipeline["checksums"]
    assert before == after


def test_progress_mart_equals_independent_computation(pipeline, conn):
    last = windows()[-1]
    dossiers = pipeline["store"].list("dossiers", local_midnight(BEGINNING), last.end)
    expected = expected_progress(dossiers)
    columns = ", ".join(COUNTS)
    rows = conn.execute(
        f"select agency_code, month_start, {columns}, on_time_ratio, progress_score from marts.mart_dossier_progress_monthly"
    ).fetchall()
    actual = {(r[0], r[1]): dict(zip(COUNTS, r[2:-2], strict=True)) for r in rows}
    assert set(actual) == set(expected)
    for key, counts in expected.items():
        assert actual[key] == {c: counts[c] for c in COUNTS}, key
    for row in rows:
        scope, on_time = expected[(row[0], row[1])]["dossiers_in_scope"], expected[(row[0], row[1])]
        ratio = (on_time["ended_on_time"] + on_time["open_on_time"]) / scope
        assert float(row[-2]) == pytest.approx(ratio, abs=1e-6)
        assert float(row[-1]) == pytest.approx(round(20 * ratio, 2), abs=0.005)


def test_export_holds_the_marts_numbers(pipeline, conn):
    exports = sorted(
        (pipeline["config"].province_export_dir / "nightly").glob("*/tien_do_giai_quyet_ho_so.xlsx")
    )
    assert exports, "no export written"
    sheet = openpyxl.load_workbook(exports[-1], read_only=True).active
    header = [c.value for c in next(sheet.iter_rows(min_row=4, max_row=4))]
    assert header[0] == "Mã đơn vị" and header[-1] == "Điểm tiến độ (tối đa 20)"
    cells = {
        (r[0], r[2].date().replace(day=1)): r
        for r in sheet.iter_rows(min_row=6, values_only=True)
        if r[0]
    }
    mart = conn.execute(
        f"select agency_code, month_start, {', '.join(COUNTS)}, progress_score from marts.mart_dossier_progress_monthly"
    ).fetchall()
    assert len(cells) == len(mart)
    for row in mart:
        cell = cells[(row[0], row[1])]
        assert list(cell[3 : 3 + len(COUNTS)]) == list(row[2:-1])
        assert cell[-1] == pytest.approx(float(row[-1]))


def test_quality_results_are_recorded_without_stopping_the_run(conn):
    rules = conn.execute("select rule_id, severity, success from dq.validation_runs").fetchall()
    assert {r[1] for r in rules} == {"structural", "data_entry"}
    assert all(success for _, severity, success in rules if severity == "structural")
