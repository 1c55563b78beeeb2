"""Two provinces in one warehouse: Nghệ An (H40) and Quảng Trị (H45) load side by side and
every mart keeps them apart.

The strongest form of "apart": Nghệ An's rows of every mart in the shared warehouse are
exactly the rows of a warehouse that loaded Nghệ An alone, and Quảng Trị has rows of its own
wherever Nghệ An has some. The portal's monthly reports have the same ids in both provinces
(`dvc-progress-tree:2024-03`): a model keyed on the id alone would merge them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from cchc import warehouse
from cchc.extract.run import load_history
from cchc.security.roles import bootstrap_roles, login_passwords
from cchc.simulators.server import SimulatorProcess
from cchc.synthetic import generate
from cchc.transform.dbt import dbt_build
from tests.conftest import free_port, settings_using

START, END = date(2024, 3, 1), date(2024, 4, 2)
PROVINCES = {"H40": 11, "H45": 12}  # province -> generator seed
SALT = "two-provinces-test-salt-0123456789"
# National reference dimensions: the calendar, channels, document types are the same in
# every province, so they have no province column.
NATIONAL = {"dim_date", "dim_channels", "dim_document_types"}
# When this warehouse fetched a record: differs between two loads of the same data.
LOAD_TIME = {"extracted_at"}


def _load(config, code: str, store) -> None:
    port = free_port()
    province = dataclasses.replace(
        config,
        province_code=code,
        source_urls={
            s: f"http://:{config.sim_token}@127.0.0.1:{port}/{s}"
            for s in ("onestop", "portal", "ioffice")
        },
    )
    _bootstrap(config)  # the loader login loads: it needs its grants first
    with SimulatorProcess(store, port=port, token=config.sim_token):
        load_history(END, province)


def _bootstrap(config) -> None:
    with psycopg.connect(warehouse.params(config).url(), autocommit=True) as conn:
        bootstrap_roles(conn, passwords=login_passwords(config), pii_salt=SALT)


def _build(config) -> None:
    _bootstrap(config)
    dbt_build(warehouse.params(config), unit_tests=False)


def _marts(config) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every mart table: its columns and rows (numbers normalised for comparison, load times
    left out)."""
    with psycopg.connect(config.warehouse_url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
            )
        ]
        result = {}
        for table in tables:
            cursor = conn.execute(f'select * from marts."{table}"')
            kept = [i for i, c in enumerate(cursor.description) if c.name not in LOAD_TIME]
            columns = [cursor.description[i].name for i in kept]
            rows = [
                tuple(float(row[i]) if isinstance(row[i], Decimal) else row[i] for i in kept)
                for row in cursor.fetchall()
            ]
            result[table] = (columns, rows)
    return result


@pytest.fixture(scope="module")
def marts(settings, make_database):
    shared = settings_using(settings, make_database("two_provinces"))
    alone = settings_using(settings, make_database("one_province"))
    stores = {
        code: generate(
            shared.data_dir / f"sim-two-provinces-{code}",
            START,
            END,
            seed=seed,
            scale=0.005,
            province_code=code,
        )  # fmt: skip
        for code, seed in PROVINCES.items()
    }
    for code, store in stores.items():
        _load(shared, code, store)
    _load(alone, "H40", stores["H40"])
    _build(shared)
    _build(alone)
    return {"shared": _marts(shared), "alone": _marts(alone)}


def test_every_mart_says_which_province_a_row_belongs_to(marts):
    lacking = [t for t, (columns, _) in marts["shared"].items() if "province_code" not in columns]
    assert sorted(lacking) == sorted(NATIONAL), f"marts without province_code: {lacking}"


def test_each_province_has_its_own_rows_wherever_the_other_has_some(marts):
    for table, (columns, rows) in _provincial(marts["shared"]):
        at = columns.index("province_code")
        provinces = Counter(row[at] for row in rows)
        if provinces.get("H40"):
            assert provinces.get("H45"), f"{table}: no Quảng Trị rows beside Nghệ An's"
        assert set(provinces) <= {"H40", "H45"}, f"{table}: rows of no province: {provinces}"


def test_a_province_reads_the_same_beside_another_as_alone(marts):
    differing = {}
    for table, (columns, rows) in marts["shared"].items():
        alone_columns, alone_rows = marts["alone"][table]
        assert alone_columns == columns
        if table in NATIONAL:  # the same for every province: the same with one or two
            beside = Counter(rows)
        else:
            at = columns.index("province_code")
            beside = Counter(row for row in rows if row[at] == "H40")
        if beside != Counter(alone_rows):
            differing[table] = [
                column
                for i, column in enumerate(columns)
                if Counter(r[i] for r in beside.elements()) != Counter(r[i] for r in alone_rows)
            ]
    assert not differing, f"H40's rows change when H45 is loaded beside it: {differing}"


def _provincial(tables: dict):
    return [(t, content) for t, content in tables.items() if t not in NATIONAL]
