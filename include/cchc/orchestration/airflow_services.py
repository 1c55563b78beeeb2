"""Airflow as engineers run it: api-server (the UI), scheduler, dag-processor and triggerer.

`cchc airflow start|stop|status`. The services run in the background, each in its own process
group, with their output in `<data dir>/airflow/services/<service>.log` and their pid beside
it. Metadata lives in the embedded PostgreSQL (`cchc.orchestration.airflow_metadata`), the
LocalExecutor runs tasks in parallel, and everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cchc.config import Settings, _env
from cchc.orchestration import airflow_metadata
from cchc.orchestration.local_airflow import airflow_env, prepare
from cchc.processes import alive, port_free

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# A 2-CPU machine: more parallel tasks would only queue on the CPU.
PARALLELISM = 4


class AirflowServiceError(RuntimeError):
    pass


def api_port() -> int:
    return int(_env("CCHC_AIRFLOW_PORT", str(DEFAULT_PORT)))


def services_dir(settings: Settings) -> Path:
    return settings.data_dir / "airflow" / "services"


def services_env(settings: Settings, port: int, *, schedules: bool = True) -> dict[str, str]:
    """The environment of every service: the local Airflow's (`airflow_env`), its metadata
    database and secrets, the LocalExecutor, loopback addresses. `schedules=False` runs only
    what is triggered or backfilled (the demo's nights), never the cron's own runs."""
    base = f"http://{HOST}:{port}"
    # Real services, even when started from a test session.
    inherited = {
        k: v for k, v in airflow_env(settings).items() if k != "AIRFLOW__CORE__UNIT_TEST_MODE"
    }
    return {
        **inherited,
        **airflow_metadata.metadata_env(settings),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        # The api-server's first task start after it boots can take half a minute on a busy
        # 2-CPU machine; Airflow's 5 s client timeout would then fail the task's first try.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        # The tasks use the warehouse these settings name, whatever the caller's environment.
        "CCHC_PG_PORT_EMBEDDED": str(settings.embedded_port),
        # One API worker is plenty for a few engineers and spares the 2-CPU machine.
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(schedules),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }


def _pid_file(settings: Settings, service: str) -> Path:
    return services_dir(settings) / f"{service}.pid"


def running_pids(settings: Settings) -> dict[str, int]:
    """The services whose recorded process is alive."""
    pids = {}
    for service in SERVICES:
        path = _pid_file(settings, service)
        if path.exists():
            pid = int(path.read_text().split()[0])
            if alive(pid):
                pids[service] = pid
    return pids


@dataclass
class Started:
    url: str
    admin_password: str
    password_is_new: bool
    password_file: Path
    already_running: bool


def start(
    settings: Settings, port: int | None = None, *, schedules: bool = True, timeout: float = 180
) -> Started:
    """Prepare the metadata database (migrate, pools, connections) and start the four
    services; a no-op for those already running. Returns when the UI answers and the
    scheduler reports healthy."""
    port = port or api_port()
    running = running_pids(settings)
    password, new = airflow_metadata.admin_password(settings)
    url = f"http://{HOST}:{port}"
    started = Started(url, password, new, airflow_metadata.admin_password_file(settings), False)
    if set(running) == set(SERVICES):
        started.already_running = True
        started.url = _recorded_url(settings) or url
        return started
    if not running:
        _ensure_port_free(port)
    env = services_env(settings, port, schedules=schedules)
    prepare(settings, env)
    folder = services_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    for service in SERVICES:
        if service in running:
            continue
        args = [airflow, service]
        if service == "api-server":
            args += ["--host", HOST, "--port", str(port)]
        elif service in ("scheduler", "triggerer"):
            # Their log servers would listen on every interface; the UI runs on this machine
            # and reads the task and trigger logs from the files directly.
            args.append("--skip-serve-logs")
        with (folder / f"{service}.log").open("ab") as log:
            process = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=settings.data_dir,
            )  # fmt: skip
        _pid_file(settings, service).write_text(f"{process.pid}\n{url}\n")
    wait_healthy(settings, url, timeout=timeout)
    return started


def _recorded_url(settings: Settings) -> str | None:
    path = _pid_file(settings, "api-server")
    lines = path.read_text().split() if path.exists() else []
    return lines[1] if len(lines) > 1 else None


def _ensure_port_free(port: int) -> None:
    if not port_free(HOST, port):
        raise AirflowServiceError(
            f"port {port} on {HOST} is in use: set CCHC_AIRFLOW_PORT to a free port"
        )


def wait_healthy(settings: Settings, url: str, *, timeout: float = 180) -> dict:
    """Wait until the api-server answers and reports the metadata database, scheduler and
    dag-processor healthy; a service that exits meanwhile fails at once with its log."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        dead = [s for s in SERVICES if s not in running_pids(settings)]
        if dead:
            raise AirflowServiceError(
                f"airflow {dead[0]} exited during start-up:\n{_log_tail(settings, dead[0])}"
            )
        try:
            health = httpx.get(f"{url}/api/v2/monitor/health", timeout=5).json()
            parts = ("metadatabase", "scheduler", "dag_processor")
            if all(health.get(p, {}).get("status") == "healthy" for p in parts):
                return health
            last = health
        except (httpx.HTTPError, ValueError) as error:
            last = error
        time.sleep(2)
    raise AirflowServiceError(f"Airflow at {url} not healthy after {timeout:.0f}s: {last}")


def _log_tail(settings: Settings, service: str, lines: int = 40) -> str:
    path = services_dir(settings) / f"{service}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop(settings: Settings, timeout: float = 30) -> list[str]:
    """Stop the services this data folder started (their whole process groups: the
    executor's workers and the task processes go with them). Returns those stopped."""
    running = running_pids(settings)
    for pid in running.values():
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(pid) for pid in running.values()):
        time.sleep(0.5)
    for pid in running.values():
        if alive(pid):
            _signal_group(pid, signal.SIGKILL)
    for service in SERVICES:
        _pid_file(settings, service).unlink(missing_ok=True)
    return list(running)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # each service leads its own session and group


