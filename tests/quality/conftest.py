"""An own embedded warehouse and a copy of the GX project for the data-quality tests."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cchc import warehouse
from cchc.config import REPO_ROOT, PgParams, load_settings

STAGING_DDL = """
create schema if not exists staging;
drop table if exists staging.stg_onestop__dossiers;
create table staging.stg_onestop__dossiers (
    dossier_code text, procedure_code text, procedure_name text, field_code text,
    field_name text, level_code int, channel_code int, applicant_type int,
    applicant_id_hash text, applicant_phone_hash text, submitted_at timestamptz,
    received_at timestamptz, due_at timestamptz, handling_ended_at timestamptz,
    returned_at timestamptz, refused_at timestamptz, status_code int, agency_code text,
    agency_name text, has_digitized_components boolean, online_payment_code int,
    step_count int, supplement_request_count int, updated_at timestamptz,
    extracted_at timestamptz
);
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgParams]:
    # Own server on its own port: never touches a colleague's or the developer's warehouse.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCHC_DATA_DIR", str(tmp_path_factory.mktemp("warehouse")))
        mp.setenv("CCHC_PG_PORT_EMBEDDED", str(_free_port()))
        mp.delenv("CCHC_WAREHOUSE_URL", raising=False)
        mp.delenv("AIRFLOW_CONN_CCHC_WAREHOUSE", raising=False)
        params = warehouse.params()
        try:
            yield params
        finally:
            warehouse.stop_embedded(load_settings())


@pytest.fixture
def gx_project(tmp_path: Path) -> Path:
    """A copy of the committed GX project, so runs write Data Docs under tmp, not the repo."""
    target = tmp_path / "expectations"
    shutil.copytree(
        REPO_ROOT / "expectations", target, ignore=shutil.ignore_patterns("uncommitted")
    )
    return target


@pytest.fixture
def load_dossiers(pg: PgParams):
    """Recreate the staging table (stand-in for the dbt view) with the given rows."""

    def load(rows: list[dict]) -> None:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute(STAGING_DDL)
            for row in rows:
                cols = ", ".join(row)
                marks = ", ".join(["%s"] * len(row))
                conn.execute(
                    f"insert into staging.stg_onestop__dossiers ({cols}) values ({marks})",
                    list(row.values()),
                )

    return load
