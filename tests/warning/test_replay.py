"""The early-warning mart and its replay on a small generated province, end to end:
generated, served, extracted, built with dbt, then the nights replayed and scored.

Checks correctness, not speed: the mart holds every open dossier once; in the replay, a
dossier warned by the model before its due date that then ended late is a true positive; the
counts the scorer prints equal the same counts computed directly in SQL.
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from cchc.extract.run import extract_windows
from cchc.extract.window import Window, local_midnight
from cchc.simulators.server import SimulatorProcess
from cchc.synthetic import generate
from cchc.transform.dbt import dbt_build
from cchc.warning.choose import Rule
from cchc.warning.cli import (
    DEFAULT_HORIZON,
    DEFAULT_LAST_CHANCE,
    DEFAULT_THRESHOLD,
    DEFAULT_TOO_LATE,
)
from cchc.warning.replay import build_replay, read_replay
from cchc.warning.score import Night, model_rule, naive_rule, score
from tests.conftest import settings_using

START, END = date(2025, 1, 1), date(2025, 5, 1)
FIRST_NIGHT, LAST_NIGHT = date(2025, 3, 3), date(2025, 3, 28)
THRESHOLD = 0.3

# Per dossier, from the replay table and the dossiers' outcome, the model rule's counts.
SQL_COUNTS = """
with flags as (
    select province_code, dossier_code,
        bool_or(risk_probability >= %(threshold)s) as warned
    from intermediate.int_warning_replay
    where working_days_left >= 1 and not is_waiting_supplement
    group by province_code, dossier_code
),
judged as (
    select flags.*, case
        when d.status_code = 7 then false
        when d.ended_date is not null then d.ended_date > d.due_date
        when d.due_date < %(data_end)s then true
    end as went_late
    from flags
    join marts.fct_dossiers d using (province_code, dossier_code)
    where d.due_date <= %(last_night)s
)
select count(*) filter (where went_late is not null),
    count(*) filter (where went_late),
    count(*) filter (where warned and went_late is not null),
    count(*) filter (where warned and went_late)
from judged
"""


@pytest.fixture(scope="module")
def replayed(settings, make_database):
    config = settings_using(settings, make_database("warning"))
    out = config.data_dir / "sim-warning"
    store = generate(out, START, END, seed=11, scale=0.003, clean=True)
    from cchc import warehouse
    from cchc.security.roles import bootstrap_roles

    pg = warehouse.params(config)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        bootstrap_roles(conn, pii_salt="warning-test-salt-0123456789")
    end = local_midnight(END) + timedelta(hours=1)
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        extract_windows(config, [Window(local_midnight(date(1990, 1, 1)), end)])
        extract_windows(config, [Window(local_midnight(START), end)], kind="monthly")
    dbt_build(pg, full_refresh=True, unit_tests=False)
    build_replay(pg, FIRST_NIGHT, LAST_NIGHT)
    return pg


def test_the_mart_holds_every_open_dossier_once(replayed) -> None:
    with psycopg.connect(replayed.url()) as conn:
        (as_of,) = conn.execute(
            "select distinct as_of_date from marts.mart_dossiers_at_risk"
        ).fetchone()
        (latest,) = conn.execute(
            "select (max(updated_at) at time zone 'Asia/Ho_Chi_Minh')::date from marts.fct_dossiers"
        ).fetchone()
        open_codes = {
            code
            for (code,) in conn.execute(
                "select dossier_code from marts.fct_dossiers"
                " where not is_ended and status_code <> 7"
            )
        }
        rows = conn.execute(
            "select r.dossier_code, r.holding_step, r.risk_reason, r.is_late, r.is_at_risk,"
            " r.risk_probability, r.working_days_left"
            " from marts.mart_dossiers_at_risk r"
            " join marts.fct_dossiers d using (province_code, dossier_code)"
            " where not d.is_ended"
        ).fetchall()
    assert as_of == latest  # the data's own as-of (30 April is a holiday: nothing recorded)
    assert {r[0] for r in rows} == open_codes and len(rows) == len(open_codes)
    assert all(r[2] for r in rows)  # a reason for each, in words
    assert any(r[4] for r in rows) and any(r[3] for r in rows)
    for _, _, reason, is_late, at_risk, probability, left in rows:
        assert 0 <= probability <= 1
        assert is_late == (left <= 0) or reason.startswith("đang chờ")
        if at_risk:
            assert reason.startswith(f"còn {left} ngày làm việc") and "khả năng trễ hạn" in reason


def test_a_dossier_warned_then_finished_late_is_a_true_positive(replayed) -> None:
    nights, outcomes, data_end = read_replay(replayed)
    assert {n.as_of for n in nights} == {
        FIRST_NIGHT + timedelta(days=d) for d in range((LAST_NIGHT - FIRST_NIGHT).days + 1)
    }
    result = score("model", model_rule(THRESHOLD), nights, outcomes, LAST_NIGHT, data_end)
    warned_then_late = {
        n.dossier
        for n in nights
        if n.risk_probability >= THRESHOLD
        and n.working_days_left >= 1
        and not n.waiting_supplement
        and outcomes[n.dossier].ended_date is not None
        and outcomes[n.dossier].ended_date > outcomes[n.dossier].due_date
        and outcomes[n.dossier].due_date <= LAST_NIGHT
    }
    assert warned_then_late, "the fixture has no dossier warned and then finished late"
    assert warned_then_late <= result.true_positive_keys
    with psycopg.connect(replayed.url()) as conn:
        counts = conn.execute(
            SQL_COUNTS,
            {"threshold": THRESHOLD, "data_end": data_end, "last_night": LAST_NIGHT},
        ).fetchone()
    assert counts == (result.dossiers, result.late, result.warned, result.true_positives)
    assert result.precision == result.true_positives / result.warned
    naive = score("naive", naive_rule(2), nights, outcomes, LAST_NIGHT, data_end)
    assert naive.dossiers == result.dossiers and naive.late == result.late


def test_a_night_before_a_supplement_request_counts_to_the_due_date_it_had_then(replayed) -> None:
    """A supplement request moves the due date afterwards: the nights before it count their
    working days left to the due date the dossier had then, as that night's mart did."""
    with psycopg.connect(replayed.url()) as conn:
        rows = conn.execute(
            """
            select r.due_date, r.due_date_then, s.previous_due_at, r.working_days_left,
                then_day.working_day_number - night.working_day_number
            from intermediate.int_warning_replay r
            join lateral (
                select (previous_due_at at time zone 'Asia/Ho_Chi_Minh')::date as previous_due_at
                from staging.stg_onestop__dossier_supplements s
                where s.province_code = r.province_code and s.dossier_code = r.dossier_code
                    and (s.requested_at at time zone 'Asia/Ho_Chi_Minh')::date > r.as_of_date
                    and s.previous_due_at is not null
                order by s.requested_at limit 1
            ) s on true
            join marts.dim_date night on night.date_day = r.as_of_date
            join marts.dim_date then_day on then_day.date_day = r.due_date_then
            """
        ).fetchall()
    assert rows, "no night before a supplement request in the replay"
    assert any(due_then < final for final, due_then, *_ in rows)  # the request moved it later
    for _final, due_then, previous, left, counted in rows:
        assert due_then == previous and left == counted