def status(settings: Settings) -> dict[str, object]:
    """What runs, where, and the api-server's health report when it answers."""
    running = running_pids(settings)
    url = _recorded_url(settings)
    health: object = None
    if url and "api-server" in running:
        try:
            health = httpx.get(f"{url}/api/v2/monitor/health", timeout=5).json()
        except (httpx.HTTPError, ValueError) as error:
            health = f"not answering: {error}"
    return {"running": running, "url": url, "health": health}


class ApiClient:
    """Airflow's REST API (v2) as the admin: what the demo and `--unpause` need."""

    def __init__(self, url: str, password: str, username: str = airflow_metadata.ADMIN_USER):
        self.url = url
        self.started: Started | None = None  # set by whoever started the services
        token = httpx.post(
            f"{url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        if token.status_code >= 400:
            raise AirflowServiceError(f"Airflow refused the admin login: {token.text[:300]}")
        self.http = httpx.Client(
            base_url=f"{url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=60,
        )

    def _check(self, response: httpx.Response) -> dict:
        if response.status_code >= 400:
            raise AirflowServiceError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:500]}"
            )
        return response.json() if response.content else {}

    def nightly_dag_ids(self) -> list[str]:
        dags = self._check(self.http.get("/dags", params={"tags": "nightly", "limit": 100}))
        return [d["dag_id"] for d in dags["dags"]]

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the dag-processor has parsed the DAG into the metadata database."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.http.get(f"/dags/{dag_id}").status_code == 200:
                return
            time.sleep(2)
        raise AirflowServiceError(f"DAG {dag_id} was not parsed within {timeout:.0f}s")

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self._check(self.http.patch(f"/dags/{dag_id}", json={"is_paused": paused}))

    def put_connection(self, connection: dict) -> None:
        """Create or replace one connection (so the UI lists what the tasks use)."""
        name = connection["connection_id"]
        response = self.http.patch(f"/connections/{name}", json=connection)
        if response.status_code == 404:
            response = self.http.post("/connections", json=connection)
        self._check(response)

    def backfill(self, dag_id: str, first: str, last: str, conf: dict | None = None) -> int:
        """Scheduler-driven runs for the logical dates first..last (ISO), one at a time; runs
        that already exist are run again. Returns the backfill's id."""
        body = {
            "dag_id": dag_id,
            "from_date": first,
            "to_date": last,
            "run_backwards": False,
            "dag_run_conf": conf or {},
            "reprocess_behavior": "completed",
            "max_active_runs": 1,
        }
        return self._check(self.http.post("/backfills", json=body))["id"]

    def backfill_done(self, backfill_id: int) -> bool:
        return (
            self._check(self.http.get(f"/backfills/{backfill_id}")).get("completed_at") is not None
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """The run's task instances: task_id, state, duration (seconds), try_number."""
        return self._check(
            self.http.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        )["task_instances"]

    def run_at(self, dag_id: str, run_after: str) -> dict:
        """The latest run of the DAG due at `run_after` (its data interval's end)."""
        runs = self._check(
            self.http.get(
                f"/dags/{dag_id}/dagRuns",
                params={
                    "run_after_gte": run_after,
                    "run_after_lte": run_after,
                    "order_by": "-id",
                    "limit": 1,
                },
            )  # fmt: skip
        )["dag_runs"]
        if not runs:
            raise AirflowServiceError(f"no run of {dag_id} due at {run_after}")
        return runs[0]
