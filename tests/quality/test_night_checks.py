"""Night checks examine what changed and give the flags of a full check.

A generated province is loaded up to a first night and checked in full; then each night is
extracted and checked as a night check (only the changed records and what they link to, plus
the records an earlier check left to judge later). After several nights the flags and the
per-agency counts of the latest runs must equal those of a full check of the same warehouse;
and a night with nothing new examines (almost) nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from cchc.quality import run_checks
from tests.conftest import settings_using
from tests.quality.conftest import RATES, START

FIRST_NIGHT = date(2024, 3, 20)
NIGHTS = 6  # 20–25 March: a weekend, late dossiers, apology letters, portal syncs catching up
GENERATED_UNTIL = FIRST_NIGHT + timedelta(days=NIGHTS + 1)

LATEST = """
with latest as (
    select distinct on (source, entity) source, entity, run_id from dq.validation_runs
    where source is not null order by source, entity, validated_at desc, run_id desc
)
"""
FLAGS = (
    LATEST + "select f.source, f.entity, f.rule_id, f.province_code, f.record_key,"
    " f.agency_code, f.period_month from dq.record_flags f join latest using (source, entity, run_id)"
)
COUNTS = (
    LATEST + "select c.source, c.entity, c.province_code, c.agency_code, c.period_month,"
    " c.record_count from dq.record_counts c join latest using (source, entity, run_id)"
)


def _state(pg) -> tuple[set, set]:
    with psycopg.connect(pg.url()) as conn:
        return set(conn.execute(FLAGS).fetchall()), set(conn.execute(COUNTS).fetchall())


@pytest.fixture(scope="module")
def nights(settings, make_database, gx_project):
    """(pg, summaries of the night checks, config) after NIGHTS nights checked at night."""
    from cchc import warehouse
    from cchc.extract.run import extract, load_history
    from cchc.extract.window import local_midnight
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate
    from cchc.transform.dbt import run_dbt

    database = make_database("dq_nights")
    config = settings_using(settings, database)
    store = generate(
        config.data_dir / "sim-dq-nights", START, GENERATED_UNTIL, seed=7, scale=0.02, errors=RATES
    )
    with psycopg.connect(database.url(), autocommit=True) as conn:
        warehouse.bootstrap(conn, config)
    summaries = []
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        load_history(FIRST_NIGHT, config)
        run_dbt(["seed", "--select", "vn_public_holidays"], database)
        first = run_checks(database, "night-0", stage="raw", project_dir=gx_project, mode="night")
        assert first.examined == {}  # never checked before: every suite in full
        for n in range(NIGHTS):
            night = FIRST_NIGHT + timedelta(days=n)
            # The night's data interval: the 24 hours from 01:00 (the history ends there).
            extract(
                local_midnight(night) + timedelta(hours=1),
                local_midnight(night + timedelta(days=1)) + timedelta(hours=1),
                settings=config,
            )
            summaries.append(
                run_checks(
                    database, f"night-{n + 1}", stage="raw", project_dir=gx_project, mode="night"
                )
            )
    return database, summaries


def test_night_checks_examine_the_changes_not_the_history(nights):
    pg, summaries = nights
    with psycopg.connect(pg.url()) as conn:
        (dossiers,) = conn.execute(
            "select count(distinct record_key) from raw.onestop__dossiers"
        ).fetchone()
    for summary in summaries:
        # Every suite with a night scope ran as a night check, once a watermark existed.
        assert set(summary.full_reasons.values()) == {"no night scope"} or not summary.full_reasons
        assert "onestop_dossiers" in summary.examined
        assert summary.examined["onestop_dossiers"] < dossiers / 5, summary.examined
    # Working days bring new dossiers; the weekend's nights (23–24 March) almost nothing.
    assert min(s.examined["onestop_dossiers"] for s in summaries[:3]) > 0


def test_night_checks_give_the_flags_of_a_full_check(nights, gx_project):
    pg, summaries = nights
    night_flags, night_counts = _state(pg)
    assert {f[2] for f in night_flags} >= {
        "late_without_apology",
        "appointment_not_statutory",
        "entered_in_two_systems",
        "missing_from_portal",
    }
    full = run_checks(pg, "full-check", stage="raw", project_dir=gx_project, mode="full")
    assert full.examined == {}
    full_flags, full_counts = _state(pg)
    assert night_flags - full_flags == set(), "flagged at night but not by a full check"
    assert full_flags - night_flags == set(), "flagged by a full check but missed at night"
    assert night_counts == full_counts
    # The summary of the last night counts the whole state, as a full check's does.
    last = {r.rule_id: set(r.records) for r in summaries[-1].rules}
    assert last == {r.rule_id: set(r.records) for r in full.rules}


def test_a_night_without_changes_examines_almost_nothing(nights, gx_project):
    pg, _ = nights
    before_flags, before_counts = _state(pg)
    quiet = run_checks(pg, "quiet-night", stage="raw", project_dir=gx_project, mode="night")
    after_flags, after_counts = _state(pg)
    assert (after_flags, after_counts) == (before_flags, before_counts)
    examined = sum(quiet.examined.values())
    # Only the records whose flag a later record may clear (a payment before its dossier)
    # and the look-back's versions are read again, not the history.
    with psycopg.connect(pg.url()) as conn:
        (records,) = conn.execute(
            "select count(*) from dq.record_attribution where entity = 'dossiers'"
        ).fetchone()
    assert examined < records / 4, quiet.examined
