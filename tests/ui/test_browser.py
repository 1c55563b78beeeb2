"""What a person sees: the Airflow UI, the dashboards and the dbt docs, in a real browser.

Each tool is started on free ports against the small warehouse built by `built` (one night
through the scheduler). Every page is screenshotted into test-artifacts/ui/, and no page may
ask for anything outside 127.0.0.1.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cchc.orchestration.local_airflow import NIGHTLY_DAG
from tests.conftest import free_port

pytestmark = pytest.mark.timeout(900)


def _login_airflow(page, url: str, password: str) -> None:
    page.goto(f"{url}/auth/login")
    page.get_by_label(re.compile("username", re.I)).fill("admin")
    page.get_by_label(re.compile("password", re.I)).fill(password)
    page.get_by_role("button", name=re.compile("sign in|log ?in", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*auth/login).*$"), timeout=60_000)


def test_airflow_ui_shows_the_nightly_run_and_its_task_log(built, page, artifacts):
    airflow = built["airflow"]
    run_id = built["night"].run_id
    _login_airflow(page, airflow.url, airflow.admin_password)

    page.goto(f"{airflow.url}/dags")
    page.get_by_text(NIGHTLY_DAG, exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "airflow-dags.png", full_page=True)

    page.goto(f"{airflow.url}/dags/{NIGHTLY_DAG}/runs/{run_id}")
    page.get_by_text(re.compile("success", re.I)).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "airflow-run.png", full_page=True)

    page.goto(f"{airflow.url}/dags/{NIGHTLY_DAG}/runs/{run_id}/tasks/build_marts")
    # The task's own log lines: dbt's summary of the build it ran.
    page.get_by_text(re.compile(r"dbt build")).first.wait_for(timeout=90_000)
    page.screenshot(path=artifacts / "airflow-task-log.png", full_page=True)
    assert page.outside_hosts == set()


def test_dbt_docs_site_lists_the_marts_offline(built, ui_settings, page, artifacts):
    from cchc.transform.docs_site import docs_dir

    index = docs_dir(ui_settings) / "index.html"
    assert index.exists(), "the nightly run did not publish the dbt docs"
    page.goto(index.as_uri())
    page.get_by_text("Welcome!").first.wait_for(timeout=60_000)
    for mart in ("mart_form06_quarterly", "mart_cchc_indicators", "mart_qd766_scores"):
        page.goto(f"{index.as_uri()}#!/model/model.cchc.{mart}")
        page.get_by_text(re.compile(rf"\b{mart}\b")).first.wait_for(timeout=60_000)
    # The columns' Vietnamese descriptions, as BI users see them in Superset.
    page.get_by_text(re.compile("Xếp hạng")).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "dbt-docs.png", full_page=True)
    assert page.outside_hosts == set()


@pytest.fixture(scope="module")
def superset(built, ui_settings):
    from cchc.bi import superset

    started = superset.start(ui_settings, free_port(), progress=print)
    yield started
    superset.stop(ui_settings)


def test_each_dashboard_renders_its_charts_with_data(superset, page, artifacts):
    from cchc.bi.provision import load_spec

    page.goto(f"{superset.url}/login/")
    page.locator("input#username, input[name=username]").first.fill("admin")
    page.locator("input#password, input[name=password]").first.fill(superset.admin_password)
    page.locator("button[type=submit], input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"), timeout=60_000)

    spec = load_spec()
    assert len(spec["dashboards"]) == 4
    for board in spec["dashboards"]:
        page.goto(f"{superset.url}/superset/dashboard/{board['slug']}/")
        charts = page.locator("[data-test-chart-id]")
        for chart in board["charts"]:
            page.get_by_text(chart["name"], exact=True).first.wait_for(timeout=90_000)
        # Every chart drew its data (table rows, or an ECharts canvas) or showed an error.
        page.wait_for_function(
            """(count) => {
                const cards = document.querySelectorAll('[data-test-chart-id]');
                if (cards.length < count) return false;
                return [...cards].every(c => c.querySelector('tbody tr, canvas, [role=alert]'));
            }""",
            arg=len(board["charts"]),
            timeout=120_000,
        )
        page.screenshot(path=artifacts / f"superset-{board['slug']}.png", full_page=True)
        # Superset may re-render once it adds its filter key to the URL: wait, do not sample.
        expect(charts).to_have_count(len(board["charts"]), timeout=60_000)
        assert page.locator("[data-test-chart-id] [role=alert]").count() == 0, (
            f"{board['slug']}: a chart shows an error: "
            + page.locator("[data-test-chart-id] [role=alert]").first.inner_text()
        )
        text = page.locator("body").inner_text()
        for empty in ("No results were returned", "Không có kết quả"):
            assert empty not in text, f"{board['slug']}: {empty}"
    assert page.outside_hosts == set()


def test_dataset_columns_carry_the_dbt_descriptions(superset):
    from cchc.bi.provision import Superset

    client = Superset(superset.url, "admin", superset.admin_password)
    listed = client._list("dataset", ["id", "table_name"])
    dataset_id = next(d["id"] for d in listed if d["table_name"] == "mart_qd766_scores")
    columns = client._ok(client.http.get(f"/api/v1/dataset/{dataset_id}"))["result"]["columns"]
    described = {c["column_name"]: c["description"] for c in columns}
    assert described["total_points"].startswith("Tổng điểm")
    assert described["rank_in_period"].startswith("Xếp hạng")
