"""A local Airflow for the embedded mode: metadata in the embedded PostgreSQL, the repo's DAGs.

`run_night` runs one night with `airflow dags test`, which executes the DAG's tasks in one
process without a scheduler, in the order the scheduler would (the tests use it); the demo's
nights go through the scheduler itself (`cchc.orchestration.airflow_services`). Both share one
metadata database per data folder, so every run shows in the UI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from cchc.config import LOCAL_TZ, REPO_ROOT, Settings
from cchc.orchestration.airflow_metadata import (
    METADATA_LAYOUT,
    ensure_metadata_database,
    metadata_env,
)

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
    pass


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


def _airflow(args: list[str], env: dict[str, str], log_file: Path | None = None) -> None:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    if log_file is None:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        output = result.stdout + result.stderr
    else:
        with log_file.open("w") as out:
            result = subprocess.run(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
            )
        output = log_file.read_text(errors="replace")
    if result.returncode != 0:
        where = f" (full log: {log_file})" if log_file else ""
        raise AirflowRunError(f"`airflow {' '.join(args)}` failed{where}:\n{output[-4000:]}")


def prepare(settings: Settings, env: dict[str, str] | None = None) -> dict[str, str]:
    """Create or migrate Airflow's metadata database and its pools; skipped when already done.
    With per-model dbt tasks, also write the dbt manifest the DAG is drawn from (every time:
    the models may have changed; under a second when they have not)."""
    from importlib.metadata import version

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
) -> NightRun:
    """Run the nightly DAG for the night that starts on `night` (data interval: that day);
    `full_refresh` rebuilds every incremental model from raw (the DAG's param)."""
    env = env or airflow_env(settings)
    logs = settings.data_dir / "runs"
    logs.mkdir(parents=True, exist_ok=True)
    log_file = logs / f"{NIGHTLY_DAG}_{night:%Y-%m-%d}.log"
    # The run at 01:00 on D+1 covers the 24 hours of updates before it.
    logical = f"{night + timedelta(days=1):%Y-%m-%d}T01:00:00+07:00"
    started = time.perf_counter()
    conf = ["--conf", json.dumps({"full_refresh": True})] if full_refresh else []
    _airflow(["dags", "test", *conf, NIGHTLY_DAG, logical], env, log_file)
    states = re.findall(
        r"DagRun Finished: dag_id=\S+ .*?state=(\w+)", log_file.read_text(errors="replace")
    )
    if states[-1:] != ["success"]:
        raise AirflowRunError(
            f"{NIGHTLY_DAG} for night {night} ended {states[-1:] or 'without a state'}; log: {log_file}"
        )
    return NightRun(night, time.perf_counter() - started, log_file)
