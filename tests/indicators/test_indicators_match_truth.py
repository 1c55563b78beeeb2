"""Acceptance: every indicator of the marts equals the generator's own count.

A small province is generated twice (clean, and with data-entry errors injected), served by
the simulator process, loaded into its own warehouse database and built with dbt. Each
indicator of `mart_cchc_indicators` is compared with `truth/indicators.csv` for every agency
and month, and the additive ones for every quarter and for the province.

What the truth cannot be compared on, and why (stated, not hidden):
- the truth counts each dossier's whole simulated life, also the part after the generated
  range; indicators that need the dossier's end (ended late, electronic result, rating) are
  compared for the months whose dossiers have all ended, and rated, inside the range;
- indicators judged at a month's end are compared for the months before the last one: the
  truth judges an open dossier by its final appointment, which a supplement request may
  still move after the range ends.
With errors injected, `truth/errors.csv` is accounted for explicitly: a cell (agency, month,
indicator) touched by no listed record must match exactly; one touched by k records may
differ by at most k, and rows of agency codes that only an `unknown_agency_code` record
produced are ignored.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cchc.extract.entities import ENTITIES
from cchc.extract.run import extract_entity
from cchc.extract.window import Window, local_midnight
from cchc.simulators.server import SimulatorProcess
from cchc.synthetic import generate
from cchc.synthetic.errors import UNKNOWN_AGENCY_SUFFIX, ErrorRates
from cchc.transform.dbt import PROJECT_DIR, dbt_build, run_dbt
from tests.conftest import settings_using

START, MIDDLE, END = date(2025, 7, 1), date(2025, 9, 10), date(2025, 11, 1)
# Every incremental model of the project (its SQL file says so).
INCREMENTAL_MODELS = tuple(
    sorted(
        path.stem
        for path in (PROJECT_DIR / "models").rglob("*.sql")
        if "materialized='incremental'" in path.read_text(encoding="utf-8")
    )
)
SCALE = 0.003
# Models that judge open dossiers at the as-of and rebuild only those whose judgement its move
# can change (macro open_dossier_events).
JUDGED_AT_THE_AS_OF = (
    "int_dossier_periods_judged",
    "int_dossier_form06_quarters",
    "int_dossier_months_judged",
)
# Also nothing to rewrite when the as-of does not move: the deadlines (a supplement still
# waiting runs to the as-of) and the events the models above find the night's dossiers by.
QUIET_WHEN_THE_AS_OF_STAYS = (
    *JUDGED_AT_THE_AS_OF,
    "int_dossier_deadlines",
    "int_dossier_asof_events",
)
# truth column -> mart_cchc_indicators column
ADDITIVE = {
    "dossiers_received": "dossiers_received",
    "online_received": "online_received",
    "direct_received": "direct_received",
    "postal_received": "postal_received",
    "digitized": "digitized_dossiers",
    "reused": "reused_dossiers",
    "fee_dossiers": "fee_dossiers",
    "paid_online": "paid_online_dossiers",
    "synced": "synced_dossiers",
    "petitions": "petitions",
    "petitions_on_time": "petitions_on_time",
    "incoming_documents": "incoming_documents",
    "incoming_overdue": "incoming_overdue",
    "outgoing_documents": "outgoing_documents",
    "outgoing_unsigned": "outgoing_unsigned",
}
AT_MONTH_END = {
    "ended_by_month_end": "ended_by_period_end",
    "on_time_766": "on_time_at_period_end",
    "overdue_766": "overdue_at_period_end",
}
AFTER_THE_END = {
    "ended_late": "ended_late",
    "e_result": "e_result_dossiers",
    "rated": "rated_dossiers",
    "rated_dissatisfied": "rated_dissatisfied",
}
DOSSIER_INDICATORS = set(AT_MONTH_END) | set(AFTER_THE_END) | {
    "dossiers_received", "online_received", "direct_received", "postal_received", "digitized",
    "reused", "fee_dossiers", "paid_online", "synced",
}  # fmt: skip
# Rules that describe how the sources behave: the truth already counts them as they are.
ACCOUNTED_IN_TRUTH = {
    "late_without_apology", "missing_from_portal", "portal_status_mismatch",
    "unsigned_outgoing_document", "incoming_document_overdue",
}  # fmt: skip
# >1 supplement request: late by the 766 rule, which the truth applies only to ended dossiers
JUDGED_AT_MONTH_END_ONLY = {"multiple_supplement_requests"}


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _dossier_cell(key: str) -> tuple[str, str]:
    """'{agency}-{yyMMdd}-{NNNN}' -> (agency, 'yyyy-mm') of receipt."""
    agency, day, _ = key.rsplit("-", 2)
    return agency, f"20{day[:2]}-{day[2:4]}"


def _touched_cells(truth_dir: Path) -> dict[tuple[str, str, str], int]:
    """(agency, month, truth indicator) -> number of error records that can move it."""
    touched: dict[tuple[str, str, str], int] = defaultdict(int)
    with (truth_dir / "errors.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["rule"] in ACCOUNTED_IN_TRUTH or row["entity"] not in (
                "dossiers", "dossier_sync",
            ):  # fmt: skip
                continue
            agency, month = _dossier_cell(row["record_key"])
            names = AT_MONTH_END if row["rule"] in JUDGED_AT_MONTH_END_ONLY else DOSSIER_INDICATORS
            # a dossier keyed under an agency code that does not exist moves from its own cell
            # to the unknown code's (the truth counts its portal copy there)
            cells = [agency] + (
                [agency + UNKNOWN_AGENCY_SUFFIX] if row["rule"] == "unknown_agency_code" else []
            )
            for cell in cells:
                for name in names:
                    touched[(cell, month, name)] += 1
    return touched


def _truth(truth_dir: Path) -> dict[tuple[str, str], dict[str, int]]:
    with (truth_dir / "indicators.csv").open(encoding="utf-8") as file:
        return {
            (r["agency_code"], r["month"]): {k: int(v) for k, v in r.items() if k not in (
                "agency_code", "month")}
            for r in csv.DictReader(file)
        }  # fmt: skip


def _checksums(pg) -> dict[str, tuple[int, str]]:
    """Row count and a hash of the rows of every relation dbt builds (not the incremental
    models' bookkeeping: their watermarks and change log)."""
    with psycopg.connect(pg.url()) as conn:
        relations = [
            (schema, name)
            for schema, name in conn.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema in ('staging', 'intermediate', 'marts', 'restricted')"
                " and table_name not in ('incremental_watermarks', 'incremental_changes',"
                " 'incremental_load_runs', 'incremental_load_marks')"
            )
        ]
        return {
            name: conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), ''))"
                f" from {schema}.{name} as r"
            ).fetchone()
            for schema, name in relations
        }


