"""A small synthetic province served by the real simulator process, and a fresh warehouse."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

from cchc.extract.window import TZ, Window
from tests.conftest import settings_using

FIRST_DAY = date(2024, 4, 1)
DAYS = 4


@pytest.fixture(scope="session")
def sim_store(settings):
    from cchc.synthetic import generate

    return generate(
        settings.data_dir / "sim-extract",
        FIRST_DAY,
        FIRST_DAY + timedelta(days=DAYS - 1),
        seed=11,
        scale=0.01,
    )


@pytest.fixture
def extract_settings(settings, make_database):
    """A fresh, bootstrapped database: extraction connects as the loader login."""
    import psycopg

    from cchc import warehouse

    database = make_database("extract")
    config = settings_using(settings, database)
    with psycopg.connect(database.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, config)
    return config


def night_windows(overlap_minutes: int = 60) -> list[Window]:
    """The windows of consecutive nights, each widened backwards by the overlap."""
    return [
        Window.for_interval(
            datetime(d.year, d.month, d.day, tzinfo=TZ),
            datetime(d.year, d.month, d.day, tzinfo=TZ) + timedelta(days=1),
            overlap_minutes,
        )
        for d in (FIRST_DAY + timedelta(days=i) for i in range(DAYS))
    ]


def with_sim(settings, sim):
    urls = {s: f"http://:{sim.token}@{sim.host}:{sim.port}/{s}" for s in settings.source_urls}
    return dataclasses.replace(settings, source_urls=urls)
