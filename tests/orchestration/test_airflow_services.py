"""The local Airflow's settings: its own metadata database and login, private secrets, loopback."""

from __future__ import annotations

import dataclasses
import stat

import psycopg
import pytest

from cchc.orchestration import airflow_metadata, airflow_services


@pytest.fixture
def embedded(settings, tmp_path):
    """Embedded settings with a data folder of their own (secrets are written there)."""
    return dataclasses.replace(settings, data_dir=tmp_path / "data")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_generated_once_and_private(embedded):
    first = airflow_metadata.airflow_secrets(embedded)
    assert set(first) == set(airflow_metadata.GENERATORS)
    assert airflow_metadata.airflow_secrets(embedded) == first  # kept, not regenerated
    path = embedded.data_dir / "secrets" / airflow_metadata.SECRETS_FILE
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700

    password, new = airflow_metadata.admin_password(embedded)
    assert new and len(password) >= 20
    assert airflow_metadata.admin_password(embedded) == (password, False)
    assert _mode(airflow_metadata.admin_password_file(embedded)) == 0o600


def test_services_use_postgres_metadata_localexecutor_and_loopback(embedded):
    env = airflow_services.services_env(embedded, 18080, schedules=False)
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert url.startswith(f"postgresql+psycopg2://{airflow_metadata.METADATA_LOGIN}:")
    assert url.endswith(f"@127.0.0.1:{embedded.embedded_port}/{airflow_metadata.METADATA_DB}")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:18080"
    assert env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"
    assert env["AIRFLOW__USAGE_DATA_COLLECTION__ENABLED"] == "False"
    # Every process of one Airflow shares one JWT secret, or tasks cannot call the API.
    assert (
        env["AIRFLOW__API_AUTH__JWT_SECRET"]
        == airflow_metadata.airflow_secrets(embedded)["jwt_secret"]
    )


def test_a_configured_warehouse_keeps_its_own_airflow_settings(settings):
    configured = dataclasses.replace(settings, warehouse_url="postgresql://u:p@db:5432/cchc")
    assert airflow_metadata.metadata_env(configured) == {}


def test_metadata_database_is_owned_by_its_own_password_login(settings, pg):
    config = settings  # the session's embedded server and data folder
    assert airflow_metadata.ensure_metadata_database(config) in (True, False)
    assert airflow_metadata.ensure_metadata_database(config) is False  # idempotent
    password = airflow_metadata.airflow_secrets(config)["metadata_password"]
    login = airflow_metadata.METADATA_LOGIN
    with psycopg.connect(
        host="127.0.0.1", port=pg.port, user=login, password=password,
        dbname=airflow_metadata.METADATA_DB,
    ) as conn:  # fmt: skip
        owner, superuser = conn.execute(
            "select pg_get_userbyid(datdba), rolsuper from pg_database, pg_roles"
            " where datname = current_database() and rolname = current_user"
        ).fetchone()
    assert (owner, superuser) == (login, False)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        verifier = conn.execute(
            "select rolpassword from pg_authid where rolname = %s", [login]
        ).fetchone()[0]
    assert verifier.startswith("SCRAM-SHA-256$")


def test_stop_without_services_stops_nothing(embedded):
    assert airflow_services.stop(embedded) == []
    assert airflow_services.status(embedded)["running"] == {}
