"""Weekly digest per agency: dossiers at risk, apology letters due (Mẫu 04), data-entry
errors to correct before the month closes, and the Decision 766 components against the
province's thresholds with their trend.

Mondays 07:00 Asia/Ho_Chi_Minh, after the night's build. Each agency's HTML e-mail and XLSX
are written under `exports/<province>/digests/<ISO week>/`, then sent by SMTP when the
Airflow connection `cchc_smtp` exists (recipients from CCHC_DIGEST_RECIPIENTS), then
threshold alerts go out on the alert channel. A rerun of a week sends nothing twice.

Thin on purpose: the work lives in `cchc.digest`, imported inside the tasks.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from cchc.orchestration import dag_defaults
from cchc.orchestration.provinces import dag_id, provinces

LOCAL_TZ = "Asia/Ho_Chi_Minh"

default_args = dag_defaults.default_args()  # retries after 5 min, then up to 1 h apart


def weekly_digest_dag(province: str):
    """The weekly digest DAG of one province (`cchc_weekly_digest`, `…_h45`, ...)."""

    @dag(
        dag_id=dag_id("cchc_weekly_digest", province),
        description=f"{province}: weekly digest per agency (at risk, apology letters, data"
        " errors, 766 thresholds), e-mailed or written as files",
        schedule=CronTriggerTimetable("0 7 * * 1", timezone=LOCAL_TZ, interval=timedelta(days=7)),
        start_date=pendulum.datetime(2024, 1, 1, tz=LOCAL_TZ),
        catchup=False,
        max_active_runs=1,
        default_args=default_args,
        tags=["cchc", "weekly", "digest", province],
        doc_md=__doc__,
    )
    def cchc_weekly_digest():
        @task
        def write_digests(logical_date=None) -> dict:
            from cchc.digest.run import write_digests as write
            from cchc.orchestration.provinces import settings_for

            run_date = pendulum.instance(logical_date).in_timezone(LOCAL_TZ).date()
            summary = write(run_date, settings_for(province))
            print(f"{len(summary['agencies'])} digest(s) in {summary['folder']}"
                  f" (as of {summary['as_of']})")  # fmt: skip
            return summary

        @task
        def send_digests(summary: dict) -> dict:
            from airflow.exceptions import AirflowNotFoundException
            from airflow.sdk import BaseHook

            from cchc.digest.run import deliver
            from cchc.digest.settings import SMTP_CONNECTION_ID, SmtpSettings

            try:
                smtp = SmtpSettings.from_connection(BaseHook.get_connection(SMTP_CONNECTION_ID))
            except AirflowNotFoundException:
                smtp = None
            outcome = deliver(summary, smtp)
            print(outcome)
            return outcome

        @task
        def alert_thresholds(summary: dict) -> dict:
            from cchc.digest.run import alert_crossings

            outcome = alert_crossings(summary)
            print(f"{len(summary['crossings'])} threshold crossing(s): {outcome}")
            return outcome

        summary = write_digests()
        send_digests(summary) >> alert_thresholds(summary)

    return cchc_weekly_digest()


for _province in provinces():
    weekly_digest_dag(_province)
