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
from cchc.transform.dbt import dbt_build, ensure_seeds


def _timed(timings: dict, name: str, call):
    started = time.perf_counter()
    result = call()
    timings[name] = round(time.perf_counter() - started, 2)
    return result


def _bootstrap(settings: Settings) -> None:
    with warehouse.connect(settings, autocommit=True) as conn:
        warehouse.bootstrap(conn, settings)
    ensure_seeds(warehouse.login_params("transformer", settings))


def run_direct(settings: Settings, night: date) -> dict:
    """The initial load, then one night's stages called directly, each with the login its
    task uses (the loader extracts; dbt, GX and the export run as the transformer)."""
    timings: dict[str, float] = {}
    pg = warehouse.login_params("transformer", settings)
    start = local_midnight(night) + timedelta(hours=1)
    _bootstrap(settings)
    _timed(timings, "initial load (history)", lambda: load_history(night, settings))
    # A deployment's first check examines the history; the night's then examines its changes.
    _timed(timings, "raw checks of the history (full)", lambda: run_checks(pg, "bench-history", stage="raw", mode="full"))  # fmt: skip
    night_stages = [
        ("bootstrap (roles, grants, hash function)", lambda: _bootstrap(settings)),
        ("extract one night (10 entities)", lambda: extract(start, start + timedelta(days=1), settings=settings)),
        ("GX raw checkpoint (night check)", lambda: run_checks(pg, f"bench-{night}", stage="raw", mode="night")),
        ("dbt build (nightly: no unit tests)", lambda: dbt_build(pg, unit_tests=False)),
        ("GX marts checkpoint", lambda: run_checks(pg, f"bench-{night}", stage="marts")),
    ]  # fmt: skip
    for name, call in night_stages:  # the nightly DAG's tasks, in its order
        _timed(timings, name, call)
    _timed(timings, "export", lambda: export_progress(start + timedelta(days=1), settings))
    before_night = ("initial load (history)", "raw checks of the history (full)")
    direct = sum(v for k, v in timings.items() if k not in before_night)
    timings["one night, stages called directly"] = round(direct, 2)
    return timings


def run(settings: Settings, night: date) -> dict:
    timings = run_direct(settings, night)
    direct = timings["one night, stages called directly"]
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
