"""A local Airflow for the embedded mode: metadata in the embedded PostgreSQL, the repo's DAGs.

`run_night` runs one night with `airflow dags test`, which executes the DAG's tasks in one
process without a scheduler, in the order the scheduler would (the tests use it); the demo's
nights go through the scheduler itself (`cchc.orchestration.airflow_services`). Both share one
metadata database per data folder, so every run shows in the UI.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from cchc.config import LOCAL_TZ, REPO_ROOT, Settings
from cchc.orchestration.airflow_metadata import (
    METADATA_LAYOUT,
    ensure_metadata_database,
    metadata_env,
)
from cchc.orchestration.night_progress import TaskEvent, follow

POOLS_FILE = Path(__file__).with_name("pools.json")
NIGHTLY_DAG = "cchc_nightly"

# A government system must not phone home.
NO_TELEMETRY = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "SCARF_ANALYTICS": "false",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
}


class AirflowRunError(RuntimeError):
    def __init__(self, message: str, log_file: Path | None = None):
        super().__init__(message)
        self.log_file = log_file


class NightAlreadyRunning(AirflowRunError):
    """Another `cchc night run` holds the same DAG and night."""


def airflow_env(settings: Settings) -> dict[str, str]:
    home = settings.data_dir / "airflow"
    env = {
        **os.environ,
        **NO_TELEMETRY,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": LOCAL_TZ,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "CCHC_DATA_DIR": str(settings.data_dir),
        "CCHC_EXPORT_DIR": str(settings.export_dir),
        # single: one dbt task; per_model: one per model (cosmos, from the manifest `prepare` writes)
        "CCHC_DBT_TASKS": settings.dbt_tasks,
        # cosmos keeps its partial-parse cache with the rest of this Airflow, not in /tmp.
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        "PYTHONWARNINGS": "ignore",
    }
    # Embedded: its own database and login on the embedded server (airflow_metadata).
    env.update(metadata_env(settings))
    if settings.warehouse_url:
        env["CCHC_WAREHOUSE_URL"] = settings.warehouse_url
    for source, uri in settings.source_urls.items():
        env[f"AIRFLOW_CONN_CCHC_{source.upper()}"] = uri
    return env


def _airflow(args: list[str], env: dict[str, str], log_file: Path | None = None,
             on_task: Callable[[TaskEvent], None] | None = None) -> None:  # fmt: skip
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    if log_file is None:
        returncode, output = _run_as_group(command, env, subprocess.PIPE)
    else:
        with log_file.open("x") as out:  # "x": a run's log never overwrites another's
            returncode, _ = _run_as_group(command, env, out, log_file, on_task)
        output = log_file.read_text(errors="replace")
    if returncode != 0:
        where = f" (full log: {log_file})" if log_file else ""
        raise AirflowRunError(
            f"`airflow {' '.join(args)}` failed{where}:\n{output[-4000:]}", log_file
        )


def _run_as_group(
    command: list[str],
    env: dict[str, str],
    out,
    log_file: Path | None = None,
    on_task: Callable[[TaskEvent], None] | None = None,
) -> tuple[int, str]:
    """Run Airflow in its own process group, and take the whole group down with us: killing
    `cchc night run` (Ctrl-C, SIGTERM) must not leave `airflow dags test` and its task
    processes running on."""
    child = subprocess.Popen(
        command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    previous = _terminate_on_sigterm()
    try:
        if on_task is not None and log_file is not None:  # its log followed as it is written
            return follow(child, log_file, on_task), ""
        output, _ = child.communicate()
        return child.returncode, output or ""
    except BaseException:
        _stop_group(child)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_on_sigterm():
    """SIGTERM becomes SystemExit, so the `finally` clauses (stopping the child) run."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, leave)


