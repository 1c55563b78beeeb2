"""A small warehouse with the marts the quarterly export reads, written by hand.

The marts' columns are those of their contracts (dbt_project/models/marts/**); the rows
are few and chosen so every layout case shows up: two levels, several fields, a district
with a commune, estimated components, flagged dossiers, a previous quarter.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from cchc.config import load_settings
from cchc.extract.entities import ENTITIES
from cchc.security.roles import bootstrap_roles, login_passwords
from tests.conftest import settings_using

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCIES = [
    ("H40.12", "Sở Tư pháp"),
    ("H40.41", "UBND thành phố Vinh"),
    ("H40.41.01", "UBND xã Lạc Yên"),
]
FIELDS = [("LV01", "Hộ tịch"), ("LV02", "Chứng thực"), ("LV03", "Đất đai")]

DDL = """
create schema if not exists marts; create schema if not exists dq; create schema if not exists audit;
create table marts.dim_agencies (agency_code text primary key, agency_name text,
    province_code text not null default 'H40', is_known_unit boolean not null default true);
create table marts.mart_form06_quarterly (
    period_kind text, period_label text, period_start date, period_end date,
    field_code text, field_name text, level_code int, agency_code text, agency_name text,
    received_total int, received_online int, received_direct_or_postal int,
    received_carried_over int, resolved_total int, resolved_before_deadline int,
    resolved_on_deadline int, resolved_late int, in_progress_total int,
    in_progress_within_deadline int, in_progress_overdue int,
    province_code text not null default 'H40');
create table marts.mart_qd766_scores (
    scope_kind text, scope_code text, scope_name text, period_grain text, period_start date,
    period_end date, period_label text, group_code text, group_name text,
    component_code text, component_name text, numerator int, denominator int,
    ratio numeric, points numeric, max_points numeric, is_estimate boolean,
    measure_basis text, group_points numeric, group_max_points numeric,
    total_points numeric, total_max_points numeric, rank_in_period int,
    province_code text not null default 'H40', unit_level int, dossiers_received int,
    rank_status text);
create table marts.mart_qd766_bounds (
    province_code text not null default 'H40', scope_kind text, scope_code text,
    period_grain text, period_start date, period_label text, component_code text,
    points numeric, max_points numeric, flagged_records int, bounds_status text,
    points_low numeric, points_high numeric, points_at_stake numeric, points_estimate numeric);
create table marts.mart_qd766_reconciliation_causes (
    province_code text not null default 'H40', scope_kind text default 'agency', scope_code text,
    scope_name text, period_grain text default 'month', period_start date, component_code text,
    component_name text, our_points numeric, official_points numeric, difference numeric,
    has_portal_rule boolean, portal_rule_now_points numeric, counting_rule_points numeric,
    cutoff_timing_points numeric, not_synced_points numeric, status_mismatch_points numeric,
    unit_mapping_points numeric, residual_points numeric, dossiers_edited_after_snapshot int,
    dossiers_not_synced int, dossiers_status_mismatch int, dossiers_unit_remapped int);
create table marts.dim_administrative_units (province_code text, unit_code text,
    unit_name text, unit_level int, valid_from date, valid_to date);
create table marts.fct_dossiers (dossier_code text primary key, agency_code text,
    received_date date, ended_date date, province_code text not null default 'H40');
create table dq.record_flags (run_id text, source text, entity text, record_key text,
    rule_id text, severity text, flagged_at timestamptz, province_code text default 'H40');
create table audit.watermarks (province_code text, source text, entity text, loaded_until timestamptz,
    last_batch_id text, updated_at timestamptz default now());
