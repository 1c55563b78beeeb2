"""A small built warehouse with its own Airflow services, and a headless browser.

One night runs through the scheduler (as `make demo` does), so the Airflow UI has a real run
with task logs, the marts have data for the dashboards and the dbt docs site is written.
The browser is Debian's chromium driven by Playwright; every request it makes is recorded
so the tests can check that nothing leaves 127.0.0.1. Screenshots go to test-artifacts/ui/.

The fixtures are the package's: the services, the browser and its Playwright loop end with the
last test here, so the worker's next tests neither share the CPU with them nor find a running
asyncio loop (Playwright's sync API refuses to start inside one: the offline-page tests).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cchc.config import REPO_ROOT, SOURCES
from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
NIGHT = date(2024, 4, 1)
LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}


@pytest.fixture(scope="package")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def ui_settings(settings):
    """An embedded warehouse of its own (Airflow's metadata needs the embedded layout), in the
    session's folder: pytest's own temporary folders are pruned by other pytest runs on the
    machine, even while a server still uses them."""
    from cchc import warehouse

    root = settings.data_dir.parent / "ui"
    sim_port = free_port()
    config = dataclasses.replace(
        settings,
        data_dir=root / "data",
        export_dir=root / "exports",
        embedded_port=free_port(),
        sim_port=sim_port,
        source_urls={s: f"http://:{settings.sim_token}@127.0.0.1:{sim_port}/{s}" for s in SOURCES},
    )
    warehouse.start_embedded(config)
    yield config
    warehouse.stop_embedded(config)


@pytest.fixture(scope="package")
def built(ui_settings):
    """History loaded, then one night through the scheduler; the Airflow services stay up."""
    from cchc.extract.run import load_history
    from cchc.orchestration import airflow_services, scheduled_nights
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate

    store = generate(ui_settings.data_dir / "sim", date(2024, 3, 1), NIGHT + timedelta(days=2),
                     seed=7, scale=0.005)  # fmt: skip
    port = free_port()
    # A task that fails once is retried after seconds, not the production minute.
    os.environ["CCHC_RETRY_DELAY_SECONDS"] = "5"
    with SimulatorProcess(store, port=ui_settings.sim_port, token=ui_settings.sim_token):
        load_history(NIGHT, ui_settings)
        with scheduled_nights.demo_services(ui_settings, port) as client:
            night = scheduled_nights.run_night(client, NIGHT, full_refresh=True)
    started = airflow_services.start(ui_settings, port)
    yield {"night": night, "airflow": started}
    airflow_services.stop(ui_settings)


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (done by .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page that refuses and records every request bound outside 127.0.0.1:
    `page.outside_hosts`."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    page = context.new_page()
    page.outside_hosts = set()

    def refuse_outside(route):
        # Only what would really leave the machine reaches the network layer (a request
        # the page's Content-Security-Policy blocks never does): record it, then refuse it.
        page.outside_hosts.add(urlsplit(route.request.url).hostname)
        route.abort()

    page.route(
        lambda url: url.startswith(("http", "ws")) and urlsplit(url).hostname not in LOCAL_HOSTS,
        refuse_outside,
    )
    yield page
    context.close()
