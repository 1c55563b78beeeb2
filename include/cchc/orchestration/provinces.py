"""One set of DAGs per province of the deployment (`CCHC_PROVINCES`), all loading one warehouse.

The deployment's first province (`CCHC_PROVINCE_CODE`) keeps the plain DAG ids
(`cchc_nightly`), so a one-province deployment looks as it always did; every further province
gets its own (`cchc_nightly_h45`), with its own source connections (`cchc_h45_onestop`).
Reading the environment only: free at DAG parse time.
"""

from __future__ import annotations

from cchc.config import Settings, connection_id, load_settings


def provinces() -> tuple[str, ...]:
    return load_settings().provinces


def dag_id(base: str, province: str) -> str:
    primary = load_settings().province_code
    return base if province == primary else f"{base}_{province.lower()}"


def settings_for(province: str) -> Settings:
    """The settings a task of `province`'s DAG runs with."""
    return load_settings().for_province(province)


def source_connection_id(province: str, source: str) -> str:
    return connection_id(province, source, primary=load_settings().province_code)
