"""The reconciliation explains itself: each difference between the portal's 766 scores and
ours is broken into counted causes, and a figure edited after an export is a restatement.

The synthetic portal scores from the records it serves (checked first, without a
warehouse); then a generated quarter with errors on is loaded night by night up to each of
the portal's snapshot days, built, and broken down."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from bench.qd766_causes import END, HORIZON, START, TARGET, load_nightly
from cchc.exports.periods import Quarter
from cchc.exports.restatements import (
    ORIGINS_VI,
    SNAPSHOTS,
    read_restatements,
    record_snapshot,
)
from cchc.extract.window import TZ
from cchc.qd766.causes import CAUSES, build_steps, decompose, residual_share
from cchc.qd766.causes_source import from_store, from_warehouse, ours_from_warehouse
from cchc.qd766.portal_rule import COMPONENTS
from cchc.simulators.server import SimulatorProcess
from cchc.synthetic import generate
from cchc.transform.dbt import dbt_build, run_dbt
from tests.conftest import settings_using

SCALE = 0.003


def test_the_synthetic_portal_scores_exactly_the_records_it_serves(tmp_path: Path) -> None:
    """Every published numerator and denominator is recounted from the served versions by
    the portal's rule: no difference without a cause the data records."""
    store = generate(tmp_path, date(2025, 6, 1), date(2025, 7, 10), seed=3, scale=SCALE)
    inputs = from_store(store)
    steps = build_steps(inputs.dossiers, inputs.petitions, inputs.snapshot_of(), inputs.unit_on)
    counted = steps.counts("portal_units")
    assert {code for (_, _, code) in inputs.official} == set(COMPONENTS)
    compared = 0
    for key, published in inputs.official.items():
        num, den = counted.get(key, (0, 0))
        assert (num, den) == (published.numerator or 0, published.denominator or 0), key
        compared += bool(den)
    assert compared > 100
    # June's figures were taken on 5 July, after the units merged: under the new units
    june = {unit for (unit, month, _) in inputs.official if month == date(2025, 6, 1)}
    assert june and all(inputs.unit_on(u, date(2025, 7, 5)) == u for u in june)


@pytest.fixture(scope="module")
def quarter_warehouse(settings, make_database, tmp_path_factory):
    database = make_database("qd766_causes")
    config = settings_using(settings, database)
    from cchc.security.roles import bootstrap_roles

    with psycopg.connect(database.url(), autocommit=True) as conn:
        bootstrap_roles(conn, pii_salt="causes-test-salt-0123456789")
    store = generate(tmp_path_factory.mktemp("causes"), START, HORIZON, seed=11, scale=SCALE)
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        load_nightly(config, START, HORIZON)
    dbt_build(database, full_refresh=True)
    return database, config.province_code


def test_the_residual_is_at_most_a_tenth_of_each_components_difference(quarter_warehouse):
    database, province = quarter_warehouse
    with psycopg.connect(database.url()) as conn:
        inputs = from_warehouse(conn, province, START, END)
        ours = ours_from_warehouse(conn, province, START, END)
    steps = build_steps(inputs.dossiers, inputs.petitions, inputs.snapshot_of(), inputs.unit_on)
    causes = decompose(steps, ours, inputs.official)
    for c in causes:  # the shares add up to the difference, exactly
        assert sum(c.shares.values(), Decimal(0)) == c.difference, c
    shares = residual_share(causes)
    assert set(shares) == set(COMPONENTS), "every component with a known formula is covered"
    differing = {k: v for k, v in shares.items() if v[1] > 0}
    assert len(differing) >= 5, shares
    for component, (residual, difference, _) in differing.items():
        assert residual <= Decimal(str(TARGET)) * difference, (component, residual, difference)
    # the named causes do the explaining, each of them somewhere
    named = {k for c in causes for k in CAUSES[:-1] if c.shares[k]}
    assert named == set(CAUSES[:-1]), named


