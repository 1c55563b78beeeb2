"""Generated provinces served by the simulator, loaded into fresh warehouses, for the
data-quality acceptance tests."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import psycopg
import pytest

from cchc.config import REPO_ROOT
from cchc.synthetic.errors import DEFAULT_DOSSIER_RATES, ErrorRates
from tests.conftest import settings_using

# One calendar month ending on a Monday 1st: month-end bulk entry lands inside the data, and
# the last day before the extraction (a Sunday) holds no dossier the portal could still be
# catching up with.
START, END = date(2024, 3, 1), date(2024, 4, 1)

# Raised rates, so every kind occurs dozens of times; kept low enough that two errors rarely
# hit one dossier (an unknown procedure code hides its statutory appointment).
RATES = ErrorRates(
    dossier={**{k: 0.02 for k in DEFAULT_DOSSIER_RATES}, "unknown_procedure_code": 0.005},
    sync_rate=0.97,
    portal_stall_rate=0.03,
    unsigned_rate=0.05,
    incoming_overdue_rate=0.1,
)


@pytest.fixture(scope="session")
def gx_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the committed GX project, so runs write Data Docs under tmp, not the repo."""
    target = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(
        REPO_ROOT / "expectations", target, ignore=shutil.ignore_patterns("uncommitted")
    )
    return target


def load_province(settings, make_database, name: str, generated_until=END, loaded_until=END,
                  **generate_kwargs):  # fmt: skip
    """generate → simulator → initial load → holiday seed; returns (config, pg, truth dir).
    Loaded until `loaded_until` (END); `generated_until` later leaves the warehouse part-way
    through the data."""
    from cchc import warehouse
    from cchc.extract.run import load_history
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate
    from cchc.transform.dbt import run_dbt

    database = make_database(name)
    config = settings_using(settings, database)
    store = generate(
        config.data_dir / f"sim-{name}", START, generated_until, seed=7, **generate_kwargs
    )
    with psycopg.connect(database.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, config)  # staging needs the personal-data hash function
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        load_history(loaded_until, config)  # everything updated before it, reference data too
    # The raw-stage rules read raw tables and the holiday calendar seed only.
    run_dbt(["seed", "--select", "vn_public_holidays"], database)
    return config, database, store.parent / "truth"
