"""The weekly digest DAG, run through Airflow (`dag.test()`), sends each agency's digest to a
local SMTP server: the messages are read back and checked against the marts; a rerun of the
week sends nothing twice; the threshold alerts arrive on the alert e-mail channel."""

from __future__ import annotations

import io
import json
from datetime import datetime

import openpyxl
import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

from cchc.config import REPO_ROOT
from tests.digest.conftest import AS_OF, FLAGS, TZ, UNREGISTERED, WEEK

RECIPIENTS = {"H40.12": ["vanthu@stp.h40.gov.vn", "pgd@stp.h40.gov.vn"],
              "H40.41": ["motcua@vinh.h40.gov.vn"]}  # fmt: skip
ALERT_TO = "canhbao@vpubnd.h40.gov.vn"
SHEETS = {"at_risk": "Nguy cơ trễ hạn", "apologies": "Thư xin lỗi", "flags": "Cần sửa dữ liệu"}


@pytest.fixture(scope="module")
def digest_run(digest_settings, smtp_server, tmp_path_factory):
    """Two runs of the same Monday through Airflow, with SMTP and the alert e-mail on."""
    controller, inbox = smtp_server
    recipients = tmp_path_factory.mktemp("config") / "digest_recipients.csv"
    recipients.write_text("agency_code,email\n" + "".join(
        f"{agency},{to}\n" for agency, emails in RECIPIENTS.items() for to in emails))  # fmt: skip
    smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": controller.port,
            "extra": {"security": "none", "from": "cchc@vpubnd.h40.gov.vn"}}  # fmt: skip
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.utils import db

    db.initdb()  # the session's own metadata database (sqlite in its AIRFLOW_HOME)
    DagBundlesManager().sync_bundles_to_db()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CCHC_WAREHOUSE_URL", digest_settings.warehouse_url)
        env.setenv("CCHC_EXPORT_DIR", str(digest_settings.export_dir))
        env.setenv("AIRFLOW_CONN_CCHC_SMTP", json.dumps(smtp))
        env.setenv("CCHC_DIGEST_RECIPIENTS", str(recipients))
        env.setenv("CCHC_ALERT_EMAIL_TO", ALERT_TO)
        env.setenv("CCHC_SMTP_HOST", "127.0.0.1")
        env.setenv("CCHC_SMTP_PORT", str(controller.port))
        env.setenv("CCHC_SMTP_SECURITY", "none")
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "cchc_weekly_digest.py"))
        assert bag.import_errors == {}
        sync_bag_to_db(bag, "dags-folder", None)  # dag.test() runs the serialized DAG
        dag = bag.dags["cchc_weekly_digest"]
        first = dag.test(logical_date=datetime(2024, 4, 8, 7, tzinfo=TZ))
        received_first = list(inbox.messages)
        second = dag.test(logical_date=datetime(2024, 4, 8, 7, 30, tzinfo=TZ))
    return dag, [first, second], received_first, list(inbox.messages)


def _digests(messages):
    return {m["X-Envelope-To"]: m for m in messages if "Bản tin tuần" in m["Subject"]}


def _alerts(messages):
    return [m for m in messages if m["X-Envelope-To"] == ALERT_TO]


def _mart_counts(digest_settings, agency: str) -> dict[str, int]:
    with psycopg.connect(digest_settings.warehouse_url) as conn:
        at_risk, apologies = conn.execute(
            """select count(*) filter (where is_at_risk and not is_late),
                      count(*) filter (where is_late_without_apology)
               from marts.mart_dossiers_at_risk where agency_code = %s""",
            [agency],
        ).fetchone()
    flags = {(key, rule) for run, a, key, rule, severity, month, *_ in FLAGS
             if a == agency and run == "run-2" and severity == "data_entry" and month in (3, 4)}  # fmt: skip
    return {"at_risk": at_risk, "apologies": apologies, "flags": len(flags)}


def _sheet_rows(sheet) -> int:
    """Data rows under the table's header row (its first cell is the first column's name)."""
    header = next(r for r in range(1, sheet.max_row + 1)
                  if sheet.cell(r, 1).value in ("Mã hồ sơ", "Mã bản ghi"))  # fmt: skip
    return sum(1 for r in range(header + 1, sheet.max_row + 1) if sheet.cell(r, 1).value)


