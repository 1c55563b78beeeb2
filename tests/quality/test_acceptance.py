"""Acceptance of the data-quality checks on generated provinces: every injected error kind is
found per record, clean data raises nothing, structural breaks stop the run, Data Docs render."""

from __future__ import annotations

import contextlib
import html.parser
import json
import re
from datetime import timedelta
from urllib.parse import unquote

import psycopg
import pytest

from cchc.exports import rule_impact
from cchc.quality import StructuralCheckError, run_checks
from cchc.quality.cli import (
    HEURISTIC_RULES,
    THRESHOLD,
    judge,
    latest_flags,
    read_truth,
    score,
    store_beside,
)
from cchc.quality.night import render, unescape
from tests.offline_browser import open_offline, playwright_available
from tests.quality.conftest import END, RATES, load_province


@pytest.fixture(scope="module")
def dirty(settings, make_database, gx_project):
    config, pg, truth = load_province(settings, make_database, "dq_dirty", scale=0.02, errors=RATES)
    summary = run_checks(pg, "dirty", stage="raw", project_dir=gx_project)
    return pg, truth, summary


@pytest.fixture(scope="module")
def clean(settings, make_database, gx_project):
    config, pg, truth = load_province(settings, make_database, "dq_clean", scale=0.01, clean=True)
    return pg, run_checks(pg, "clean", stage="raw", project_dir=gx_project)


@pytest.fixture(scope="module")
def partial(settings, make_database, gx_project):
    """Generated a week past the last loaded night: the manifest lists errors the warehouse
    cannot show yet (later versions, deadlines still to come)."""
    config, pg, truth = load_province(
        settings, make_database, "dq_partial", generated_until=END + timedelta(days=7), scale=0.01
    )
    run_checks(pg, "partial", stage="raw", project_dir=gx_project)
    return config, pg, truth


# A Friday: the day before the horizon is a working day full of dossiers, as each demo night's.
FRIDAY = END - timedelta(days=10)


@pytest.fixture(scope="module")
def weekday(settings, make_database, gx_project):
    """The demo's case: the default error rates, loaded up to 01:00 on a Friday, generated a
    few days past it. Dossiers received or changed the day before still wait for the portal's
    nightly resend; month-end bulk entries push versions past the generated days."""
    config, pg, truth = load_province(
        settings, make_database, "dq_weekday", generated_until=FRIDAY + timedelta(days=3),
        loaded_until=FRIDAY, scale=0.02,
    )  # fmt: skip
    run_checks(pg, "weekday", stage="raw", project_dir=gx_project)
    return config, pg, truth


def test_every_deterministic_rule_is_exact_at_a_working_day_horizon(weekday):
    """Precision and recall 1.000 for every deterministic rule, as `cchc dq score` judges them
    after `make demo`: what the warehouse cannot show yet is left out, never scored as missed."""
    config, pg, truth = weekday
    with psycopg.connect(pg.url()) as conn:
        judged = judge(conn, truth, store_beside(truth), config.province_code)
    report = {s.rule_id: (s.flagged, s.truth, s.true_positives) for s in judged.scores}
    print(json.dumps(report, indent=1))
    for s in judged.scores:
        if s.deterministic:
            assert (s.precision, s.recall) == (1.0, 1.0), (s.rule_id, report)
    for rule in ("missing_from_portal", "portal_status_mismatch", "multiple_supplement_requests"):
        assert report[rule][1] > 0, (rule, report)  # each of them judged on real cases
    assert judged.later > 0


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


def test_score_of_a_partly_loaded_warehouse_judges_only_what_it_can_show(partial):
    config, pg, truth = partial
    with psycopg.connect(pg.url()) as conn:
        judged = judge(conn, truth, store_beside(truth), config.province_code)
    report = {s.rule_id: (s.flagged, s.truth, round(s.precision, 3), round(s.recall, 3))
              for s in judged.scores}  # fmt: skip
    assert judged.unloaded > 0 and judged.later > 0, report
    for s in judged.scores:
        if s.deterministic:
            assert min(s.precision, s.recall) >= THRESHOLD, (s.rule_id, report)


def test_flags_carry_province_agency_and_month_but_no_personal_data(dirty):
    pg, _, _ = dirty
    with psycopg.connect(pg.url()) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'dq' and table_name = 'record_flags'"
            )
        ]
        provinces = conn.execute(
            "select distinct province_code from dq.record_flags where run_id = 'dirty'"
            " union select distinct province_code from dq.record_counts where run_id = 'dirty'"
        ).fetchall()
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
        "agency_code", "period_month", "province_code",
    }  # fmt: skip
    assert unattributed == 0 and counted > 1000
    assert provinces == [("H40",)]


def _raw_rules(gx_project) -> list[tuple[str, str, str]]:
    """(table, rule_id, query) of every rule of the raw checkpoint, from the suite files."""
    checkpoint = json.loads((gx_project / "checkpoints" / "cchc_raw.json").read_text("utf-8"))
    rules = []
    for ref in checkpoint["validation_definitions"]:
        definition = json.loads(
            (gx_project / "validation_definitions" / f"{ref['name']}.json").read_text("utf-8")
        )
        suite = json.loads(
            (gx_project / "expectations" / f"{definition['suite']['name']}.json").read_text("utf-8")
        )
        table = "raw." + definition["data"]["asset"]["name"]
        rules += [
            (table, e["meta"]["rule_id"], e["kwargs"]["unexpected_rows_query"])
            for e in suite["expectations"]
        ]
    return rules