def test_a_late_edit_after_an_export_is_recorded_as_a_restatement(quarter_warehouse):
    database, province = quarter_warehouse
    quarter = Quarter(2025, 2)
    exported_at = datetime(2025, 7, 10, 8, 0, tzinfo=TZ)
    june = date(2025, 6, 1)
    late_end = datetime(2025, 6, 20, 10, 0)  # a Friday, local time
    with psycopg.connect(database.url()) as conn:
        assert record_snapshot(conn, province, START, END, exported_at) > 0
        assert record_snapshot(conn, province, START, END, exported_at) == 0  # nothing new
        before = conn.execute(f"select count(*) from {SNAPSHOTS}").fetchone()[0]
        # An April dossier that ended on time by our rule before June, with no supplement
        # request (no waiting time subtracted) and a deadline before mid-June: ended on
        # 20 June instead, it is late by the same rule, whatever the generator drew. Its
        # agency has on-time dossiers in June, few enough that one more late one moves
        # the rounded points.
        found = conn.execute(
            "select d.dossier_code, d.agency_code, s.numerator, s.denominator"
            " from intermediate.int_dossier_deadlines as d"
            " join marts.mart_qd766_scores as s on s.province_code = d.province_code"
            "  and s.scope_kind = 'agency' and s.scope_code = d.agency_code"
            "  and s.period_grain = 'month' and s.period_start = %s"
            "  and s.component_code = 'DOSSIER_HANDLING_ON_TIME'"
            " where d.province_code = %s and d.received_date >= %s and d.received_date < %s"
            "  and d.is_ended_on_time_net and d.supplement_request_count = 0"
            "  and d.ended_date < %s and d.deadline_date < %s"
            "  and s.numerator > 0"
            "  and 20.0 * s.numerator / (s.denominator * (s.denominator + 1)) >= 0.02"
            " order by d.dossier_code limit 1",
            (june, province, date(2025, 4, 1), date(2025, 5, 1), june, date(2025, 6, 16)),
        ).fetchone()
        assert found, "no April dossier ended on time fits the edit"
        key, agency, numerator_then, denominator_then = found
        payload = conn.execute(
            "select payload from raw.onestop__dossiers where record_key = %s"
            " and province_code = %s order by record_updated_at desc limit 1",
            (key, province),
        ).fetchone()[0]
        assert not payload.get("NgayTuChoi"), "a refused dossier ends when refused"
        ended = f"{late_end:%Y%m%d%H%M%S}"
        # the end is the earliest of handling ended and returned: both move
        edited = {**payload, "NgayKetThucXuLy": ended, "NgayCapNhat": "20250712090000",
                  **({"NgayTra": ended} if payload.get("NgayTra") else {})}  # fmt: skip
        conn.execute(
            "insert into raw.onestop__dossiers select batch_id || '-late', province_code,"
            " source, entity, window_start, window_end, extracted_at, record_key,"
            " %s, md5(%s), %s from raw.onestop__dossiers where record_key = %s limit 1",
            (datetime(2025, 7, 12, 9, 0, tzinfo=TZ), json.dumps(edited), json.dumps(edited), key),
        )
        conn.commit()
    # Only what the edit can change: the models downstream of the dossiers, with their data
    # tests. The rest, the seeds and the unit tests were built and passed on this very data by
    # the fixture's build.
    run_dbt(["build", "--select", "source:onestop.dossiers+", "--exclude", "test_type:unit"],
            database)  # fmt: skip
    with psycopg.connect(database.url()) as conn:
        # the premise, by the warehouse's own rule: the dossier now ends late in June
        judged = conn.execute(
            "select is_ended_late from intermediate.int_dossier_periods_judged"
            " where province_code = %s and dossier_code = %s and period_grain = 'month'"
            " and period_start = %s",
            (province, key, june),
        ).fetchone()
        assert judged == (True,), judged
        table = read_restatements(conn, quarter, province, datetime(2025, 7, 13, tzinfo=TZ))
        # our rule counts a dossier in every month from its receipt to its end: June, the
        # month the late end now falls in, gains a dossier that is not on time
        rows = [r for r in table.records()
                if r["scope_code"] == agency and r["period_start"] == june
                and r["component_code"] == "DOSSIER_HANDLING_ON_TIME"
                and r["taken_at"] == exported_at]  # fmt: skip
        assert len(rows) == 1, table.records()
        row = rows[0]
        assert row["origin"] == ORIGINS_VI["export"]
        assert (row["numerator_then"], row["denominator_then"]) == (
            numerator_then, denominator_then)  # fmt: skip
        assert (row["numerator_after"], row["denominator_after"]) == (
            numerator_then, denominator_then + 1)  # fmt: skip
        assert row["points_after"] < row["points_then"]
        assert row["points_change"] == row["points_after"] - row["points_then"] < 0
        # the next export appends the new figures; what the first said stays
        assert record_snapshot(conn, province, START, END, exported_at + timedelta(days=3)) > 0
        after = conn.execute(f"select count(*) from {SNAPSHOTS}").fetchone()[0]
        assert after > before
        again = read_restatements(conn, quarter, province, datetime(2025, 7, 14, tzinfo=TZ))
        assert any(r["scope_code"] == agency and r["period_start"] == june
                   and r["component_code"] == "DOSSIER_HANDLING_ON_TIME"
                   and r["taken_at"] == exported_at
                   and r["points_after"] == row["points_after"]
                   for r in again.records())  # fmt: skip