def test_the_dag_runs_mondays_at_07_local_time(digest_run):
    dag, runs, *_ = digest_run
    assert dag.timetable.expression == "0 7 * * 1"
    assert str(dag.timetable.timezone) == "Asia/Ho_Chi_Minh"
    assert [t.task_id for t in dag.topological_sort()] == [
        "write_digests", "send_digests", "alert_thresholds"]  # fmt: skip
    assert [str(r.state) for r in runs] == ["success", "success"]


def test_each_agency_with_recipients_gets_one_message(digest_run):
    *_, received_first, received_all = digest_run
    digests = _digests(received_first)
    assert set(digests) == {", ".join(RECIPIENTS["H40.12"]), RECIPIENTS["H40.41"][0]}
    # The rerun of the same week sent no digest and no alert again.
    assert len(received_all) == len(received_first)


@pytest.mark.parametrize("agency", ["H40.12", "H40.41"])
def test_the_message_and_its_workbook_hold_the_marts_counts(digest_run, digest_settings, agency):
    *_, received_first, _ = digest_run
    message = _digests(received_first)[", ".join(RECIPIENTS[agency])]
    expected = _mart_counts(digest_settings, agency)
    name = {"H40.12": "Sở Tư pháp", "H40.41": "UBND thành phố Vinh"}[agency]
    subject = message["Subject"]
    # decoded whole: no space lost or added where the encoded header was folded
    assert subject.startswith(f"[CCHC] Bản tin tuần {WEEK} – {name} ({agency}): ")
    assert f"{expected['at_risk']} hồ sơ có nguy cơ trễ hạn" in subject
    assert f"{expected['apologies']} thư xin lỗi cần ban hành" in subject

    html = message.get_body(("html",)).get_content()
    assert f"Số liệu đến hết ngày {AS_OF:%d/%m/%Y}" in html
    assert f"Hồ sơ có nguy cơ trễ hạn: <b>{expected['at_risk']}</b>" in html
    assert f"Thư xin lỗi cần ban hành (Mẫu 04): <b>{expected['apologies']}</b>" in html
    assert f"khóa số liệu tháng: <b>{expected['flags']}</b>" in html
    assert UNREGISTERED not in html  # an unregistered code is no unit's business

    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{agency}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    for key, sheet_name in SHEETS.items():
        sheet = book[sheet_name]
        assert _sheet_rows(sheet) == expected[key], (agency, key)
        assert name in sheet["A2"].value and f"{AS_OF:%d/%m/%Y}" in sheet["A3"].value
        assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    components = book["Chỉ số 766"]
    grades = [components.cell(r, 7).value for r in range(5, components.max_row + 1)]
    assert grades == ({"H40.12": ["Dưới ngưỡng", "Đạt"], "H40.41": ["Cần cải thiện", "Cần cải thiện"]}
                      [agency])  # fmt: skip


def test_the_files_stay_and_the_sending_is_recorded(digest_run, digest_settings):
    folder = digest_settings.export_dir / "H40" / "digests" / WEEK
    # every agency with something to report has its files, with or without recipients
    assert {p.name for p in folder.glob("*.xlsx")} == {"H40.12.xlsx", "H40.41.xlsx",
                                                       "H40.41.01.xlsx"}  # fmt: skip
    ledger = json.loads((folder / "sent.json").read_text())
    assert set(ledger) == {"H40.12", "H40.41"}
    assert ledger["H40.12"]["to"] == RECIPIENTS["H40.12"]


def test_threshold_alerts_carry_the_figures_and_the_digest(digest_run, digest_settings):
    *_, received_first, _ = digest_run
    alerts = _alerts(received_first)
    assert len(alerts) == 2  # H40.41.01 was below both thresholds already: nothing crossed
    by_agency = {("Sở Tư pháp" in m["Subject"]): m for m in alerts}
    justice, vinh = by_agency[True], by_agency[False]
    assert justice["Subject"].startswith("[CCHC] Sở Tư pháp: Tỷ lệ hồ sơ giải quyết đúng hạn")
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn dưới ngưỡng 80,0%" in justice["Subject"]
    assert "03/2024: 75,0%" in justice["Subject"] and "02/2024: 90,0%" in justice["Subject"]
    assert "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG dưới ngưỡng 90,0%" in vinh["Subject"]
    body = justice.get_content()
    digest = digest_settings.export_dir / "H40" / "digests" / WEEK / "H40.12.xlsx"
    assert f"digest: {digest}" in body and "share: 0.75" in body and "previous_share: 0.9" in body