def test_flags_hold_every_key_the_rule_query_returns(dirty, gx_project):
    """GX runs each rule's query once and keeps a sample; the flags must still be complete,
    each with the province the query named."""
    pg, _, summary = dirty
    by_rule = {r.rule_id: r for r in summary.rules}
    largest = 0
    with psycopg.connect(pg.url()) as conn:
        for table, rule_id, query in _raw_rules(gx_project):
            cur = conn.execute(unescape(render(query, table)))
            columns = [c.name for c in cur.description]
            assert columns[:2] == ["record_key", "province_code"], (rule_id, columns)
            rows = cur.fetchall()
            flagged = set(
                conn.execute(
                    "select province_code, record_key from dq.record_flags where run_id = 'dirty'"
                    " and rule_id = %s",
                    [rule_id],
                ).fetchall()
            )
            assert flagged == {(r[1], str(r[0])) for r in rows if r[0] is not None}, rule_id
            assert by_rule[rule_id].unexpected_count == len(rows), rule_id
            largest = max(largest, len(flagged))
    assert largest > 20  # more keys than the sample GX keeps in its result


def test_stored_validation_results_keep_only_a_sample_of_keys(dirty, gx_project):
    """The Data Docs index reads every stored result on each build: keys stay out of them."""
    stored = list((gx_project / "uncommitted" / "validations").glob("*/dirty/*/*.json"))
    assert len(stored) == 9
    for path in stored:
        for result in json.loads(path.read_text("utf-8"))["results"]:
            assert len(result["result"].get("partial_unexpected_list", [])) <= 20, path


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
            "select province_code, record_key from dq.record_flags where run_id = 'broken'"
            " and rule_id = 'dossier_key_unique'"
        ).fetchall()
    assert flagged == [("H40", key)]


class _Links(html.parser.HTMLParser):
    """The links and the resources (scripts, styles, images) a page would load."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("script", "link", "img", "iframe") or attrs.get("src"):
            self.resources.append(attrs.get("src") or attrs.get("href") or tag)


def _links(page) -> _Links:
    parsed = _Links()
    parsed.feed(page.read_text(encoding="utf-8"))
    return parsed


def test_data_docs_index_links_every_run_and_each_run_every_suite(dirty, gx_project):
    _, _, summary = dirty
    index = summary.data_docs_index
    assert index is not None and index.is_file()
    runs = [link for link in _links(index).links if link.startswith("runs/")]
    assert "runs/dirty.html" in runs
    page = index.parent / "runs" / "dirty.html"
    text = page.read_text(encoding="utf-8")
    suites = {p.stem for p in (gx_project / "expectations").glob("*.json")}
    raw_suites = {s.suite for s in summary.suites}
    assert raw_suites == suites - {"marts_fct_dossiers"}
    for suite in raw_suites:
        assert f"<code>{suite}</code>" in text, f"the run's page does not show suite {suite}"
    for rule in summary.rules:
        assert f">{rule.rule_id}</code>" in text, rule.rule_id
    failed = next(r for r in summary.rules if not r.success)
    assert rule_impact.name(failed.rule_id) in text  # named in Vietnamese
    for link in runs:
        assert (index.parent / unquote(link)).is_file(), link


def test_data_docs_index_lists_every_run(clean, gx_project):
    """Data Docs are built once per run, after all suites: the index lists each run once,
    and each listed page exists."""
    pg, first = clean
    for run_id in ("docs-1", "docs-2"):
        # Another test may have broken this warehouse on purpose; Data Docs are built anyway.
        with contextlib.suppress(StructuralCheckError):
            run_checks(pg, run_id, stage="raw", project_dir=gx_project)
    index = first.data_docs_index
    links = _links(index).links
    for run_id in ("clean", "docs-1", "docs-2"):
        assert links.count(f"runs/{run_id}.html") == 1, (run_id, links)
        assert (index.parent / "runs" / f"{run_id}.html").is_file()
    site = index.parent
    pages = [index, *site.glob("runs/*.html")]
    for page in pages:
        parsed = _links(page)
        assert parsed.resources == [], (page.name, parsed.resources)  # nothing to load
        assert not any(re.match(r"\w+://", link) for link in parsed.links), page.name
    assert not (site / "static").exists()  # GX's pages (and their CDN links) are gone


@pytest.mark.skipif(not playwright_available(), reason="no Playwright or headless Chromium")
def test_data_docs_render_styled_and_non_empty_with_no_network(dirty):
    _, _, summary = dirty
    with open_offline(summary.data_docs_index) as offline:
        page = offline.page
        assert page.title() == "Báo cáo chất lượng dữ liệu"
        # Other tests' runs share this site: the index lists them all, newest first.
        assert page.locator("tbody tr").count() >= 1
        assert page.locator("tbody tr", has_text="dirty").count() == 1
        assert "Times New Roman" in offline.style("body", "font-family")
        assert offline.style("th", "background-color") == "rgb(221, 235, 247)"  # styled
        page.locator("a", has_text="dirty").first.click()
        page.wait_for_load_state("load")
        assert "Kết quả kiểm tra chất lượng dữ liệu" in page.title()
        assert page.locator("tr.failed").count() >= 1  # the findings, highlighted
        assert offline.outside_requests == []
