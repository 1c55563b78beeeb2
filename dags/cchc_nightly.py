"""Nightly CCHC pipeline: extract the three source systems, build the marts, check, export.

Thin on purpose: the work lives in the `cchc` package, imported inside the tasks so parsing
this file touches neither the network nor the database.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, TriggerRule, dag, task

from cchc.alerts import on_failure_callback
from cchc.extract.entities import ENTITIES

LOCAL_TZ = "Asia/Ho_Chi_Minh"

default_args = {
    "owner": "cchc-data-platform",
    "retries": 2,
    # Configurable so tests of the failure path do not wait minutes; no I/O at parse time.
    "retry_delay": timedelta(seconds=int(os.environ.get("CCHC_RETRY_DELAY_SECONDS", "60"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "on_failure_callback": on_failure_callback,  # webhook / e-mail, see docs/runbook.md
}


def _check(stage: str, run_id: str) -> dict:
    """Great Expectations checkpoint of a stage; data-entry findings are recorded, not raised."""
    from cchc import warehouse
    from cchc.quality import run_checks

    summary = run_checks(warehouse.params(), run_id, stage=stage)
    for rule in summary.rules:
        print(
            f"{rule.severity:<10} {rule.rule_id:<36} {rule.unexpected_count:>7} of {rule.element_count}"
        )
    return {"flags": summary.flag_count, "data_docs": str(summary.data_docs_index)}


def raw_asset(qualified_name: str) -> Asset:
    return Asset(name=f"raw.{qualified_name}", uri=f"cchc://warehouse/raw/{qualified_name}")


@dag(
    dag_id="cchc_nightly",
    description="Extract one-stop, portal and I-Office; build CCHC marts; check data quality; export",
    # 01:00 local time, covering the 24 hours before it.
    schedule=CronTriggerTimetable("0 1 * * *", timezone=LOCAL_TZ, interval=timedelta(days=1)),
    start_date=pendulum.datetime(2024, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["cchc", "nightly"],
    doc_md=__doc__,
)
def cchc_nightly():
    @task
    def prepare_warehouse() -> None:
        """Schemas, roles, grants and the personal-data hash function, before anything writes."""
        from cchc import warehouse
        from cchc.transform.dbt import ensure_seeds

        with warehouse.connect(autocommit=True) as conn:
            print(warehouse.bootstrap(conn).summary())
        ensure_seeds()  # the raw checks count working days with the holiday calendar

    @task
    def extract(source: str, entity: str, data_interval_start=None, data_interval_end=None) -> dict:
        from airflow.sdk import BaseHook

        from cchc.extract.connector import SourceConnection
        from cchc.extract.run import extract as run_extract
        from cchc.security import mask_connection_secrets

        def airflow_connection(name: str) -> SourceConnection:
            uri = BaseHook.get_connection(f"cchc_{name}").get_uri()
            mask_connection_secrets(uri)  # the token never reaches a task log
            return SourceConnection.from_uri(uri)

        (result,) = run_extract(
            data_interval_start, data_interval_end, source, entity, lookup=airflow_connection
        )
        print(result.summary())
        return {
            "batch_id": result.batch_id,
            "fetched": result.fetched,
            "loaded": result.loaded,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
        }

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def record_freshness(run_id=None, data_interval_end=None) -> None:
        """Runs whatever the extracts did; fails the run (and alerts) if a source is stale."""
        from cchc import warehouse
        from cchc.config import load_settings
        from cchc.extract.freshness import StaleSourceError, record_freshness

        settings = load_settings()
        with warehouse.connect(settings) as conn:
            states = record_freshness(conn, run_id, data_interval_end, settings.province_code)
        for state in states:
            print(state)
        stale = [str(s) for s in states if not s.is_fresh]
        if stale:
            raise StaleSourceError(
                "stale sources (marts were built on the rest): " + "; ".join(stale)
            )

    # The marts are rebuilt on whatever is fresh: one failing source does not hold back the others.
    @task
    def build_marts() -> None:
        from cchc.transform.dbt import dbt_build

        dbt_build(unit_tests=False)  # unit tests run in CI, not on every night's data

    # Raw checks run on whatever loaded; a structural failure stops the run before the marts.
    @task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS)
    def check_raw(run_id=None) -> dict:
        return _check("raw", run_id)

    @task
    def check_marts(run_id=None) -> dict:
        return _check("marts", run_id)

    @task
    def export_indicators(data_interval_end=None) -> str:
        from cchc.exports.progress import export_progress

        path = export_progress(as_of=data_interval_end)
        print(f"export written: {path}")
        return str(path)

    extracts = [
        extract.override(
            task_id=f"extract_{e.qualified_name}",
            pool=f"cchc_source_{e.source}",
            outlets=[raw_asset(e.qualified_name)],
        )(e.source, e.name)
        for e in ENTITIES
    ]
    marts = build_marts()
    prepare_warehouse() >> extracts >> check_raw() >> marts >> check_marts() >> export_indicators()
    extracts >> record_freshness()


cchc_nightly()