def _incremental_writes(pg) -> tuple[dict[str, int], int]:
    """Rows inserted or deleted so far in each incremental model's table, and the newest entry
    of the change log the period marts rebuild from."""
    with psycopg.connect(pg.url()) as conn:
        written = dict(
            conn.execute(
                "select relname, n_tup_ins + n_tup_del from pg_stat_user_tables"
                " where schemaname in ('staging', 'intermediate', 'marts', 'restricted')"
                " and relname = any(%s)",
                [list(INCREMENTAL_MODELS)],
            ).fetchall()
        )
        (seq,) = conn.execute(
            "select coalesce(max(seq), 0) from intermediate.incremental_changes"
        ).fetchone()
    return written, seq


def _touch_one_open_dossier(pg) -> dict:
    """Store a new version of one open dossier (same payload), updated a microsecond after the
    latest version of the province: one change, and an as-of that crosses no day. Returns
    the number of open dossiers and the dossier's rows in the as-of-judged models."""
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        code, open_dossiers = conn.execute(
            "select min(dossier_code), count(*) from intermediate.int_dossiers_lifecycle"
            " where ended_at is null and received_at is not null"
        ).fetchone()
        conn.execute(
            """
            insert into raw.onestop__dossiers (batch_id, province_code, source, entity,
                window_start, window_end, extracted_at, record_key, record_updated_at,
                payload_hash, payload)
            select batch_id, province_code, source, entity, window_start, window_end, now(),
                record_key,
                (select max(record_updated_at) from raw.onestop__dossiers)
                    + interval '1 microsecond',
                md5(payload_hash || ' again'), payload
            from raw.onestop__dossiers
            where record_key = %s
            order by record_updated_at desc nulls last, extracted_at desc
            limit 1
            """,
            (code,),
        )
        rows = {
            name: conn.execute(
                f"select count(*) from intermediate.{name} where dossier_code = %s", (code,)
            ).fetchone()[0]
            for name in JUDGED_AT_THE_AS_OF
        }
    return {"open_dossiers": open_dossiers, "rows": rows}


