"""Nightly CCHC pipeline: extract the three source systems, build the marts, check, export.

One DAG per province of the deployment (`cchc_nightly`, then `cchc_nightly_h45`, ...): each
extracts its province's systems; all build the same warehouse, one build at a time (pool
`cchc_warehouse_build`). Thin on purpose: the work lives in the `cchc` package, imported
inside the tasks so parsing this file touches neither the network nor the database.

dbt runs as one task (`build_marts`, CCHC_DBT_TASKS=single, the default) or as one task per
model with its tests (`dbt.*`, CCHC_DBT_TASKS=per_model; cosmos, drawn from the manifest that
`cchc dbt manifest` writes). Nights are incremental; trigger with `{"full_refresh": true}`
to rebuild the incremental models from scratch.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, Param, TriggerRule, dag, task

from cchc.config import load_settings
from cchc.extract.entities import ENTITIES
from cchc.orchestration import dag_defaults
from cchc.orchestration.provinces import dag_id, provinces

LOCAL_TZ = "Asia/Ho_Chi_Minh"
WAREHOUSE_POOL = "cchc_warehouse_build"

default_args = dag_defaults.default_args(
    # Configurable so tests of the failure path do not wait minutes; no I/O at parse time.
    retry_delay=timedelta(seconds=int(os.environ.get("CCHC_RETRY_DELAY_SECONDS", "60"))),
    max_retry_delay=timedelta(minutes=15),
)


def _check(stage: str, run_id: str, mode: str = "full") -> dict:
    """Great Expectations checkpoint of a stage; data-entry findings are recorded, not raised.
    `run_id` is unique across the provinces' DAGs (their Airflow run ids can coincide).
    `mode` 'night' examines the records changed since the last check (same flags as 'full')."""
    from cchc import warehouse
    from cchc.quality import run_checks

    # GX reads raw, staging and marts and writes dq: the transformer's privileges.
    summary = run_checks(warehouse.login_params("transformer"), run_id, stage=stage, mode=mode)
    print(f"examined (night check): {summary.examined}; in full: {summary.full_reasons}")
    for rule in summary.rules:
        print(
            f"{rule.severity:<10} {rule.rule_id:<36} {rule.unexpected_count:>7} of {rule.element_count}"
        )
    return {"flags": summary.flag_count, "data_docs": str(summary.data_docs_index)}


def raw_asset(qualified_name: str) -> Asset:
    return Asset(name=f"raw.{qualified_name}", uri=f"cchc://warehouse/raw/{qualified_name}")


def nightly_dag(province: str):
    """The nightly DAG of one province."""
    this_dag_id = dag_id("cchc_nightly", province)

    def check_id(run_id: str) -> str:
        # Airflow run ids of two provinces' DAGs coincide: the quality results must not.
        return run_id if this_dag_id == "cchc_nightly" else f"{run_id}@{province}"

    @dag(
        dag_id=this_dag_id,
        description=f"{province}: extract one-stop, portal and I-Office; build the CCHC marts;"
        " check data quality; export",
        # 01:00 local time, covering the 24 hours before it.
        schedule=CronTriggerTimetable("0 1 * * *", timezone=LOCAL_TZ, interval=timedelta(days=1)),
        start_date=pendulum.datetime(2024, 1, 1, tz=LOCAL_TZ),
        catchup=False,
        max_active_runs=1,
        default_args=default_args,
        tags=["cchc", "nightly", province],
        doc_md=__doc__,
        params={
            "full_refresh": Param(
                False,
                type="boolean",
                description="Rebuild the incremental models from scratch (dbt --full-refresh)"
                " and check every raw record, not only the night's",
            )
        },
    )
    def cchc_nightly():
        @task
        def prepare_warehouse() -> None:
            """Checks the warehouse was bootstrapped (roles, grants, the personal-data hash
            function: a deployment step run as its owner, never by a task), then loads the
            seeds as the transformer if missing."""
            from cchc import warehouse
            from cchc.transform.dbt import ensure_seeds

            transformer = warehouse.login_params("transformer")
            warehouse.check_bootstrapped(transformer)
            ensure_seeds(transformer)  # the raw checks count working days with the holidays

        @task
        def extract(
            source: str, entity: str, data_interval_start=None, data_interval_end=None
        ) -> dict:
            from airflow.sdk import BaseHook

            from cchc.extract.connector import SourceConnection
            from cchc.extract.entities import entities_of
            from cchc.extract.run import extract_night
            from cchc.orchestration.provinces import settings_for, source_connection_id
            from cchc.security import mask_connection_secrets

            def airflow_connection(name: str) -> SourceConnection:
                uri = BaseHook.get_connection(source_connection_id(province, name)).get_uri()
                mask_connection_secrets(uri)  # the token never reaches a task log
                return SourceConnection.from_uri(uri)

            # From the entity's watermark to the interval's end: a missed night is caught up.
            (target,) = entities_of(source, entity)
            results = extract_night(
                target, data_interval_start, data_interval_end,
                settings=settings_for(province), lookup=airflow_connection,
            )  # fmt: skip
            for result in results:
                print(result.summary())
            return {
                "batch_ids": [r.batch_id for r in results],
                "fetched": sum(r.fetched for r in results),
                "loaded": sum(r.loaded for r in results),
                "duplicates": sum(r.duplicates for r in results),
                "quarantined": sum(r.quarantined for r in results),
            }

        @task(trigger_rule=TriggerRule.ALL_DONE)
        def record_freshness(run_id=None, data_interval_end=None) -> None:
            """Runs whatever the extracts did; fails the run (and alerts) if a source is stale."""
            from cchc import warehouse
            from cchc.extract.freshness import StaleSourceError, record_freshness
            from cchc.orchestration.provinces import settings_for

            settings = settings_for(province)
            with warehouse.connect_as("loader", settings) as conn:
                states = record_freshness(conn, run_id, data_interval_end, province)
            for state in states:
                print(state)
            stale = [str(s) for s in states if not s.is_fresh]
            if stale:
                raise StaleSourceError(
                    f"{province}: stale sources (marts were built on the rest): " + "; ".join(stale)
                )

        # The marts are rebuilt on whatever is fresh: one failing source does not hold back the
        # others. One build at a time in the warehouse, whichever province's DAG starts it.
        @task(pool=WAREHOUSE_POOL)
        def build_marts(params=None) -> None:
            from cchc import warehouse
            from cchc.transform.dbt import dbt_build

            # unit tests run in CI, not on every night's data
            dbt_build(
                pg=warehouse.login_params("transformer"),
                full_refresh=bool(params["full_refresh"]),
                unit_tests=False,
            )

        # Raw checks run on whatever loaded; a structural failure stops the run before the marts.
        # The night's records and what they link to; every record on the weekly full check or
        # with full_refresh.
        @task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS)
        def check_raw(run_id=None, params=None, data_interval_start=None) -> dict:
            from cchc.quality.night import nightly_mode

            night_of = (
                pendulum.instance(data_interval_start).in_tz(LOCAL_TZ).date()
                if data_interval_start
                else None
            )
            mode = nightly_mode(bool(params["full_refresh"]), night_of)
            return _check("raw", check_id(run_id), mode)

        @task
        def check_marts(run_id=None) -> dict:
            return _check("marts", check_id(run_id))

        @task
        def export_indicators(data_interval_start=None, data_interval_end=None) -> str:
            from airflow.exceptions import AirflowSkipException

            from cchc.exports.progress import NightNotReproducible, export_progress
            from cchc.extract.window import TZ
            from cchc.orchestration.provinces import settings_for

            # The night's own date names the folder; its horizon is the window's end.
            night = data_interval_start.astimezone(TZ).date() if data_interval_start else None
            try:
                path = export_progress(data_interval_end, settings_for(province), night)
            except NightNotReproducible as refused:
                # A rerun of a past night after later ones: its file stays as it was written.
                raise AirflowSkipException(str(refused)) from refused
            print(f"export written: {path}")
            return str(path)

        # The dbt docs beside the exports (exports/docs/index.html), from the marts just built;
        # dbt again, so in the build pool.
        @task(pool=WAREHOUSE_POOL)
        def publish_docs() -> str:
            from cchc import warehouse
            from cchc.transform.docs_site import publish_docs as publish

            path = publish(pg=warehouse.login_params("transformer"))
            print(f"dbt docs written: {path}")
            return str(path)

        extracts = [
            extract.override(
                task_id=f"extract_{e.qualified_name}",
                pool=f"cchc_source_{e.source}",
                outlets=[raw_asset(e.qualified_name)],
            )(e.source, e.name)
            for e in ENTITIES
        ]
        if load_settings().dbt_tasks == "per_model":
            # One task per model, all in the one-slot pool: never two dbt commands at once in
            # the warehouse, across every province's DAG.
            from cchc.transform.dbt_tasks import dbt_task_group

            marts = dbt_task_group(pool=WAREHOUSE_POOL)
        else:
            marts = build_marts()
        checked = check_raw()
        checked_marts = check_marts()
        prepare_warehouse() >> extracts >> checked >> marts >> checked_marts
        checked_marts >> [export_indicators(), publish_docs()]
        extracts >> record_freshness()

    return cchc_nightly()


for _province in provinces():
    nightly_dag(_province)
