"""The quarterly DAG imports cleanly, runs after each quarter closes, and waits, then exports."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from airflow.dag_processing.dagbag import DagBag
from dateutil.relativedelta import relativedelta

from cchc.config import REPO_ROOT
from cchc.exports.periods import Quarter

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "cchc_quarterly.py"))
    assert bag.import_errors == {}
    return bag.dags["cchc_quarterly"]


def test_runs_after_each_calendar_quarter_at_06_local(dag):
    timetable = dag.timetable
    assert timetable.expression == "0 6 1 1,4,7,10 *"
    assert str(timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert timetable.interval == relativedelta(months=3)  # data interval = the quarter
    assert dag.max_active_runs == 1 and "quarterly" in dag.tags


def test_tasks_owner_retries_and_order(dag):
    assert [t.task_id for t in dag.topological_sort()] == [
        "wait_for_fresh_sources",
        "export_quarter",
    ]
    for task in dag.tasks:
        assert task.owner == "cchc-data-platform" and task.retries >= 2
        assert task.retry_exponential_backoff
    sensor = dag.get_task("wait_for_fresh_sources")
    assert sensor.mode == "reschedule" and sensor.soft_fail and sensor.timeout > 0
    # After the wait times out (skipped), the export still runs with the stale warning.
    assert dag.get_task("export_quarter").trigger_rule == "none_failed"


@pytest.mark.parametrize(
    ("run_at", "kind", "label", "start", "end"),
    [
        (datetime(2024, 4, 1, 6, tzinfo=TZ), "calendar", "2024Q1", "2024-01-01", "2024-03-31"),
        (datetime(2025, 1, 1, 6, tzinfo=TZ), "calendar", "2024Q4", "2024-10-01", "2024-12-31"),
        (datetime(2024, 3, 15, 6, tzinfo=TZ), "legal", "2024Q1", "2023-12-15", "2024-03-14"),
        (datetime(2024, 12, 15, 6, tzinfo=TZ), "legal", "2024Q4", "2024-09-15", "2024-12-14"),
    ],
)
def test_a_run_exports_the_quarter_its_interval_closes(run_at, kind, label, start, end):
    quarter = Quarter.closed_by(run_at, kind)
    assert (quarter.label, str(quarter.start), str(quarter.end)) == (label, start, end)
    # The interval of 3 months before the run starts on (calendar) or in (legal) the quarter.
    assert Quarter.closed_by(run_at, kind) == Quarter.containing(
        (run_at - relativedelta(months=3)).date(), kind
    )