def _province(name: str, settings, make_database, clean: bool) -> dict:
    config = settings_using(settings, make_database(f"indicators_{name}"))
    out = config.data_dir / f"sim-indicators-{name}"
    errors = None if clean else ErrorRates()
    store = generate(out, START, END, seed=7, scale=SCALE, clean=clean, errors=errors)
    from cchc import warehouse
    from cchc.security.roles import bootstrap_roles

    pg = warehouse.params(config)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        bootstrap_roles(conn, pii_salt="indicator-test-salt-0123456789")
    # Clean: the initial load up to MIDDLE, a build, the rest, an incremental build, then a
    # full refresh that must give the same relations. With errors: one load, one build.
    phases = [(date(1990, 1, 1), MIDDLE), (MIDDLE, END)] if clean else [(date(1990, 1, 1), END)]
    with SimulatorProcess(store, port=config.sim_port, token=config.sim_token):
        for number, (since, until) in enumerate(phases):
            for entity in ENTITIES:
                if entity.kind == "monthly":  # the portal's monthly evaluations: once
                    if number < len(phases) - 1:
                        continue
                    since = START
                window = Window(local_midnight(since), local_midnight(until) + timedelta(hours=1))
                extract_entity(entity, window, config)
            dbt_build(pg, full_refresh=number == 0)
    incremental = _checksums(pg) if clean else None
    full_refresh = quiet = late = None
    if clean:
        # A night that loaded nothing new: what the nightly build (default settings) still
        # writes.
        before = _incremental_writes(pg)
        run_dbt(["build", "--exclude", "test_type:unit"], pg)
        quiet = {"before": before, "after": _incremental_writes(pg), "relations": _checksums(pg),
                 "previous": incremental}  # fmt: skip
        # A night that changed one open dossier and moved the as-of by a microsecond: only
        # that dossier is judged again (its rows deleted and inserted), no other open one.
        touched = _touch_one_open_dossier(pg)
        before = _incremental_writes(pg)
        run_dbt(["build", "--exclude", "test_type:unit"], pg)
        quiet["one_change"] = {"before": before, "after": _incremental_writes(pg), **touched}
        # A night that loaded only a version written late at the source, days before the
        # data's latest update: the nightly build must pick it up.
        late = {"version": _load_late_version(pg)}
        late["reassigned"] = _reassign_latest_step(pg, other_than=late["version"]["key"])
        late["renamed"] = _rename_agency(pg)
        run_dbt(["build", "--exclude", "test_type:unit"], pg)
        incremental = _checksums(pg)
        late["renamed"]["names"] = _indicator_names(pg, late["renamed"]["unit"])
        late["staged"] = _staged_update(pg, late["version"]["key"])
        with psycopg.connect(pg.url()) as conn:
            late["reassigned"]["handler"] = conn.execute(
                "select officer_key from restricted.officer_handling_steps"
                " where dossier_code = %(dossier)s and step_number = %(step)s",
                late["reassigned"],
            ).fetchone()[0]
        dbt_build(pg, full_refresh=True)
        full_refresh = _checksums(pg)
    with psycopg.connect(pg.url()) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute("select * from marts.mart_cchc_indicators").fetchall()
        settled = cur.execute(
            """
            -- months whose dossiers have all ended (or were withdrawn) and could be rated
            -- (ratings come up to 72 hours after the end) before the data's horizon
            select to_char(received_month, 'YYYY-MM') as month
            from marts.fct_dossiers
            group by received_month
            having bool_and(is_ended or status_code = 7)
                and max(ended_at) + interval '3 days' < %s
            """,
            (datetime(END.year, END.month, END.day) - timedelta(hours=7),),
        ).fetchall()
    return {
        "rows": rows,
        "truth": _truth(out / "truth"),
        "touched": _touched_cells(out / "truth") if not clean else {},
        "settled": {r["month"] for r in settled},
        "relations": (incremental, full_refresh),
        "quiet": quiet,
        "late": late,
    }


