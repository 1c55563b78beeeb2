"""Quarterly CCHC export: form 06/VPCP/KSTT, the 766 scorecard, annexes and the HTML report.

Runs after each quarter closes, 06:00 Asia/Ho_Chi_Minh: on the 1st of the month after a
calendar quarter, or on the 15th (the day after the legal reporting quarter closes, Decree
09/2019) when CCHC_QUARTERLY_PERIOD_KIND=legal. The data interval is the quarter, so a
backfill over past dates exports each past quarter. The export waits (reschedule mode, no
worker slot held) until every source is loaded past the quarter's end; after
CCHC_QUARTERLY_WAIT_HOURS (72) it exports anyway, with the stale-source warning in the files.

Thin on purpose: the work lives in `cchc.exports`, imported inside the tasks.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import CronTriggerTimetable, PokeReturnValue, TriggerRule, dag, task
from dateutil.relativedelta import relativedelta

from cchc.orchestration import dag_defaults
from cchc.orchestration.provinces import dag_id, provinces

LOCAL_TZ = "Asia/Ho_Chi_Minh"
# Reading the environment is free at parse time; Variables would query the database.
PERIOD_KIND = os.environ.get("CCHC_QUARTERLY_PERIOD_KIND", "calendar")
WAIT_HOURS = float(os.environ.get("CCHC_QUARTERLY_WAIT_HOURS", "72"))
CRON = {
    "calendar": "0 6 1 1,4,7,10 *",  # 1 Jan/Apr/Jul/Oct: the calendar quarter just closed
    "legal": "0 6 15 3,6,9,12 *",  # 15 Mar/Jun/Sep/Dec: legal quarter closed on the 14th
}

default_args = dag_defaults.default_args()  # retries after 5 min, then up to 1 h apart


def quarterly_dag(province: str):
    """The quarterly export DAG of one province (`cchc_quarterly`, `cchc_quarterly_h45`, ...)."""

    @dag(
        dag_id=dag_id("cchc_quarterly", province),
        description=f"{province}: quarterly CCHC export (form 06/VPCP/KSTT, 766 scorecard,"
        " annexes) after each quarter",
        # interval = 3 months: the run's data interval is the quarter that just closed.
        schedule=CronTriggerTimetable(
            CRON[PERIOD_KIND], timezone=LOCAL_TZ, interval=relativedelta(months=3)
        ),
        start_date=pendulum.datetime(2024, 1, 1, tz=LOCAL_TZ),
        catchup=False,  # past quarters: `airflow backfill create --dag-id cchc_quarterly …`
        max_active_runs=1,
        default_args=default_args,
        tags=["cchc", "quarterly", "export", province],
        doc_md=__doc__,
    )
    def cchc_quarterly():
        @task.sensor(
            poke_interval=timedelta(minutes=30).total_seconds(),
            timeout=timedelta(hours=WAIT_HOURS).total_seconds(),
            mode="reschedule",
            soft_fail=True,  # on timeout the sensor is skipped and the export still runs
        )
        def wait_for_fresh_sources(data_interval_end=None) -> PokeReturnValue:
            """Done when every source's watermark is at or after the quarter's end."""
            from cchc import warehouse
            from cchc.exports.freshness import read_freshness
            from cchc.exports.periods import Quarter
            from cchc.orchestration.provinces import settings_for

            quarter = Quarter.closed_by(data_interval_end, PERIOD_KIND)
            # audit's watermarks, read with the exports' login, never the owner's
            with warehouse.connect_as("transformer", settings_for(province)) as conn:
                freshness = read_freshness(conn, quarter, province)
            print(
                f"{province} {quarter.folder_name}: {freshness.as_of_vi()}; stale={freshness.stale}"
            )
            return PokeReturnValue(is_done=not freshness.stale, xcom_value=quarter.folder_name)

        @task(trigger_rule=TriggerRule.NONE_FAILED)
        def export_quarter(data_interval_end=None) -> dict:
            from cchc.exports.periods import Quarter
            from cchc.exports.quarterly import export_quarter as run_export
            from cchc.orchestration.provinces import settings_for

            quarter = Quarter.closed_by(data_interval_end, PERIOD_KIND)
            result = run_export(quarter, settings_for(province))
            print(f"quarterly export written: {result.folder}")
            for path in result.files:
                print(f"  {path.name}")
            if result.stale:
                print(result.freshness.warning_en())
            return {"folder": str(result.folder), "stale": result.stale,
                    "content_sha256": result.manifest["content_sha256"]}  # fmt: skip

        wait_for_fresh_sources() >> export_quarter()

    return cchc_quarterly()


for _province in provinces():
    quarterly_dag(_province)
