"""The compose stack, started for real: the images built offline (Debian base image and
wheelhouses, deploy/offline/), `docker compose up` with the dev profile, one night of
`cchc_nightly` triggered through Airflow's REST API, the marts read as the BI login; then, in
one `up` on the running stack, the CeleryExecutor with two workers and Superset (bi profile,
offline image): the same night again on the workers, and Superset's SQL Lab reading the marts
as the BI login; then `docker compose down -v`.

Exactly the commands of the README's compose section, with a generated `.env` and free
host ports. Skipped only where no Docker engine answers (CI starts one: .ci/run). Slow
(two nights; figures in docs/benchmarks.md): `pytest -m "not stack"` leaves it out.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import errors

from cchc.bi.provision import DATABASE_NAME, Superset

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ["docker", "compose"]
# The offline images, as the README's compose section selects them.
COMPOSE_FILE = "docker-compose.yml:docker-compose.offline.yml"
PROJECT = "cchc-stack-test"
# Every profile the test starts: built first, removed at the end.
PROFILES = ("--profile", "dev", "--profile", "celery", "--profile", "bi")
DAG = "cchc_nightly"
# The night of 2024-04-01: the run at 01:00 on the next day covers its 24 hours.
LOGICAL_DATE = "2024-04-02T01:00:00+07:00"
STARTUP_TIMEOUT = 900
NIGHT_TIMEOUT = 1500
# Marts every night fills; the BI login must read them and nothing outside the marts.
FILLED_MARTS = ("dim_agencies", "dim_date", "fct_dossiers")
FORBIDDEN_READS = (
    "select * from raw.onestop__dossiers",
    "select * from staging.stg_onestop__dossiers",
    "select * from audit.load_batches",
    "select * from restricted.dim_officers",
)

pytestmark = [pytest.mark.stack, pytest.mark.timeout(3600)]


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    info = subprocess.run(["docker", "info"], capture_output=True, check=False)
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return info.returncode == 0 and compose.returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env_file(path: Path, settings: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    return path


def _compose_env(settings: dict[str, str]) -> dict[str, str]:
    # Only the env file speaks: a variable of the caller's shell would override it.
    env = {k: v for k, v in os.environ.items() if k not in settings}
    return {**env, "COMPOSE_FILE": COMPOSE_FILE}


class Stack:
    """`docker compose` on the test's project, with its .env and a log of every command."""

    def __init__(self, workdir: Path, settings: dict[str, str]) -> None:
        self.workdir = workdir
        self.settings = settings
        self.env_file = _env_file(workdir / ".env", settings)
        self.timings: dict[str, float] = {}

    def compose(self, *args: str, timeout: float = 600, env_file: Path | None = None) -> str:
        command = [*COMPOSE, "-p", PROJECT, "--env-file", str(env_file or self.env_file), *args]
        done = subprocess.run(
            command, cwd=ROOT, env=_compose_env(self.settings), capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-4000:]}\n"
                f"{done.stderr[-4000:]}\n{self.logs()}"
            )
        return done.stdout

    def logs(self) -> str:
        done = subprocess.run(
            [*COMPOSE, "-p", PROJECT, "--env-file", str(self.env_file), *PROFILES,
             "logs", "--no-color", "--tail", "60"],
            cwd=ROOT, env=_compose_env(self.settings), capture_output=True, text=True,
            check=False, timeout=120,
        )  # fmt: skip
        return done.stdout[-12000:]

    def up(
        self, *profiles: str, options: tuple[str, ...] = (), env_file: Path | None = None
    ) -> float:
        started = time.monotonic()
        self.compose(
            *profiles, "up", "-d", "--wait", "--wait-timeout", str(STARTUP_TIMEOUT), *options,
            timeout=STARTUP_TIMEOUT + 60, env_file=env_file,
        )  # fmt: skip
        return time.monotonic() - started

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.settings['AIRFLOW_UI_PORT']}{path}"

    def api(self) -> httpx.Client:
        token = httpx.post(
            self.url("/auth/token"),
            json={
                "username": self.settings["AIRFLOW_ADMIN_USERNAME"],
                "password": self.settings["AIRFLOW_ADMIN_PASSWORD"],
            },
            timeout=30,
        )
        assert token.status_code in (200, 201), token.text
        return httpx.Client(
            base_url=self.url("/api/v2"),
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=60,
        )

    def warehouse(self, login: str, password: str) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=int(self.settings["WAREHOUSE_PORT"]), dbname="cchc",
            user=login, password=password, autocommit=True, connect_timeout=10,
        )  # fmt: skip