def _load_late_version(pg) -> dict:
    """A new version of a dossier last updated at least five days before the data's latest
    update, stamped one hour after its latest version (so it wins) and loaded now, as the
    loader stamps it: on the load clock. Nothing the indicators count changes."""
    with psycopg.connect(pg.url()) as conn:
        key, updated, newest = conn.execute(
            """
            select latest.record_key, latest.record_updated_at, newest.at
            from (select max(record_updated_at) as at from raw.onestop__dossiers) as newest
            cross join lateral (
                select distinct on (record_key) record_key, record_updated_at
                from raw.onestop__dossiers
                order by record_key, record_updated_at desc
            ) as latest
            where latest.record_updated_at < newest.at - interval '5 days'
            order by latest.record_key
            limit 1
            """
        ).fetchone()
        stamped = updated + timedelta(hours=1)
        conn.execute(
            """
            insert into raw.onestop__dossiers
            select batch_id || '-late', province_code, source, entity, window_start,
                window_end, clock_timestamp(), record_key, %(stamped)s,
                md5(payload::text || 'late'),
                payload || jsonb_build_object('NgayCapNhat', to_char(
                    %(stamped)s at time zone 'Asia/Ho_Chi_Minh', 'YYYYMMDDHH24MISS'))
            from raw.onestop__dossiers
            where record_key = %(key)s
            order by record_updated_at desc
            limit 1
            """,
            {"key": key, "stamped": stamped},
        )
        conn.commit()
    return {"key": key, "updated_at": stamped, "newest": newest}


def _reassign_latest_step(pg, other_than: str) -> dict:
    """A new version of a dossier whose step is its officer's latest appearance, the step now
    handled by another officer with another title: the officer loses the step that gave
    them their last seen time and title, which the officer aggregates cannot update by
    difference (they read that officer again). Returns the officer and the dossier."""
    with psycopg.connect(pg.url()) as conn:
        officer, dossier, step = conn.execute(
            """
            select distinct on (officer_key) officer_key, dossier_code, step_number
            from restricted.officer_handling_steps
            where handled_at is not null and dossier_code <> %s
            order by officer_key, handled_at desc, dossier_code desc, step_number desc
            limit 1
            """,
            [other_than],
        ).fetchone()
        conn.execute(
            """
            insert into raw.onestop__dossiers
            select batch_id || '-reassigned', province_code, source, entity, window_start,
                window_end, clock_timestamp(), record_key,
                record_updated_at + interval '1 second', md5(payload::text || 'reassigned'),
                jsonb_set(jsonb_set(payload, array['QuaTrinhXuLy', %(index)s, 'NguoiXuLy'],
                    '"Cán bộ kiểm thử"'), array['QuaTrinhXuLy', %(index)s, 'ChucDanh'],
                    '"Chuyên viên kiểm thử"')
            from raw.onestop__dossiers
            where record_key = %(dossier)s
            order by record_updated_at desc, extracted_at desc
            limit 1
            """,
            {"dossier": dossier, "index": str(step - 1)},
        )
        conn.commit()
    return {"officer": officer, "dossier": dossier, "step": step}


def _rename_agency(pg) -> dict:
    """A new version of an administrative unit with indicator rows, under a new name: the
    period marts take the name from dim_agencies, whose change rebuilds the province (a keyed
    fingerprint compared with the one saved by the run before). Returns the unit and its new
    name."""
    with psycopg.connect(pg.url()) as conn:
        unit, name, staged_name = conn.execute(
            """
            select units.record_key, (units.payload ->> 'TenDonVi') || ' (tên mới)',
                normalize((units.payload ->> 'TenDonVi') || ' (tên mới)', nfc)
            from raw.onestop__administrative_units as units
            where exists (
                select 1 from marts.mart_cchc_indicators as indicators
                where indicators.scope_kind = 'agency' and indicators.scope_code = units.record_key
                    and indicators.period_grain = 'year')
            order by units.record_key, units.record_updated_at desc, units.extracted_at desc
            limit 1
            """
        ).fetchone()
        conn.execute(
            """
            insert into raw.onestop__administrative_units
            select batch_id || '-renamed', province_code, source, entity, window_start,
                window_end, clock_timestamp(), record_key,
                record_updated_at + interval '1 second', md5(payload::text || 'renamed'),
                jsonb_set(payload, '{TenDonVi}', to_jsonb(%(name)s::text))
            from raw.onestop__administrative_units
            where record_key = %(unit)s
            order by record_updated_at desc, extracted_at desc
            limit 1
            """,
            {"unit": unit, "name": name},
        )
        conn.commit()
    return {"unit": unit, "name": staged_name}