def test_a_one_night_replay_says_what_that_nights_mart_said(replayed) -> None:
    """Last in the module: it rebuilds the replay table for the mart's own night."""
    with psycopg.connect(replayed.url()) as conn:
        (as_of,) = conn.execute(
            "select distinct as_of_date from marts.mart_dossiers_at_risk"
        ).fetchone()
        mart = conn.execute(
            "select r.dossier_code, r.working_days_left, r.risk_probability"
            " from marts.mart_dossiers_at_risk r"
            " join marts.fct_dossiers d using (province_code, dossier_code)"
            " where not d.is_ended order by r.dossier_code"
        ).fetchall()
    build_replay(replayed, as_of, as_of)
    with psycopg.connect(replayed.url()) as conn:
        replay = conn.execute(
            "select r.dossier_code, r.working_days_left, r.risk_probability"
            " from intermediate.int_warning_replay r"
            " join marts.fct_dossiers d using (province_code, dossier_code)"
            " where not d.is_ended order by r.dossier_code"
        ).fetchall()
    assert len(mart) > 10 and any(row[2] > 0 for row in mart)
    assert replay == mart


def test_the_marts_flag_is_the_rule_the_command_scores(replayed) -> None:
    """The mart's is_at_risk (dbt vars' defaults) and `cchc warn score`'s default rule agree
    on every open dossier a warning could concern, whatever its days left."""
    rule = Rule(DEFAULT_THRESHOLD, DEFAULT_HORIZON, DEFAULT_LAST_CHANCE, DEFAULT_TOO_LATE)
    warns = rule.warns()
    with psycopg.connect(replayed.url()) as conn:
        rows = conn.execute(
            "select r.working_days_left, r.risk_probability, r.is_at_risk"
            " from marts.mart_dossiers_at_risk r"
            " join marts.fct_dossiers d using (province_code, dossier_code)"
            " where not d.is_ended and not r.is_late"
        ).fetchall()
    assert {left for left, _, _ in rows} >= {1, 2, 3}
    for left, probability, at_risk in rows:
        night = Night(("H40", "x"), FIRST_NIGHT, left, float(probability))
        assert at_risk == warns(night), (left, probability)
