"""Every DAG imports cleanly, fast, without touching the network or the database."""

from __future__ import annotations

import pytest
from airflow.dag_processing.dagbag import DagBag

from cchc.config import REPO_ROOT


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAG found in dags/"


def test_every_dag_has_tags_owner_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries {task.retries} < 2"


def test_nightly_schedule_is_01_local_time(dagbag):
    dag = dagbag.dags["cchc_nightly"]
    timetable = dag.timetable
    assert timetable.expression == "0 1 * * *"
    assert str(timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert timetable.interval.total_seconds() == 24 * 3600  # each night covers the day before
    assert dag.max_active_runs == 1
    assert not dag.catchup


def test_sources_extract_in_parallel_with_a_pool_each(dagbag):
    dag = dagbag.dags["cchc_nightly"]
    extracts = [t for t in dag.tasks if t.task_id.startswith("extract_")]
    assert {t.pool for t in extracts} == {
        "cchc_source_onestop",
        "cchc_source_portal",
        "cchc_source_ioffice",
    }
    for task in extracts:
        # Only the warehouse bootstrap comes first; no source waits for another.
        assert task.upstream_task_ids == {"prepare_warehouse"}, task.task_id
        assert task.outlets, f"{task.task_id} publishes no asset"


def test_failures_alert(dagbag):
    from cchc.alerts import on_failure_callback

    for task in dagbag.dags["cchc_nightly"].tasks:
        assert (
            on_failure_callback in (task.on_failure_callback or [])
            or task.on_failure_callback == on_failure_callback
        )


def test_each_province_of_the_deployment_gets_its_own_dags(monkeypatch):
    """A second province: its own DAG ids, tags and source connections; one dbt build at a time."""
    monkeypatch.setenv("CCHC_PROVINCES", "H40,H45")
    for source in ("ONESTOP", "PORTAL", "IOFFICE"):
        monkeypatch.setenv(f"AIRFLOW_CONN_CCHC_H45_{source}", f"http://:t@qt.example/{source}")
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    assert {"cchc_nightly", "cchc_nightly_h45", "cchc_quarterly", "cchc_quarterly_h45",
            "cchc_weekly_digest", "cchc_weekly_digest_h45"} <= set(bag.dags)  # fmt: skip
    assert "H45" in bag.dags["cchc_nightly_h45"].tags
    for dag_id in ("cchc_nightly", "cchc_nightly_h45"):
        assert bag.dags[dag_id].get_task("build_marts").pool == "cchc_warehouse_build"

    from cchc.config import load_settings
    from cchc.orchestration.provinces import settings_for, source_connection_id

    assert source_connection_id("H40", "onestop") == "cchc_onestop"
    assert source_connection_id("H45", "onestop") == "cchc_h45_onestop"
    quang_tri = settings_for("H45")
    assert quang_tri.province_code == "H45" and quang_tri.province_name == "tỉnh Quảng Trị"
    assert quang_tri.source_urls["portal"] == "http://:t@qt.example/PORTAL"
    assert quang_tri.province_export_dir != load_settings().province_export_dir


def test_a_province_without_its_connections_is_a_clear_error(monkeypatch):
    """Outside Airflow (the CLI) a further province's connections come from the environment;
    inside, Airflow's own lookup finds them wherever they are stored."""
    monkeypatch.setenv("CCHC_PROVINCES", "H40,H45")
    from cchc.extract.run import connection_for
    from cchc.orchestration.provinces import settings_for

    quang_tri = settings_for("H45")
    with pytest.raises(ValueError, match="AIRFLOW_CONN_CCHC_H45_ONESTOP"):
        connection_for("onestop", quang_tri)