"""
COMPONENTS = [  # (group, component, max, is_estimate)
    ("TDGQ", "DOSSIER_HANDLING_ON_TIME", 20, False),
    ("CKMB", "DOSSIER_SYNC", 6, False),
    ("DVCTT", "ONLINE_DOSSIER_RATE", 4, True),
]


def _level(agency: str) -> int:
    return 1 if agency == "H40.12" else (2 if agency.count(".") == 1 else 3)


def _form06_rows() -> list[tuple]:
    rows = []
    for kind, label, start, end in (
        ("calendar", "2024Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("legal", "2024Q1", date(2023, 12, 15), date(2024, 3, 14)),
        ("calendar", "2024Q2", date(2024, 4, 1), date(2024, 6, 30)),  # loaded in part: stale
    ):
        for a, (agency, name) in enumerate(AGENCIES):
            level = 1 if agency == "H40.12" else (2 if agency.count(".") == 1 else 3)
            for f, (field, field_name) in enumerate(FIELDS[: 3 - a % 2]):
                seed = 7 * a + 3 * f + (1 if kind == "legal" else 0)
                online, direct, carried = 10 + seed, 20 + seed, seed % 5
                before, on, late = 5 + seed, 3 + seed % 4, seed % 3
                within, overdue = 4 + seed % 6, 1 + seed % 2
                total = online + direct + carried
                resolved = total - within - overdue
                before = resolved - on - late
                rows.append((kind, label, start, end, field, field_name, level, agency, name,
                             total, online, direct, carried, resolved, before, on, late,
                             within + overdue, within, overdue))  # fmt: skip
    return rows


def _score_rows() -> list[tuple]:
    rows = []
    for label, start, bump in (("2024Q1", date(2024, 1, 1), 0), ("2023Q4", date(2023, 10, 1), 3)):
        scopes = [("province", "H40", None)] + [("agency", c, n) for c, n in AGENCIES]
        totals = {}
        for i, (_kind, code, _name) in enumerate(scopes):
            totals[code] = sum(
                round(mx * (0.9 - 0.1 * i) - bump * 0.1, 2) for *_, mx, _e in COMPONENTS
            )
        for i, (kind, code, name) in enumerate(scopes):
            rank = (
                1
                if kind == "province"
                else sorted([totals[c] for c, _ in AGENCIES], reverse=True).index(totals[code]) + 1
            )
            for group, component, mx, estimate in COMPONENTS:
                points = round(mx * (0.9 - 0.1 * i) - bump * 0.1, 2)
                rows.append((kind, code, name, "quarter", start, None, label, group, group,
                             component, f"Thành phần {component}", 90 - i, 100, 0.9, points, mx,
                             estimate, "basis", points, mx, totals[code], 30, rank))  # fmt: skip
    months = [(date(2024, m, 1), 0.8 + 0.05 * m) for m in (1, 2, 3)]
    for start, ratio in months:
        rows.append(("province", "H40", None, "month", start, None, f"{start:%Y-%m}", "TDGQ",
                     "TDGQ", "DOSSIER_HANDLING_ON_TIME", "x", int(ratio * 100), 100, ratio,
                     20 * ratio, 20, False, "basis", 20 * ratio, 20, 20 * ratio, 20, 1))  # fmt: skip
    return rows


def _dossiers_and_flags() -> tuple[list[tuple], list[tuple]]:
    dossiers, flags = [], []
    for a, (agency, _) in enumerate(AGENCIES):
        for n in range(10 + 5 * a):
            code = f"{agency}-2402{n:02d}-{n:04d}"
            dossiers.append((code, agency, date(2024, 2, 1), None if n % 3 else date(2024, 2, 20)))
            if n % 4 == 0:
                flags.append(("run-2", "onestop", "dossiers", code, "multiple_supplement_requests"))
            if n % 5 == 0:
                flags.append(("run-2", "onestop", "dossiers", code, "end_before_receipt"))
            if n % 2 == 0:  # an older run: must not count
                flags.append(("run-1", "onestop", "dossiers", code, "completed_without_end_date"))
    return dossiers, flags


ON_TIME, SYNC = "Tỷ lệ hồ sơ giải quyết đúng hạn", "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG"
# (unit, name, month, component, name, ours, official, portal's rule now, difference,
#  counting rule, cut-off, not synced, status, unit mapping, residual): two differences in
# the quarter, one cell without, one without the portal's rule, one after the quarter
CAUSES = [
    ("H40.12", "Sở Tư pháp", date(2024, 1, 1), "DOSSIER_HANDLING_ON_TIME", ON_TIME, 18, 16.5,
     17, 1.5, True, 1, 0.25, 0.2, 0.05, 0, 0),
    ("H40.41", "UBND thành phố Vinh", date(2024, 2, 1), "DOSSIER_SYNC", SYNC, 6, 5.4, 6, 0.6,
     True, 0, 0, 0.5, 0, 0.1, 0),
    ("H40.12", "Sở Tư pháp", date(2024, 2, 1), "DOSSIER_HANDLING_ON_TIME", ON_TIME, 20, 20, 20,
     0, True, 0, 0, 0, 0, 0, 0),
    ("H40.41", "UBND thành phố Vinh", date(2024, 1, 1), "ONLINE_DOSSIER_RATE", "Trực tuyến", 4,
     3, None, 1, False, None, None, None, None, None, None),
    ("H40.12", "Sở Tư pháp", date(2024, 4, 1), "DOSSIER_HANDLING_ON_TIME", ON_TIME, 10, 20, 20,
     -10, True, -10, 0, 0, 0, 0, 0),
]  # fmt: skip


def load_marts(url: str, loaded_until: datetime) -> None:
    dossiers, flags = _dossiers_and_flags()
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists marts cascade; drop schema if exists dq cascade;"
                    " drop schema if exists audit cascade;")  # fmt: skip
        cur.execute(DDL)
        cur.executemany("insert into marts.dim_agencies values (%s, %s)", AGENCIES)
        cur.executemany(f"insert into marts.mart_form06_quarterly values ({', '.join(['%s'] * 20)})",
                        _form06_rows())  # fmt: skip
        cur.executemany(f"insert into marts.mart_qd766_scores values ({', '.join(['%s'] * 23)})",
                        _score_rows())  # fmt: skip
        cur.executemany("insert into marts.fct_dossiers values (%s, %s, %s, %s)", dossiers)
        cur.executemany(
            "insert into marts.mart_qd766_reconciliation_causes (scope_code, scope_name,"
            " period_start, component_code, component_name, our_points, official_points,"
            " portal_rule_now_points, difference, has_portal_rule, counting_rule_points,"
            " cutoff_timing_points, not_synced_points, status_mismatch_points,"
            f" unit_mapping_points, residual_points) values ({', '.join(['%s'] * 16)})",
            CAUSES,
        )
        # bounds of every case: on-time bounded by 3 flagged dossiers, the portal's sync
        # reached by no data-entry rule (width 0), online dossiers with nothing flagged
        cur.execute("""insert into marts.mart_qd766_bounds (scope_kind, scope_code, period_grain,
                period_start, period_label, component_code, points, max_points, flagged_records,
                bounds_status, points_low, points_high, points_at_stake, points_estimate)
            select scope_kind, scope_code, period_grain, period_start, period_label,
                component_code, points, max_points, b.flagged, b.status,
                points - b.down, points + b.up, b.down + b.up, points + b.up
            from marts.mart_qd766_scores
            cross join lateral (select * from (values
                ('DOSSIER_HANDLING_ON_TIME', 3, 'bounded', 0.40, 0.35),
                ('DOSSIER_SYNC', 0, 'not_reached', 0, 0),
                ('ONLINE_DOSSIER_RATE', 0, 'no_flags', 0, 0))
                as v (component, flagged, status, down, up)) as b
            where b.component = component_code and period_grain = 'quarter'""")
        # every agency is a registered unit, ranked within its level (ranks of one level here)
        cur.executemany(
            "insert into marts.dim_administrative_units values"
            " ('H40', %s, %s, %s, '2020-01-01', '9999-12-31')",
            [(code, name, _level(code)) for code, name in AGENCIES],
        )
        cur.execute("""update marts.mart_qd766_scores set dossiers_received = 50,
            rank_status = case scope_kind when 'province' then 'province' else 'ranked' end""")
        cur.executemany(
            "update marts.mart_qd766_scores set unit_level = %s where scope_code = %s",
            [(_level(code), code) for code, _ in AGENCIES],
        )
        cur.executemany(
            "insert into dq.record_flags values (%s, %s, %s, %s, %s, 'data_entry', %s)",
            [(*f, datetime(2024, 4, 2 if f[0] == "run-2" else 1, tzinfo=TZ)) for f in flags],
        )
        cur.executemany(
            "insert into audit.watermarks (province_code, source, entity, loaded_until, last_batch_id)"
            " values ('H40', %s, %s, %s, 'b')",
            [(e.source, e.name, loaded_until) for e in ENTITIES],
        )
        # Grants and ownership as the bootstrap gives them: the exports read as the transformer.
        bootstrap_roles(
            conn,
            passwords=login_passwords(load_settings()),
            pii_salt="exports-test-salt-0123456789",
        )


@pytest.fixture(scope="session")
def export_settings(settings, make_database, tmp_path_factory):
    config = settings_using(settings, make_database("exports"))
    config = dataclasses.replace(config, export_dir=tmp_path_factory.mktemp("exports"))
    load_marts(config.warehouse_url, datetime(2024, 4, 2, 1, tzinfo=TZ))
    return config


@pytest.fixture
def conn(export_settings):
    with psycopg.connect(export_settings.warehouse_url) as connection:
        yield connection
