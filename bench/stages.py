"""One night's stages called directly, and the same night through Airflow (`airflow dags test`):
the difference is what orchestration costs per night."""

from __future__ import annotations

import time
from datetime import date, timedelta

from cchc import warehouse
from cchc.config import Settings
from cchc.exports.progress import export_progress
from cchc.extract.run import extract, load_history
from cchc.extract.window import local_midnight
from cchc.orchestration import local_airflow
from cchc.quality import run_checks
from cchc.transform.dbt import dbt_build


def _timed(timings: dict, name: str, call):
    started = time.perf_counter()
    result = call()
    timings[name] = round(time.perf_counter() - started, 2)
    return result


def run(settings: Settings, night: date) -> dict:
    timings: dict[str, float] = {}
    pg = warehouse.params(settings)
    start = local_midnight(night) + timedelta(hours=1)
    _timed(timings, "initial load (history)", lambda: load_history(night, settings))
    _timed(
        timings,
        "extract one night (3 entities)",
        lambda: extract(start, start + timedelta(days=1), settings=settings),
    )
    _timed(timings, "dbt build", lambda: dbt_build(pg))
    _timed(timings, "GX checks", lambda: run_checks(pg, f"bench-{night}"))
    _timed(timings, "export", lambda: export_progress(start + timedelta(days=1), settings))
    direct = sum(v for k, v in timings.items() if k != "initial load (history)")
    timings["one night, stages called directly"] = round(direct, 2)
    env = local_airflow.prepare(settings)
    run = _timed(
        timings,
        "one night through Airflow (dags test)",
        lambda: local_airflow.run_night(settings, night, env),
    )
    del run
    timings["Airflow overhead per night"] = round(
        timings["one night through Airflow (dags test)"] - direct, 2
    )
    return timings