def _settings() -> dict[str, str]:
    def password() -> str:
        return secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")

    airflow_port = _free_port()
    return {
        "WAREHOUSE_USER": "cchc",
        "WAREHOUSE_PASSWORD": password(),
        "WAREHOUSE_PORT": str(_free_port()),
        "CCHC_LOADER_PASSWORD": password(),
        "CCHC_TRANSFORMER_PASSWORD": password(),
        "CCHC_BI_READER_PASSWORD": password(),
        "CCHC_OFFICER_REVIEWER_PASSWORD": password(),
        "AIRFLOW_DB_PASSWORD": password(),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": password(),
        "AIRFLOW__API__SECRET_KEY": password(),
        "AIRFLOW_ADMIN_USERNAME": "admin",
        "AIRFLOW_ADMIN_PASSWORD": password(),
        "AIRFLOW_UI_PORT": str(airflow_port),
        "AIRFLOW_BASE_URL": f"http://localhost:{airflow_port}",
        "AIRFLOW_EXECUTOR": "LocalExecutor",
        # Only the night the test triggers runs: unpausing would start the latest scheduled one.
        "AIRFLOW_USE_JOB_SCHEDULE": "False",
        "REDIS_PASSWORD": password(),
        "SUPERSET_SECRET_KEY": password(),
        "SUPERSET_ADMIN_PASSWORD": password(),
        "SUPERSET_DB_PASSWORD": password(),
        "SUPERSET_PORT": str(_free_port()),
        "CCHC_PII_SALT": password(),
        "CCHC_SIM_TOKEN": password(),
        "SIMULATORS_PORT": str(_free_port()),
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not _engine_answers():
        pytest.skip("no Docker engine (with compose) answers here")
    stack = Stack(tmp_path_factory.mktemp("stack"), _settings())
    # The offline build: the Debian base image and the wheels, each kept while unchanged.
    for script in ("deploy/offline/base.sh", "deploy/offline/wheelhouse.sh"):
        subprocess.run(["bash", script], cwd=ROOT, check=True, timeout=1800)
    try:
        started = time.monotonic()
        stack.compose(*PROFILES, "build", timeout=2400)
        stack.timings["build"] = time.monotonic() - started
        yield stack
    finally:
        stack.compose(*PROFILES, "down", "-v", "--remove-orphans")
        print(f"stack timings (s): { {k: round(v) for k, v in stack.timings.items()} }")


def _wait_for_run(api: httpx.Client, run_id: str, stack: Stack) -> dict:
    deadline = time.monotonic() + NIGHT_TIMEOUT
    while time.monotonic() < deadline:
        run = api.get(f"/dags/{DAG}/dagRuns/{run_id}").raise_for_status().json()
        if run["state"] in ("success", "failed"):
            break
        time.sleep(3)
    else:
        raise AssertionError(f"{run_id} still {run['state']} after {NIGHT_TIMEOUT}s")
    if run["state"] != "success":
        tis = api.get(f"/dags/{DAG}/dagRuns/{run_id}/taskInstances", params={"limit": 500})
        failed = [t["task_id"] for t in tis.json()["task_instances"] if t["state"] != "success"]
        raise AssertionError(f"{run_id} {run['state']}; not successful: {failed}\n{stack.logs()}")
    return run


def _task_hosts(api: httpx.Client, run_id: str) -> set[str]:
    tis = api.get(f"/dags/{DAG}/dagRuns/{run_id}/taskInstances", params={"limit": 500})
    return {t["hostname"] for t in tis.raise_for_status().json()["task_instances"]}


def _assert_bi_reads_marts_only(stack: Stack) -> dict[str, int]:
    with stack.warehouse("cchc_bi", stack.settings["CCHC_BI_READER_PASSWORD"]) as conn:
        counts = {
            mart: conn.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            for mart in FILLED_MARTS
        }
        assert all(count > 0 for count in counts.values()), counts
        for query in FORBIDDEN_READS:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(query)
        with pytest.raises((errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)):
            conn.execute("delete from marts.fct_dossiers")
    return counts


@pytest.fixture(scope="module")
def local_night(stack: Stack) -> dict:
    stack.timings["startup_dev"] = stack.up("--profile", "dev")
    with stack.api() as api:
        deadline = time.monotonic() + 300
        while api.get(f"/dags/{DAG}").status_code != 200:  # the DAG processor's first parse
            assert time.monotonic() < deadline, f"{DAG} never parsed\n{stack.logs()}"
            time.sleep(2)
        api.patch(f"/dags/{DAG}", json={"is_paused": False}).raise_for_status()
        started = time.monotonic()
        created = api.post(f"/dags/{DAG}/dagRuns", json={"logical_date": LOGICAL_DATE})
        assert created.status_code in (200, 201), created.text
        run = _wait_for_run(api, created.json()["dag_run_id"], stack)
        stack.timings["night_local"] = time.monotonic() - started
        return {"run": run, "hosts": _task_hosts(api, run["dag_run_id"])}


def test_a_night_on_the_local_executor_fills_the_marts_for_bi_only(stack, local_night):
    assert local_night["run"]["state"] == "success"
    # LocalExecutor: every task ran in the scheduler's container.
    scheduler = stack.compose("ps", "-q", "airflow-scheduler").split()
    assert local_night["hosts"] == {scheduler[0][:12]}
    _assert_bi_reads_marts_only(stack)


@pytest.fixture(scope="module")
def celery_and_bi(stack: Stack, local_night: dict) -> Stack:
    """The running stack switched to the CeleryExecutor with two workers, and Superset (bi)
    started beside it, in one `up`: only the Airflow containers, whose configuration changed,
    are recreated; the warehouse, its marts and the simulators stay as the first night left
    them, and Superset starts while Airflow restarts."""
    celery_env = _env_file(
        stack.workdir / ".env.celery", {**stack.settings, "AIRFLOW_EXECUTOR": "CeleryExecutor"}
    )
    stack.timings["startup_celery_bi"] = stack.up(
        *PROFILES, options=("--scale", "airflow-worker=2"), env_file=celery_env
    )
    stack.env_file = celery_env
    return stack


def test_the_same_night_on_two_celery_workers(celery_and_bi, local_night):
    stack = celery_and_bi
    workers = {
        cid[:12]
        for cid in stack.compose("--profile", "celery", "ps", "-q", "airflow-worker").split()
    }
    assert len(workers) == 2
    run_id = local_night["run"]["dag_run_id"]
    with stack.api() as api:
        started = time.monotonic()
        cleared = api.post(
            f"/dags/{DAG}/clearTaskInstances",
            json={"dry_run": False, "dag_run_id": run_id, "reset_dag_runs": True,
                  "only_failed": False},
        )  # fmt: skip
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["task_instances"], "nothing cleared"
        _wait_for_run(api, run_id, stack)
        stack.timings["night_celery"] = time.monotonic() - started
        hosts = _task_hosts(api, run_id)
    # Every task ran on a worker; none in the scheduler.
    assert hosts <= workers, (hosts, workers)
    _assert_bi_reads_marts_only(stack)


def _sql_lab(client: Superset, database_id: int, sql: str) -> httpx.Response:
    return client.http.post(
        "/api/v1/sqllab/execute/",
        json={"database_id": database_id, "sql": sql, "schema": "marts", "runAsync": False},
    )


def test_superset_offline_reads_the_marts_as_the_bi_login_only(celery_and_bi):
    """The bi profile on the offline Superset image: healthy (`up --wait`), provisioned by
    superset-setup, and its SQL Lab reads the marts as `cchc_bi` and is refused the raw layer."""
    stack = celery_and_bi
    # `up --wait` does not wait for this one-shot (nothing depends on it), and a container
    # still running reports exit code 0: wait until it has exited.
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        setup = stack.compose("--profile", "bi", "ps", "-a", "--format",
                              "{{.State}} {{.ExitCode}}", "superset-setup").split()  # fmt: skip
        if setup[0] == "exited" or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert setup == ["exited", "0"], f"{setup}\n{stack.logs()}"
    client = Superset(
        f"http://127.0.0.1:{stack.settings['SUPERSET_PORT']}",
        "admin", stack.settings["SUPERSET_ADMIN_PASSWORD"],
    )  # fmt: skip
    assert client.http.get("/health").text == "OK"
    databases = client.http.get("/api/v1/database/").raise_for_status().json()["result"]
    marts = next(d for d in databases if d["database_name"] == DATABASE_NAME)
    connection = client.http.get(f"/api/v1/database/{marts['id']}/connection")
    assert connection.raise_for_status().json()["result"]["parameters"]["username"] == "cchc_bi"
    counted = _sql_lab(client, marts["id"], "select count(*) as n from marts.fct_dossiers")
    assert counted.status_code == 200, counted.text
    assert counted.json()["data"][0]["n"] > 0
    refused = _sql_lab(client, marts["id"], "select count(*) from raw.onestop__dossiers")
    assert refused.status_code >= 400 and "permission denied" in refused.text, refused.text
