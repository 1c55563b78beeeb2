"""Nights run by the scheduler itself, as in production: the demo's way of running them.

The services (`airflow_services`) run with the cron switched off, so only these nights run;
each night is a scheduler-driven backfill of its logical date (a rerun runs it again), its
tasks executed by the LocalExecutor in parallel, their logs kept where the UI reads them.
Afterwards the DAG is paused again and the services are left as they were found.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cchc.config import Settings
from cchc.orchestration import airflow_services as services
from cchc.orchestration.local_airflow import NIGHTLY_DAG, AirflowRunError


@dataclass
class ScheduledNight:
    night: date
    run_id: str
    state: str
    seconds: float


def run_after(night: date) -> str:
    """The run at 01:00 on D+1 covers the 24 hours of updates before it (Airflow dates the
    run by its data interval's start and schedules it after the interval's end)."""
    return f"{night + timedelta(days=1):%Y-%m-%d}T01:00:00+07:00"


def source_connections(settings: Settings) -> list[dict]:
    """The first province's source connections, as the tasks see them, for the UI's list."""
    from urllib.parse import urlsplit

    connections = []
    for source, uri in settings.source_urls.items():
        parts = urlsplit(uri)
        connections.append({
            "connection_id": f"cchc_{source}",
            "conn_type": parts.scheme or "http",
            "host": parts.hostname,
            "port": parts.port,
            "schema": parts.path.lstrip("/") or None,
            "password": parts.password,
            "description": f"{source} source system (the simulator in the embedded mode)",
        })  # fmt: skip
    return connections


@contextmanager
def demo_services(settings: Settings, port: int | None = None) -> Iterator[services.ApiClient]:
    """The services with the cron off, for as long as the nights take; services that were
    running before are restarted as they were (cron on) afterwards."""
    was_running = bool(services.running_pids(settings))
    services.stop(settings)
    try:
        started = services.start(settings, port, schedules=False)
        client = services.ApiClient(started.url, started.admin_password)
        client.started = started
        client.wait_for_dag(NIGHTLY_DAG)
        for connection in source_connections(settings):
            client.put_connection(connection)
        client.set_paused(NIGHTLY_DAG, False)
        try:
            yield client
        finally:
            client.set_paused(NIGHTLY_DAG, True)
    finally:
        services.stop(settings)
        if was_running:
            services.start(settings, port)


def _seconds(run: dict) -> float:
    start, end = run.get("start_date"), run.get("end_date")
    if not (start and end):
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def run_night(
    client: services.ApiClient,
    night: date,
    *,
    full_refresh: bool = False,
    timeout: float = 1800,
    poll: Callable[[], None] | None = None,
) -> ScheduledNight:
    """One night through the scheduler; raises AirflowRunError unless it succeeds."""
    when = run_after(night)
    conf = {"full_refresh": True} if full_refresh else {}
    backfill_id = client.backfill(NIGHTLY_DAG, when, when, conf)
    deadline = time.monotonic() + timeout
    while not client.backfill_done(backfill_id):
        if time.monotonic() > deadline:
            raise AirflowRunError(
                f"{NIGHTLY_DAG} for night {night} still running after {timeout:.0f}s"
            )
        if poll:
            poll()
        time.sleep(3)
    run = client.run_at(NIGHTLY_DAG, when)
    outcome = ScheduledNight(night, run["dag_run_id"], run["state"], _seconds(run))
    if outcome.state != "success":
        raise AirflowRunError(
            f"{NIGHTLY_DAG} for night {night} ended {outcome.state} (run {outcome.run_id}); "
            f"see its task logs in the Airflow UI or {client.url}"
        )
    return outcome
