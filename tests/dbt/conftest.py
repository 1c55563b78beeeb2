"""The dbt tests' own database on the session's embedded warehouse (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from cchc.config import PgParams


@pytest.fixture(scope="session")
def warehouse_pg(make_database) -> PgParams:
    return make_database("dbt")
