"""Acceptance of the data-quality checks on generated provinces: every injected error kind is
found per record, clean data raises nothing, structural breaks stop the run, Data Docs render."""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess

import psycopg
import pytest

from cchc.quality import StructuralCheckError, run_checks
from cchc.quality.cli import HEURISTIC_RULES, THRESHOLD, latest_flags, read_truth, score
from cchc.synthetic.errors import DEFAULT_DOSSIER_RATES, ErrorRates
from tests.quality.conftest import load_province

# Raised rates, so every kind occurs dozens of times; kept low enough that two errors rarely
# hit one dossier (an unknown procedure code hides its statutory appointment).
RATES = ErrorRates(
    dossier={**{k: 0.02 for k in DEFAULT_DOSSIER_RATES}, "unknown_procedure_code": 0.005},
    sync_rate=0.97,
    portal_stall_rate=0.03,
    unsigned_rate=0.05,
    incoming_overdue_rate=0.1,
)


@pytest.fixture(scope="module")
def dirty(settings, make_database, gx_project):
    config, pg, truth = load_province(settings, make_database, "dq_dirty", scale=0.02, errors=RATES)
    summary = run_checks(pg, "dirty", stage="raw", project_dir=gx_project)
    return pg, truth, summary


@pytest.fixture(scope="module")
def clean(settings, make_database, gx_project):
    config, pg, truth = load_province(settings, make_database, "dq_clean", scale=0.01, clean=True)
    return pg, run_checks(pg, "clean", stage="raw", project_dir=gx_project)


def test_every_injected_kind_is_found_per_record(dirty):
    pg, truth_dir, _ = dirty
    truth = read_truth(truth_dir)
    with psycopg.connect(pg.url()) as conn:
        scores = score(truth, latest_flags(conn))
    by_rule = {s.rule_id: s for s in scores}
    report = {
        s.rule_id: (s.flagged, s.truth, round(s.precision, 3), round(s.recall, 3)) for s in scores
    }
    print(json.dumps(report, indent=1))
    assert set(truth) <= set(by_rule) and all(truth.values())
    for s in scores:
        if s.rule_id not in HEURISTIC_RULES:
            assert s.precision >= THRESHOLD and s.recall >= THRESHOLD, (s.rule_id, report)
    for rule in HEURISTIC_RULES:
        assert by_rule[rule].precision >= 0.85, report


def test_flags_carry_agency_and_month_but_no_personal_data(dirty):
    pg, _, _ = dirty
    with psycopg.connect(pg.url()) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'dq' and table_name = 'record_flags'"
            )
        ]
        unattributed = conn.execute(
            "select count(*) from dq.record_flags where run_id = 'dirty'"
            " and entity in ('dossiers', 'dossier_syncs') and period_month is null"
        ).fetchone()[0]
        counted = conn.execute(
            "select sum(record_count) from dq.record_counts where run_id = 'dirty'"
            " and entity = 'dossiers'"
        ).fetchone()[0]
    assert set(columns) == {
        "run_id", "source", "entity", "record_key", "rule_id", "severity", "flagged_at",
        "agency_code", "period_month",
    }  # fmt: skip
    assert unattributed == 0 and counted > 1000


def test_clean_data_raises_no_data_entry_flags(clean):
    pg, summary = clean
    assert summary.flag_count == 0, summary.unexpected_counts
    assert summary.success


def test_conflicting_versions_in_raw_stop_the_run(clean, gx_project):
    pg, _ = clean
    with psycopg.connect(pg.url()) as conn:
        key = conn.execute("select min(record_key) from raw.onestop__dossiers").fetchone()[0]
        # A second, different version at the same update time: the latest version is ambiguous.
        conn.execute(
            "insert into raw.onestop__dossiers select batch_id, province_code, source, entity, window_start,"
            " window_end, extracted_at, record_key, record_updated_at, md5(payload_hash),"
            " payload from raw.onestop__dossiers where record_key = %s"
            " order by record_updated_at desc limit 1",
            [key],
        )
    with pytest.raises(StructuralCheckError) as excinfo:
        run_checks(pg, "broken", stage="raw", project_dir=gx_project)
    message = str(excinfo.value)
    assert "onestop_dossiers.dossier_key_unique" in message and key in message
    with psycopg.connect(pg.url()) as conn:
        flagged = conn.execute(
            "select record_key from dq.record_flags where run_id = 'broken'"
            " and rule_id = 'dossier_key_unique'"
        ).fetchall()
    assert flagged == [(key,)]


class _Page(html.parser.HTMLParser):
    """Headings and script text of a page: GX's index keeps its tables' rows (with their
    links) as data for a JavaScript table, not as anchors."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.ids |= {v for k, v in attrs if k == "id" and v}
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_data_docs_index_links_every_suite(dirty, gx_project):
    _, _, summary = dirty
    index = summary.data_docs_index
    assert index is not None and index.is_file()
    page = _Page()
    page.feed(index.read_text(encoding="utf-8"))
    rows = set(re.findall(r"'_table_row_link_path': '([^']+)'", "".join(page.scripts)))
    suites = {p.stem for p in (gx_project / "expectations").glob("*.json")}
    raw_suites = {s.suite for s in summary.suites}
    assert raw_suites == suites - {"marts_fct_dossiers"}
    for suite in raw_suites:
        suite_page = f"expectations/{suite}.html"
        validations = [r for r in rows if r.startswith(f"validations/{suite}/")]
        assert suite_page in rows, f"Data Docs index does not list suite {suite}"
        assert validations, f"Data Docs index lists no validation of suite {suite}"
        for link in (suite_page, *validations):
            assert (index.parent / link).is_file(), link


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless chromium on this machine")
def test_data_docs_index_renders_in_a_browser(dirty, tmp_path):
    _, _, summary = dirty
    shot = tmp_path / "index.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1280,900", f"--screenshot={shot}", summary.data_docs_index.as_uri()],
        cwd=tmp_path, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