def _indicator_names(pg, unit: str) -> set[str]:
    with psycopg.connect(pg.url()) as conn:
        rows = conn.execute(
            "select distinct scope_name from marts.mart_cchc_indicators"
            " where scope_kind = 'agency' and scope_code = %s",
            [unit],
        ).fetchall()
    return {name for (name,) in rows}


def _staged_update(pg, key: str):
    with psycopg.connect(pg.url()) as conn:
        return conn.execute(
            "select updated_at from staging.stg_onestop__dossiers where dossier_code = %s", [key]
        ).fetchone()[0]


@pytest.fixture(scope="module")
def clean_province(settings, make_database):
    return _province("clean", settings, make_database, clean=True)


@pytest.fixture(scope="module")
def province_with_errors(settings, make_database):
    return _province("errors", settings, make_database, clean=False)


def _compare(province: dict) -> tuple[list, int]:
    months_ended = {
        _month(date(y, m, 1)) for y in (2025,) for m in range(1, 13)
        if (date(y, m, 28) + timedelta(days=4)).replace(day=1) < END
    }  # fmt: skip
    mart = {
        (r["scope_code"], r["period_label"]): r
        for r in province["rows"]
        if r["scope_kind"] == "agency" and r["period_grain"] == "month"
    }
    mismatches, compared = [], 0
    for (agency, month), truth in province["truth"].items():
        row = mart.get((agency, month))
        for name, column in {**ADDITIVE, **AT_MONTH_END, **AFTER_THE_END}.items():
            if name in AT_MONTH_END and month not in months_ended:
                continue
            if name in AFTER_THE_END and month not in province["settled"]:
                continue
            got = row[column] if row else 0
            allowed = province["touched"].get((agency, month, name), 0)
            compared += 1
            if abs(got - truth[name]) > allowed:
                mismatches.append((agency, month, name, truth[name], got, allowed))
    return mismatches, compared


def test_clean_province_every_indicator_equals_truth(clean_province):
    mismatches, compared = _compare(clean_province)
    print(f"clean: {compared} cells compared, settled months {sorted(clean_province['settled'])}")
    assert clean_province["settled"], "no month settled: widen the generated range"
    assert compared > 1000
    assert not mismatches, mismatches[:20]


def test_incremental_build_equals_a_full_refresh(clean_province):
    """Seven weeks of changes built incrementally give exactly the relations a full refresh
    gives: every incremental model (staging, intermediate, facts, dimensions, marts), and
    everything built from them."""
    incremental, full_refresh = clean_province["relations"]
    assert set(INCREMENTAL_MODELS) <= set(incremental), set(INCREMENTAL_MODELS) - set(incremental)
    assert all(incremental[name][0] for name in INCREMENTAL_MODELS), {
        name: incremental[name] for name in INCREMENTAL_MODELS if not incremental[name][0]
    }
    differing = sorted(name for name in full_refresh if incremental.get(name) != full_refresh[name])
    assert not differing, differing


def test_a_night_without_changes_rebuilds_almost_nothing(clean_province):
    """A nightly build after a night that loaded nothing changes no relation, logs no changed
    period (so no period mart is re-aggregated), reads no record again, and rewrites only
    rows judged at the data's as-of, not the history: none where only the as-of's move can
    change an open dossier's judgement."""
    incremental, _ = clean_province["relations"]
    quiet = clean_province["quiet"]
    assert quiet["relations"] == quiet["previous"]
    (before, seq_before), (after, seq_after) = quiet["before"], quiet["after"]
    assert seq_after == seq_before
    written = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    held = sum(incremental[name][0] for name in INCREMENTAL_MODELS)
    print(f"quiet night: {sum(written.values())} rows written of {held} held", {
        name: rows for name, rows in written.items() if rows})  # fmt: skip
    staging = {name: rows for name, rows in written.items() if name.startswith("stg_")}
    assert not any(staging.values()), staging
    # only the models judged at the data's as-of (the dossiers still open) write anything:
    # nothing loaded after the previous build is read again
    assert not written.get("mart_qd766_official"), written
    assert sum(written.values()) < held / 20, written
    # the as-of did not move: no open dossier's judgement can have changed, so the models
    # that judge open dossiers at the as-of rewrite none (they follow the as-of's events)
    judged = {name: written.get(name, 0) for name in QUIET_WHEN_THE_AS_OF_STAYS}
    assert not any(judged.values()), judged


