"""The nightly DAG, run through real Airflow against the simulators on an embedded warehouse.

Checks what a user would: every record the sources served is in raw exactly once, the
indicator mart equals an independent computation from the served data, the export holds the
mart's numbers, data-quality results are recorded, and rerunning a night changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import openpyxl
import psycopg
import pytest

from cchc.config import PgParams
from cchc.exports import quarterly
from cchc.exports.periods import Quarter
from cchc.exports.progress import COLUMNS
from cchc.exports.quarterly import export_quarter
from cchc.extract.entities import ENTITIES, WINDOWED_ENTITIES
from cchc.extract.loader import canonical_json
from cchc.extract.run import BEGINNING, history_windows, load_history
from cchc.extract.window import Window, local_midnight
from cchc.orchestration import local_airflow
from cchc.simulators.server import SimulatorProcess
from cchc.simulators.store import SimStore
from cchc.synthetic import generate
from tests.conftest import settings_using
from tests.e2e.expected import expected_progress
from tests.exports.official_files import (
    PDFTOTEXT,
    SOFFICE,
    non_vietnamese_cells,
    pdf_pages,
    squeeze,
    to_pdf,
)

HISTORY_START = date(2024, 3, 1)
NIGHTS = [date(2024, 4, 1), date(2024, 4, 2)]
COUNTS = [c for c, *_ in COLUMNS if c not in ("agency_code", "agency_name", "month_start")][:-2]


def windows(overlap_hours: int = 1) -> list[Window]:
    """The initial load's window, then each night's data interval widened by the overlap."""
    history = history_windows(NIGHTS[0])
    nights = [
        Window.for_interval(
            local_midnight(n) + timedelta(hours=1),
            local_midnight(n) + timedelta(hours=25),
            60 * overlap_hours,
        )
        for n in NIGHTS
    ]
    return [*history, *nights]


def raw_versions(conn, entity) -> list[tuple[str, str]]:
    return conn.execute(
        f"select record_key, payload_hash from {entity.table} order by 1, 2"
    ).fetchall()


def raw_checksum(conn) -> str:
    return hashlib.sha256(repr([raw_versions(conn, e) for e in ENTITIES]).encode()).hexdigest()


@pytest.fixture(scope="module")
def pipeline(settings, make_database):
    config = settings_using(settings, make_database("e2e"))
    store = generate(
        config.data_dir / "sim-e2e",
        HISTORY_START,
        NIGHTS[-1] + timedelta(days=2),
        seed=5,
        scale=0.01,
    )
    with (
        SimulatorProcess(store, port=config.sim_port, token=config.sim_token),
        psycopg.connect(config.warehouse_url) as conn,
    ):
        env = local_airflow.prepare(config)  # the bootstrap, as the owner: a deployment step
        # The tasks get the warehouse's address without the owner's credentials, as in the
        # compose stack: each must connect with its own login or fail.
        env["CCHC_WAREHOUSE_URL"] = owner_free_url(config)
        load_history(NIGHTS[0], config)
        runs = [local_airflow.run_night(config, night, env) for night in NIGHTS]
        checksum = raw_checksum(conn)
        conn.commit()
        rerun = local_airflow.run_night(config, NIGHTS[-1], env)
        checksum_after_rerun = raw_checksum(conn)
    return {
        "config": config,
        "store": SimStore(store),
        "runs": [*runs, rerun],
        "checksums": (checksum, checksum_after_rerun),
    }


def owner_free_url(config) -> str:
    pg = PgParams.from_url(config.warehouse_url)
    return f"postgresql://{pg.host}:{pg.port}/{pg.dbname}"


@pytest.fixture
def conn(pipeline):
    with psycopg.connect(pipeline["config"].warehouse_url) as connection:
        yield connection


def test_each_night_ran_every_task_through_airflow(pipeline):
    for run in pipeline["runs"]:
        log = run.log_file.read_text()
        # One "succeeded" state change per task: bootstrap, each extract, freshness, raw checks,
        # dbt, mart checks, export, dbt docs.
        assert log.count("new_state=success") == 7 + len(ENTITIES), (
            f"not every task succeeded on {run.night}"
        )
        assert "DagRun Finished: dag_id=cchc_nightly" in log and "state=success" in log


def test_raw_holds_every_served_version_exactly_once(pipeline, conn):
    store = pipeline["store"]
    for entity in WINDOWED_ENTITIES:
        served = {
            (r[entity.key], hashlib.md5(canonical_json(r).encode()).hexdigest())
            for w in windows()
            for r in store.list(entity.path.rsplit("/", 1)[-1], w.start, w.end)
        }
        rows = raw_versions(conn, entity)
        assert rows and len(rows) == len(set(rows))
        assert set(rows) == served, entity.table
    fetched, accounted = conn.execute(
        "select sum(fetched), sum(loaded + duplicates + quarantined) from audit.load_batches"
    ).fetchone()
    assert fetched == accounted


def test_rerunning_a_night_leaves_raw_identical(pipeline):
    before, after = pipeline["checksums"]
    assert before == after


def test_progress_mart_equals_independent_computation(pipeline, conn):
    last = windows()[-1]
    dossiers = pipeline["store"].list("dossiers", local_midnight(BEGINNING), last.end)
    expected = expected_progress(dossiers)
    columns = ", ".join(COUNTS)
    rows = conn.execute(
        f"select agency_code, month_start, {columns}, on_time_ratio, progress_score from marts.mart_dossier_progress_monthly"
    ).fetchall()
    actual = {(r[0], r[1]): dict(zip(COUNTS, r[2:-2], strict=True)) for r in rows}
    assert set(actual) == set(expected)
    for key, counts in expected.items():
        assert actual[key] == {c: counts[c] for c in COUNTS}, key
    for row in rows:
        scope, on_time = expected[(row[0], row[1])]["dossiers_in_scope"], expected[(row[0], row[1])]
        ratio = (on_time["ended_on_time"] + on_time["open_on_time"]) / scope
        assert float(row[-2]) == pytest.approx(ratio, abs=1e-6)
        assert float(row[-1]) == pytest.approx(round(20 * ratio, 2), abs=0.005)


def test_export_holds_the_marts_numbers(pipeline, conn):
    exports = sorted(
        (pipeline["config"].province_export_dir / "nightly").glob("*/tien_do_giai_quyet_ho_so.xlsx")
    )
    assert exports, "no export written"
    sheet = openpyxl.load_workbook(exports[-1], read_only=True).active
    header = [c.value for c in next(sheet.iter_rows(min_row=4, max_row=4))]
    assert header[0] == "Mã đơn vị" and header[-1] == "Điểm tiến độ (tối đa 20)"
    cells = {
        (r[0], r[2].date().replace(day=1)): r
        for r in sheet.iter_rows(min_row=5, values_only=True)
        if r[0]
    }
    mart = conn.execute(
        f"select agency_code, month_start, {', '.join(COUNTS)}, progress_score from marts.mart_dossier_progress_monthly"
    ).fetchall()
    assert len(cells) == len(mart)
    for row in mart:
        cell = cells[(row[0], row[1])]
        assert list(cell[3 : 3 + len(COUNTS)]) == list(row[2:-1])
        assert cell[-1] == pytest.approx(float(row[-1]))


def test_quality_results_are_recorded_without_stopping_the_run(conn):
    rules = conn.execute("select rule_id, severity, success from dq.validation_runs").fetchall()
    assert {r[1] for r in rules} == {"structural", "data_entry"}
    assert all(success for _, severity, success in rules if severity == "structural")


def test_tasks_built_everything_with_their_own_logins(pipeline, conn):
    """The tasks ran without the owner's credentials (see the fixture); what they created is
    owned by their group: raw and audit by the loader, the models and dq by the transformer."""
    owners = conn.execute(
        """
        select n.nspname, pg_get_userbyid(c.relowner), count(*)
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('raw', 'audit', 'staging', 'intermediate', 'marts', 'restricted', 'dq')
          and c.relkind in ('r', 'v', 'm', 'p')
        group by 1, 2
        """
    ).fetchall()
    by_schema = {}
    for schema, owner, count in owners:
        by_schema.setdefault(schema, {})[owner] = count
    assert {s: set(o) for s, o in by_schema.items()} == {
        "raw": {"cchc_loader"},
        "audit": {"cchc_loader"},
        **{
            s: {"cchc_transformer"}
            for s in ("staging", "intermediate", "marts", "restricted", "dq")
        },
    }


def test_bi_sees_officers_only_in_groups_of_k(pipeline):
    from cchc import warehouse

    config = pipeline["config"]
    with warehouse.connect_as("bi", config) as bi:
        smallest, groups = bi.execute(
            "select min(officer_count), count(*) from marts.mart_handling_by_officer_title"
        ).fetchone()
    assert groups > 0 and smallest >= 5
    with warehouse.connect_as("reviewer", config) as reviewer:
        officers, listed = reviewer.execute(
            "select count(distinct officer_key), count(*) filter (where lateness_cause_count > 0)"
            " from restricted.mart_officer_lateness_monthly"
        ).fetchone()
    assert officers >= 5 and listed > 0


@pytest.mark.skipif(not (SOFFICE and PDFTOTEXT), reason="LibreOffice or poppler missing")
def test_official_workbooks_print_within_their_page_budgets(pipeline, tmp_path):
    """At the demo's scale: form 06's province summary ≤ 3 pages, the 766 scorecard ≤ 40,
    the data-quality annex ≤ 15; no English in them or in the nightly workbook."""
    config = pipeline["config"]
    result = export_quarter(Quarter.parse("2024Q1"), config)
    folder = result.folder
    nightly = sorted((config.province_export_dir / "nightly").glob("*/*.xlsx"))
    for path in [folder / quarterly.FORM06_XLSX, folder / quarterly.SCORECARD_XLSX,
                 folder / quarterly.QUALITY_XLSX, nightly[-1]]:  # fmt: skip
        assert non_vietnamese_cells(path) == [], path.name
    # Form 06 has a sheet per agency: its province summary is printed on its own.
    summary = tmp_path / "bieu_06_tong_hop.xlsx"
    book = openpyxl.load_workbook(folder / quarterly.FORM06_XLSX)
    for sheet in book.worksheets[1:]:
        book.remove(sheet)
    book.save(summary)
    books = [summary, folder / quarterly.SCORECARD_XLSX, folder / quarterly.QUALITY_XLSX]
    pages = {name: pdf_pages(pdf) for name, pdf in to_pdf(books, tmp_path).items()}
    budgets = {summary.name: 3, quarterly.SCORECARD_XLSX: 40, quarterly.QUALITY_XLSX: 15}
    for name, budget in budgets.items():
        assert 1 <= len(pages[name]) <= budget, (name, len(pages[name]))
        for number, page in enumerate(pages[name], start=1):
            assert f"Trang {number}/{len(pages[name])}" in squeeze(page), (name, number)
            assert "Dữ liệu nguồn tính đến" in page, (name, number)  # the horizon, each page
    for page in pages[summary.name]:  # the form's header rows, repeated
        assert {"STT", "(1)", "(13)", "Trực"} <= set(page.split())
    print({name: len(p) for name, p in pages.items()})