def _stop_group(child: subprocess.Popen, grace_seconds: float = 10.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(grace_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def night_lock(runs_dir: Path, dag_id: str, night: date):
    """One run of a DAG's night at a time: a second `cchc night run` of it refuses at once,
    naming the one that holds it (two `airflow dags test` of one logical date collide in
    Airflow's metadata). The lock is the operating system's: it dies with its holder."""
    path = runs_dir / f".{dag_id}_{night:%Y-%m-%d}.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise NightAlreadyRunning(
                f"{dag_id} for night {night} is already running ({holder}); wait for it to "
                "finish, or stop it, before running the night again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(settings: Settings, env: dict[str, str] | None = None) -> dict[str, str]:
    """Bootstrap the warehouse (as its owner), then create or migrate Airflow's metadata
    database and its pools; skipped when already done.
    With per-model dbt tasks, also write the dbt manifest the DAG is drawn from (every time:
    the models may have changed; under a second when they have not)."""
    from importlib.metadata import version

    from cchc import warehouse

    # The deployment step the compose stack's airflow-init runs: roles, grants, ownership,
    # as the warehouse's owner. The tasks then connect with their own logins.
    with warehouse.connect(settings, autocommit=True) as conn:
        warehouse.bootstrap(conn, settings)
    env = env or airflow_env(settings)
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if settings.dbt_tasks == "per_model":
        from cchc.transform.dbt import dbt_parse

        dbt_parse()
    # Migrating and importing pools costs ~8 s: redo it only when Airflow or the pools change.
    created = settings.embedded and ensure_metadata_database(settings)
    stamp, wanted = (
        home / ".prepared",
        f"airflow {version('apache-airflow')}\n{METADATA_LAYOUT}\n{POOLS_FILE.read_text()}",
    )
    if not created and stamp.exists() and stamp.read_text() == wanted:
        return env
    _airflow(["db", "migrate"], env)
    _airflow(["pools", "import", str(POOLS_FILE)], env)
    stamp.write_text(wanted)
    return env


def _new_log_file(logs: Path, name: str) -> Path:
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}"
    candidates = [logs / f"{name}_{stamp}.log"]
    candidates += [logs / f"{name}_{stamp}-{n}.log" for n in range(2, 100)]
    return next(path for path in candidates if not path.exists())


@dataclass
class NightRun:
    night: date
    seconds: float
    log_file: Path


def run_night(
    settings: Settings,
    night: date,
    env: dict[str, str] | None = None,
    *,
    full_refresh: bool = False,
    on_task: Callable[[TaskEvent], None] | None = None,
) -> NightRun:
    """Run the nightly DAG for the night that starts on `night` (data interval: that day);
    `full_refresh` rebuilds every incremental model from raw (the DAG's param); `on_task`
    hears each task start and end while the night runs."""
    env = env or airflow_env(settings)
    logs = settings.data_dir / "runs"
    logs.mkdir(parents=True, exist_ok=True)
    # The run at 01:00 on D+1 covers the 24 hours of updates before it.
    logical = f"{night + timedelta(days=1):%Y-%m-%d}T01:00:00+07:00"
    started = time.perf_counter()
    conf = ["--conf", json.dumps({"full_refresh": True})] if full_refresh else []
    with night_lock(logs, NIGHTLY_DAG, night):
        # Each run its own log: a rerun keeps the failed run's log beside it.
        log_file = _new_log_file(logs, f"{NIGHTLY_DAG}_{night:%Y-%m-%d}")
        _airflow(["dags", "test", *conf, NIGHTLY_DAG, logical], env, log_file, on_task)
    states = re.findall(
        r"DagRun Finished: dag_id=\S+ .*?state=(\w+)", log_file.read_text(errors="replace")
    )
    if states[-1:] != ["success"]:
        raise AirflowRunError(
            f"{NIGHTLY_DAG} for night {night} ended {states[-1:] or 'without a state'}; log: {log_file}",
            log_file,
        )
    return NightRun(night, time.perf_counter() - started, log_file)