def test_a_night_with_one_change_judges_again_only_that_dossier(clean_province):
    """One open dossier changed and the as-of moved past it: the models judging open dossiers
    at the as-of rewrite that dossier's rows only, not every open dossier's."""
    change = clean_province["quiet"]["one_change"]
    (before, _), (after, _) = change["before"], change["after"]
    assert change["open_dossiers"] > 10
    for name in JUDGED_AT_THE_AS_OF:
        assert change["rows"][name] > 0, name
        # deleted and inserted again: twice its rows
        assert after.get(name, 0) - before.get(name, 0) == 2 * change["rows"][name], name


def test_a_version_loaded_late_with_an_old_update_time_is_picked_up(clean_province):
    """A version written at the source days before the data's latest update (beyond any
    look-back of a day or two) but loaded only now is read by the next nightly build: change
    detection follows the load clock, not the source's update time. The incremental build
    then still equals a full refresh (test_incremental_build_equals_a_full_refresh)."""
    late = clean_province["late"]
    assert late["version"]["updated_at"] < late["version"]["newest"] - timedelta(days=4)
    assert late["staged"] == late["version"]["updated_at"]


def test_an_officer_losing_their_latest_step_is_counted_again(clean_province):
    """The step that was an officer's latest appearance went to another officer: the officer
    aggregates, updated by difference, then still equal a full refresh
    (test_incremental_build_equals_a_full_refresh), and the step is the other officer's."""
    reassigned = clean_province["late"]["reassigned"]
    assert reassigned["handler"] != reassigned["officer"]


def test_a_renamed_agency_is_renamed_in_every_period(clean_province):
    """An agency renamed by a new version of its unit: the nightly build gives its indicator
    rows of every period the new name, also the periods none of its records changed in (the
    whole province is computed again), and still equals a full refresh
    (test_incremental_build_equals_a_full_refresh)."""
    renamed = clean_province["late"]["renamed"]
    assert renamed["names"] == {renamed["name"]}


def test_clean_province_quarters_and_province_add_up(clean_province):
    truth = clean_province["truth"]
    expected: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (agency, month), counts in truth.items():
        year, mon = (int(p) for p in month.split("-"))
        quarter = f"{year}Q{(mon - 1) // 3 + 1}"
        for name in ADDITIVE:
            expected[("agency", agency, quarter)][name] += counts[name]
            expected[("province", "H40", quarter)][name] += counts[name]
            expected[("province", "H40", month)][name] += counts[name]
    mart = {
        (r["scope_kind"], r["scope_code"], r["period_label"]): r
        for r in clean_province["rows"]
        if r["period_grain"] in ("month", "quarter")
    }
    for key, counts in expected.items():
        for name, value in counts.items():
            assert mart[key][ADDITIVE[name]] == value, (key, name)


def test_clean_province_every_late_dossier_has_its_apology(clean_province):
    for row in clean_province["rows"]:
        if row["scope_kind"] == "agency" and row["period_label"] in clean_province["settled"]:
            assert row["late_with_apology"] == row["ended_late"], row["scope_code"]


def test_province_with_errors_matches_truth_where_no_error_touches_it(province_with_errors):
    mismatches, compared = _compare(province_with_errors)
    touched = sum(1 for n in province_with_errors["touched"].values() if n)
    print(f"errors: {compared} cells compared, {touched} touched by listed records")
    assert compared > 1000
    assert not mismatches, mismatches[:20]
    # every agency code the marts hold that the truth does not is an unknown code an
    # error record produced
    listed = {cell[0] for cell in province_with_errors["touched"]}
    truth_agencies = {agency for agency, _ in province_with_errors["truth"]}
    extra = {
        r["scope_code"] for r in province_with_errors["rows"]
        if r["scope_kind"] == "agency" and r["scope_code"] not in truth_agencies
    }  # fmt: skip
    assert extra <= listed, extra - listed
