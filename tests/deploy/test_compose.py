"""Checks of docker-compose.yml, .env.example and the Dockerfile that need no Docker engine.

No engine runs where the tests run, so the stack is never started here: these tests catch
the mistakes that would only show when someone runs `docker compose up` on a server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cchc import config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
CONFIG_SOURCE = Path(config.__file__)

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
REQUIRED_SERVICES = ("warehouse", "airflow-db", *AIRFLOW_SERVICES, "simulators")
PROFILE_SERVICES = {
    "simulators": ["dev"],
    "airflow-worker": ["celery"],
    "redis": ["celery"],
    "superset": ["bi"],
    "superset-db": ["bi"],
    "superset-setup": ["bi"],
}
# Only the bootstrap (airflow-init) may see these: no task needs them.
BOOTSTRAP_ONLY = (
    "CCHC_PII_SALT",
    "CCHC_BI_READER_PASSWORD",
    "CCHC_OFFICER_REVIEWER_PASSWORD",
)
# What tasks connect with: their own logins, never the owner's.
TASK_LOGINS = ("CCHC_LOADER_PASSWORD", "CCHC_TRANSFORMER_PASSWORD")
SECURITY_SOURCES = (
    ROOT / "include" / "cchc" / "security" / "roles.py",
    ROOT / "include" / "cchc" / "security" / "retention.py",
    ROOT / "include" / "cchc" / "alerts.py",
)
TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
}
# Read by config.py but meaningless in compose: the embedded server is not used there.
NOT_FOR_COMPOSE = {"CCHC_PG_PORT_EMBEDDED", "CCHC_PG_DURABILITY"}

# `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, also nested; `$${VAR}` is an escaped literal
# for the container's shell, not an interpolation.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
BARE_INTERPOLATION = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")
REQUIRED_SECRET = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$")
# An optional secret (an alert channel): from .env or empty, never a default value.
OPTIONAL_SECRET = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:-\}$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|SALT|TOKEN|FERNET", re.IGNORECASE)
# The password part of scheme://user:password@host.
URL_PASSWORD = re.compile(r"://[^/\s:@]*:([^@\s]*)@")
# An innermost `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`.
INNERMOST = re.compile(r"(?<!\$)\$\{[A-Za-z_][A-Za-z0-9_]*(?:(:?-)([^${}]*)|:?\?[^${}]*)?\}")
SET_BY_ENV = "<from-.env>"
# Calls that read the environment; config.py uses its own `_env(...)` helper.
ENV_READ = re.compile(
    r"""(?:\b_env|os\.environ\.get|os\.getenv)\(\s*(f?)(["'])(.+?)\2"""
    r"""|os\.environ\[\s*(f?)(["'])(.+?)\5\s*\]"""
)
PROJECT_VAR = re.compile(r"^(?:CCHC_|AIRFLOW_CONN_CCHC_)")


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict:
    # safe_load resolves anchors and `<<` merge keys the same way compose does.
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whichever of compose's two forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: (None if value is None else str(value)) for key, value in env.items()}


def literal_view(text: str) -> str:
    """The text as it reads with nothing from .env: references become a marker, defaults stay.

    Defaults are literal text in the compose file, so a credential hidden in one must be
    seen by the checks just like a credential written out.
    """
    while True:
        new = INNERMOST.sub(lambda m: m.group(2) if m.group(1) else SET_BY_ENV, text)
        if new == text:
            return text
        text = new


def env_example_names() -> set[str]:
    """Names in .env.example, including commented-out ones (documented optional overrides)."""
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def config_variables() -> set[str]:
    """CCHC_* and AIRFLOW_CONN_CCHC_* names that include/cchc/config.py reads.

    An f-string name such as ``f"AIRFLOW_CONN_CCHC_{s.upper()}"`` is expanded over the
    sources it is built from; a per-province one (``f"CCHC_PROVINCE_NAME_{code}"``) is an
    optional override for each further province, documented in .env.example, not a setting
    every deployment needs.
    """
    names = set()
    for match in ENV_READ.finditer(CONFIG_SOURCE.read_text(encoding="utf-8")):
        is_fstring = bool(match.group(1) or match.group(4))
        name = match.group(3) or match.group(6)
        if is_fstring and "{" in name and "{s" not in name:
            continue
        if is_fstring and "{" in name:
            names.update(re.sub(r"\{[^}]*\}", s.upper(), name) for s in config.SOURCES)
        else:
            names.add(name)
    return {name for name in names if PROJECT_VAR.match(name)}


def test_config_scan_finds_the_known_variables():
    # Guards the regex: an empty scan would make the coverage test below pass vacuously.
    found = config_variables()
    expected = {
        "CCHC_WAREHOUSE_URL",
        "CCHC_PROVINCE_CODE",
        "CCHC_EXPORT_DIR",
        *(f"AIRFLOW_CONN_CCHC_{s.upper()}" for s in config.SOURCES),
    }
    assert expected <= found, f"scan of {CONFIG_SOURCE.name} missed {sorted(expected - found)}"


def test_required_services_exist(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"docker-compose.yml lacks services: {missing}"


def test_airflow_services_share_image_and_local_executor(services):
    names = (*AIRFLOW_SERVICES, "airflow-worker")
    images = {name: services[name].get("image") for name in names}
    builds = {name: services[name].get("build") for name in names}
    assert len(set(images.values())) == 1 and None not in images.values(), images
    assert all(build == builds["airflow-init"] for build in builds.values()), builds
    assert builds["airflow-init"], "the Airflow image must be built from the Dockerfile"
    for name in names:
        executor = environment(services[name]).get("AIRFLOW__CORE__EXECUTOR")
        # LocalExecutor unless .env overrides it, and the same setting everywhere.
        assert executor == "${AIRFLOW_EXECUTOR:-LocalExecutor}", name
        assert literal_view(executor) == "LocalExecutor", name


def test_profiles(services):
    for name, profiles in PROFILE_SERVICES.items():
        assert services[name].get("profiles") == profiles, name
    default = [n for n, s in services.items() if not s.get("profiles")]
    assert set(default) == {"warehouse", "airflow-db", *AIRFLOW_SERVICES}


def test_celery_workers_scale(services):
    worker = services["airflow-worker"]
    assert worker["command"] == "celery worker"
    # `--scale` needs replicas without a fixed name or host port.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    env = environment(worker)
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@redis:6379/0")
    assert "@airflow-db:5432/airflow" in env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert "ports" not in services["redis"], "the broker is reachable inside compose only"
    assert "--requirepass" in services["redis"]["command"]


def test_bi_reads_marts_as_the_reader_role(services):
    setup = environment(services["superset-setup"])
    assert setup["CCHC_BI_READER_PASSWORD"].startswith("${CCHC_BI_READER_PASSWORD:?")
    assert setup["CCHC_BI_DB_HOST"] == "warehouse" and setup["CCHC_BI_DB_NAME"] == "cchc"
    # The same provisioning as `cchc bi start`: the cchc_bi login, the dashboards of the repo.
    assert "cchc.bi.provision" in " ".join(services["superset-setup"]["command"])
    # The BI side never gets the warehouse owner's credentials.
    for name in ("superset", "superset-db", "superset-setup"):
        text = yaml.safe_dump(services[name])
        assert "WAREHOUSE_PASSWORD" not in text and "WAREHOUSE_USER" not in text, name
    superset = services["superset"]
    assert environment(superset)["SCARF_ANALYTICS"] == "false"
    assert any("superset_config.py" in v for v in superset["volumes"])
    assert all(p.startswith("127.0.0.1:") for p in superset["ports"])


def test_bootstrap_runs_in_airflow_init_and_keeps_its_secrets(services):
    init = services["airflow-init"]
    command = " ".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    # The whole bootstrap, as in the embedded mode: schemas and data-quality tables too, which
    # the tasks' check for a bootstrapped warehouse requires.
    assert "cchc warehouse bootstrap" in command
    assert command.index("airflow db migrate") < command.index("cchc warehouse bootstrap")
    # The pools the DAGs name, from the same file as the embedded mode.
    assert command.index("airflow db migrate") < command.index(
        "airflow pools import include/cchc/orchestration/pools.json"
    )
    assert init["depends_on"]["warehouse"]["condition"] == "service_healthy"
    env = environment(init)
    for var in BOOTSTRAP_ONLY:
        assert REQUIRED_SECRET.match(env.get(var) or ""), var
    for name, service in services.items():
        if name != "airflow-init":
            leaked = sorted(
                set(BOOTSTRAP_ONLY)
                & set(environment(service))
                - {"CCHC_BI_READER_PASSWORD" if name == "superset-setup" else ""}
            )
            assert not leaked, f"{name} gets {leaked}"


def test_security_and_alert_settings_documented():
    names = set()
    for source in SECURITY_SOURCES:
        text = source.read_text(encoding="utf-8")
        names |= set(re.findall(r"\b((?:CCHC|SUPERSET)_[A-Z0-9_]+)\b", text))
    names = {n for n in names if not n.endswith("_")}
    assert {"CCHC_PII_SALT", "CCHC_BI_READER_PASSWORD", "CCHC_ALERT_WEBHOOK_URL"} <= names
    missing = sorted(names - env_example_names())
    assert not missing, f".env.example lacks {missing}"


def test_simulators_use_the_airflow_image_in_dev_profile(services):
    simulators = services["simulators"]
    assert simulators.get("profiles") == ["dev"]
    assert simulators.get("image") == services["airflow-scheduler"]["image"]
    command = simulators.get("command")
    command = " ".join(command) if isinstance(command, list) else command
    # The province is generated once (a server with no data refuses to start), then served.
    assert "cchc simulate generate" in command
    assert "exec cchc simulate serve" in command
    assert "--port 8780" in command and "--host 0.0.0.0" in command
    assert "/onestop/health" in " ".join(simulators["healthcheck"]["test"])
    # A service outside the default profile must not be a dependency of one inside it.
    for name in AIRFLOW_SERVICES:
        assert "simulators" not in (services[name].get("depends_on") or {}), name


def test_project_settings_set_for_airflow_services(services):
    wanted = (config_variables() - NOT_FOR_COMPOSE) | {"CCHC_RAW_RETENTION_MONTHS"}
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        missing = sorted(var for var in wanted if not env.get(var))
        assert not missing, f"{name} does not set {missing}"


def test_airflow_settings(services):
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES") == "False", name
        assert env.get("AIRFLOW__CORE__DEFAULT_TIMEZONE") == "Asia/Ho_Chi_Minh", name
        assert env.get("CCHC_EXPORT_DIR") == "/opt/airflow/exports", name
        assert any(v.startswith("exports:") for v in services[name].get("volumes", [])), name
        for var, value in TELEMETRY_OFF.items():
            assert env.get(var) == value, f"{name}: {var}"
        assert env["CCHC_WAREHOUSE_URL"].endswith("warehouse:5432/cchc"), name
        assert env["CCHC_WAREHOUSE_URL"].startswith("postgresql://"), name
        for source in config.SOURCES:
            uri = env[f"AIRFLOW_CONN_CCHC_{source.upper()}"]
            assert uri.endswith(f"@simulators:8780/{source}}}"), f"{name}: dev default of {source}"


def test_references_resolve(compose, services):
    # What `docker compose config` would reject: dependencies on unknown or profile-only
    # services, and named volumes that are not declared.
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if not service.get("profiles"):
                assert not services[dependency].get("profiles"), f"{name} -> {dependency}"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"


def test_healthchecks(services):
    for name in ("warehouse", "airflow-db"):
        test = " ".join(services[name]["healthcheck"]["test"])
        assert "pg_isready" in test, name
    assert services["warehouse"]["environment"]["POSTGRES_DB"] == "cchc"
    api = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "8080" in api
    assert services["airflow-apiserver"]["command"] == "api-server"


def test_every_interpolated_variable_is_in_env_example(compose_text):
    uncommented = "\n".join(
        line.split(" #")[0]
        for line in compose_text.splitlines()
        if not line.lstrip().startswith("#")
    )
    referenced = set(INTERPOLATION.findall(uncommented))
    # `$VAR` without braces is easy to miss in review; the file uses only `${VAR}`.
    bare = set(BARE_INTERPOLATION.findall(uncommented))
    assert not bare, f"use ${{VAR}} instead of $VAR for {sorted(bare)}"
    missing = sorted(referenced - env_example_names())
    assert not missing, f".env.example lacks {missing}"


def test_env_example_values_are_placeholders():
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if match and SECRET_NAME.search(match.group(1)):
            assert "change-me" in match.group(2), f"{match.group(1)} needs a placeholder"


def test_env_example_comments_every_variable():
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^#?\s*[A-Za-z_][A-Za-z0-9_]*=", line):
            before = lines[index - 1] if index else ""
            assert before.startswith("# "), f"no comment above: {line}"


def test_no_literal_secrets(compose, compose_text):
    # Every secret-looking setting must be a required interpolation, never a value or default.
    for name, service in compose["services"].items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert value and (REQUIRED_SECRET.match(value) or OPTIONAL_SECRET.match(value)), (
                    f"{name}: {key}={value!r}"
                )
    # Credentials inside URLs (database URLs, connection URIs) must be interpolated too,
    # also inside defaults such as the simulators' connection URIs.
    checked = 0
    for line in compose_text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for password in URL_PASSWORD.findall(literal_view(line)):
            assert password == SET_BY_ENV, f"literal credential in: {line.strip()}"
            checked += 1
    assert checked >= 5, "the URL scan should see the warehouse and connection URLs"


def test_dockerfile_basics():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^ARG AIRFLOW_VERSION=3\.3\.2$", text, re.MULTILINE)
    # The official image by default; a closed network passes its own base (deploy/offline/).
    assert "ARG BASE_IMAGE=apache/airflow:${AIRFLOW_VERSION}-python3.11" in text
    assert "FROM ${BASE_IMAGE}" in text
    assert "-c requirements.lock" in text
    for var, value in TELEMETRY_OFF.items():
        assert f"{var}={value}" in text, var
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for folder in ("dags/", "include/", "dbt_project/", "expectations/"):
        assert f"!{folder}" in ignore, folder


def docker_compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(
    not docker_compose_available(), reason="`docker compose` is not available on PATH"
)
def test_docker_compose_config_validates():
    for profile in ([], ["--profile", "dev"], ["--profile", "celery"], ["--profile", "bi"]):
        result = subprocess.run(
            ["docker", "compose", "--env-file", ".env.example", *profile, "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        offline = subprocess.run(
            ["docker", "compose", "-f", "docker-compose.yml", "-f", "docker-compose.offline.yml",
             "--env-file", ".env.example", *profile, "config", "-q"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert offline.returncode == 0, offline.stderr


def test_offline_override_builds_every_image_and_pulls_none(services):
    offline = yaml.safe_load((ROOT / "docker-compose.offline.yml").read_text(encoding="utf-8"))
    for name, service in services.items():
        build = offline["services"][name]["build"]
        assert "BASE_IMAGE" in build["args"], name
        if "image" in service and "build" not in service:
            # An official image replaced by one built here, under another name.
            assert offline["services"][name]["image"] != service["image"], name


def test_tasks_connect_with_their_logins_never_as_the_owner(services):
    for name in AIRFLOW_SERVICES:
        if name == "airflow-init":
            continue
        env = environment(services[name])
        for var in ("CCHC_WAREHOUSE_URL", "AIRFLOW_CONN_CCHC_WAREHOUSE"):
            assert "@" not in env[var] and "WAREHOUSE_PASSWORD" not in env[var], f"{name}: {var}"
        assert "WAREHOUSE_PASSWORD" not in yaml.safe_dump(services[name]), name
        for var in TASK_LOGINS:
            assert REQUIRED_SECRET.match(env.get(var) or ""), f"{name}: {var}"
    init = environment(services["airflow-init"])
    assert "${WAREHOUSE_PASSWORD:?" in init["CCHC_WAREHOUSE_URL"]


def test_airflow_ui_on_the_loopback_unless_configured(services):
    (port,) = services["airflow-apiserver"]["ports"]
    assert port.startswith("${AIRFLOW_UI_BIND_ADDRESS:-127.0.0.1}:"), port


def test_offline_superset_is_the_bi_lock_from_wheels_only():
    # The BI tool of `cchc bi start` exactly: its pins, and no index at build time.
    dockerfile = (ROOT / "deploy/offline/superset/Dockerfile").read_text(encoding="utf-8")
    assert "-c /app/superset-requirements.lock" in dockerfile
    assert "--no-index" in dockerfile
    wheels = (ROOT / "deploy/offline/wheelhouse.sh").read_text(encoding="utf-8")
    assert "superset-requirements.lock" in wheels and "wheelhouse-superset" in wheels
