"""`python -m bench.night`'s core on a tiny province: the backfill and one night measured on
a warehouse the benchmark creates and drops, every stage beside its limit, so the command
cannot rot unnoticed. Figures are not judged (tests never check wall-clock time): only that
each stage and limit was measured and the warehouse is gone afterwards."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import psycopg
import pytest

from bench import night as bench_night
from cchc.config import REPO_ROOT

NIGHT = date(2024, 3, 20)  # a Wednesday
HISTORY_DAYS = 2


@pytest.fixture(scope="module")
def measured(settings, pg, tmp_path_factory):
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate

    work = tmp_path_factory.mktemp("bench-night")
    store = generate(
        work / "sim", NIGHT - timedelta(days=HISTORY_DAYS), NIGHT + timedelta(days=2),
        seed=5, scale=0.005,
    )  # fmt: skip
    project = work / "expectations"
    shutil.copytree(
        REPO_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted")
    )
    scratch = work / "scratch"
    scratch.mkdir()
    with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
        return bench_night.measure(pg, settings, NIGHT, HISTORY_DAYS, project, scratch)


def test_every_stage_and_limit_is_measured(measured):
    assert set(measured["backfill"]["seconds"]) == set(bench_night.BACKFILL)
    assert set(measured["night"]["seconds"]) == set(bench_night.NIGHT)
    assert set(measured["limits"]["seconds"]) == set(bench_night.NIGHT)
    assert set(measured["ours_over_limit"]) == set(bench_night.NIGHT)
    for figures in (
        measured["backfill"]["seconds"],
        measured["backfill"]["peak_rss_mb"],
        measured["night"]["seconds"],
        measured["night"]["peak_rss_mb"],
        measured["limits"]["seconds"],
        measured["ours_over_limit"],
    ):
        assert all(value > 0 for value in figures.values()), figures
    assert measured["backfill_versions"] > 0 and measured["backfill"]["versions_per_second"] > 0
    assert measured["night_versions"] > 0 and measured["night_dossiers"] > 0
    assert measured["nightly_over_full_build"] > 0
    for build in ("full", "nightly"):  # where each build's time went, model by model
        nodes = measured["dbt_nodes"][build]
        assert nodes["nodes"] > 50 and nodes["sum_seconds"] > 0
        assert len(nodes["slowest"]) == 15 and all(s >= 0 for s in nodes["slowest"].values())
    # the night's dossiers joined the history's in the marts
    assert measured["dossiers_after"] > measured["dossiers_before"] > 0


def test_the_warehouse_it_created_is_dropped(measured, pg):
    with psycopg.connect(pg.url()) as conn:
        left = conn.execute(
            "select datname from pg_database where datname like 'cchc_bench_night_%'"
        ).fetchall()
    assert left == []


def test_histories_compared_stage_by_stage(measured):
    longer = {**measured, "history_days": 4,
              "night": {**measured["night"], "total_seconds": 2 * measured["night"]["total_seconds"]}}  # fmt: skip
    compared = bench_night.compare_histories([measured, longer])
    assert (compared["short_days"], compared["long_days"]) == (HISTORY_DAYS, 4)
    assert set(compared["long_over_short"]) == {*bench_night.NIGHT, "total"}
    assert compared["long_over_short"]["total"] == 2.0
    assert compared["long_over_short"]["extract"] == 1.0
