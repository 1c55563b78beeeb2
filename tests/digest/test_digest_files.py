"""Without SMTP the digests are files under exports/<province>/digests/<ISO week>/; a failing
SMTP server loses no digest and a rerun sends only what was not sent; threshold alerts reach
the webhook once, with the figures and the digest's link; the thresholds are configurable."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openpyxl
import pytest

from cchc.alerts import AlertSettings
from cchc.digest import render, run
from cchc.digest.settings import DigestSettings, SmtpSettings, read_recipients
from tests.conftest import free_port
from tests.digest.conftest import AS_OF, RUN_DATE, WEEK
from tests.exports.official_files import non_vietnamese_cells

RECIPIENTS = {"H40.12": ("vanthu@stp.h40.gov.vn",), "H40.41": ("motcua@vinh.h40.gov.vn",)}


@pytest.fixture
def config(digest_settings, tmp_path):
    """The module's warehouse, with a fresh export folder for each test."""
    return dataclasses.replace(digest_settings, export_dir=tmp_path / "exports")


def test_without_smtp_the_digests_are_files(config):
    summary = run.write_digests(RUN_DATE, config, DigestSettings())
    outcome = run.deliver(summary, None, DigestSettings())
    folder = config.export_dir / "H40" / "digests" / WEEK
    assert outcome == {"delivered_as_files": ["H40.12", "H40.41", "H40.41.01"],
                       "folder": str(folder)}  # fmt: skip
    assert summary["as_of"] == AS_OF.isoformat()
    assert not (folder / "sent.json").exists()
    html = (folder / "H40.41.01.html").read_text(encoding="utf-8")
    assert "Bản tin tuần 2024-W15: UBND xã Lạc Yên" in html
    assert "Không có hồ sơ có nguy cơ trễ hạn" in html  # an empty section says so
    assert "dòng đầu" not in html  # short tables are whole in the e-mail
    for agency in ("H40.12", "H40.41", "H40.41.01"):  # every cell a reader sees is Vietnamese
        assert non_vietnamese_cells(folder / f"{agency}.xlsx") == [], agency
    book = openpyxl.load_workbook(folder / "H40.41.01.xlsx")
    assert book.sheetnames == ["Nguy cơ trễ hạn", "Thư xin lỗi", "Cần sửa dữ liệu", "Chỉ số 766"]
    sheet = book["Chỉ số 766"]
    assert sheet["A1"].value == "CHỈ SỐ QUYẾT ĐỊNH 766 CỦA ĐƠN VỊ SO VỚI NGƯỠNG"
    assert "Số liệu đến hết ngày 05/04/2024" in sheet["A3"].value
    assert sheet.page_setup.paperSize == 9 and sheet.print_title_rows  # A4, header on each page
    # graded on March (closed), April shown to date only
    assert [sheet.cell(6, c).value for c in (2, 3, 7)] == ["DOSSIER_SYNC", "03/2024", "Dưới ngưỡng"]
    assert sheet.cell(6, 10).value == pytest.approx(1 / 6)


def test_long_tables_are_cut_in_the_email_not_in_the_workbook(config, monkeypatch):
    monkeypatch.setattr(render, "MAX_HTML_ROWS", 2)
    run.write_digests(RUN_DATE, config, DigestSettings())
    folder = config.export_dir / "H40" / "digests" / WEEK
    html = (folder / "H40.12.html").read_text(encoding="utf-8")
    assert "2 dòng đầu; đủ 3 dòng" in html and "H40.12-240002" not in html.split("<h2>")[1]
    assert "Hồ sơ có nguy cơ trễ hạn: <b>3</b>" in html  # the count is the whole
    sheet = openpyxl.load_workbook(folder / "H40.12.xlsx")["Nguy cơ trễ hạn"]
    assert "H40.12-240002" in [c.value for c in sheet["A"]]


def test_last_months_flags_are_listed_until_its_report_closes(config):
    on_time = run.write_digests(RUN_DATE, config, DigestSettings(month_close_day=5))
    closed = run.write_digests(RUN_DATE, config, DigestSettings(month_close_day=4))
    # as of 5 April: March's flag is still to correct on the 5th, no longer after the 4th
    assert on_time["agencies"]["H40.12"]["flags"] == 5
    assert closed["agencies"]["H40.12"]["flags"] == 4


def test_a_failing_server_loses_nothing_and_a_rerun_sends_the_rest(config, smtp_server):
    controller, inbox = smtp_server
    digest_config = DigestSettings(recipients=RECIPIENTS)
    summary = run.write_digests(RUN_DATE, config, digest_config)
    folder = config.export_dir / "H40" / "digests" / WEEK
    down = SmtpSettings(host="127.0.0.1", port=free_port(), security="none")  # nobody listens
    with pytest.raises(RuntimeError, match="2 digest"):
        run.deliver(summary, down, digest_config, attempts=2, wait_max=0)
    assert not (folder / "sent.json").exists()
    assert {p.name for p in folder.glob("*.xlsx")} == {"H40.12.xlsx", "H40.41.xlsx",
                                                       "H40.41.01.xlsx"}  # fmt: skip

    before = len(inbox.messages)
    up = dataclasses.replace(down, port=controller.port)
    assert run.deliver(summary, up, digest_config)["sent"] == ["H40.12", "H40.41"]
    again = run.deliver(run.write_digests(RUN_DATE, config, digest_config), up, digest_config)
    assert again["already_sent"] == ["H40.12", "H40.41"] and again["sent"] == []
    assert again["no_recipient"] == ["H40.41.01"]
    assert len(inbox.messages) == before + 2


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_threshold_alerts_reach_the_webhook_once(config):
    link = "https://intranet.h40.gov.vn/cchc"
    summary = run.write_digests(RUN_DATE, config, DigestSettings(link_base=link))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = AlertSettings(webhook_url=f"http://127.0.0.1:{server.server_port}/alerts")
        assert run.alert_crossings(summary, hook) == {"sent": 2, "already_sent": 0,
                                                      "not_delivered": 0}  # fmt: skip
        assert run.alert_crossings(summary, hook)["already_sent"] == 2
        # next week's digest shows the same closed months: no alert again
        next_week = run.write_digests(RUN_DATE + timedelta(days=7), config, DigestSettings())
        assert len(next_week["crossings"]) == 2
        assert run.alert_crossings(next_week, hook)["already_sent"] == 2
    finally:
        server.shutdown()
    by_agency = {a["agency_code"]: a for a in _Hook.received}
    assert len(_Hook.received) == 2
    justice = by_agency["H40.12"]
    assert justice["component_code"] == "DOSSIER_HANDLING_ON_TIME" and justice["threshold"] == 0.8
    assert (justice["share"], justice["previous_share"]) == (0.75, 0.9)
    assert (justice["points"], justice["max_points"]) == (15.0, 20.0)
    assert (justice["numerator"], justice["denominator"]) == (30, 40)
    assert (justice["previous_numerator"], justice["previous_denominator"]) == (36, 40)
    assert justice["digest"] == f"{link}/H40/digests/{WEEK}/H40.12.xlsx"
    assert by_agency["H40.41"]["threshold"] == 0.9  # 91.7% → 86.7%: crosses 90% only


def test_the_thresholds_are_configurable(config, tmp_path):
    settings = DigestSettings.from_env({"CCHC_DIGEST_THRESHOLDS": "0.95, 0.85"})
    assert settings.thresholds == (Decimal("0.85"), Decimal("0.95"))
    summary = run.write_digests(RUN_DATE, config, settings)
    # 90% → 75% crosses 85%; 100% → 95% stays at 95% (at the threshold is in); 91.7% → 86.7%
    # was below 95% already and stays above 85%
    assert [(c["agency_code"], c["component_code"], c["threshold"]) for c in summary["crossings"]
            ] == [("H40.12", "DOSSIER_HANDLING_ON_TIME", 0.85)]  # fmt: skip
    with pytest.raises(ValueError, match="between 0 and 1"):
        DigestSettings.from_env({"CCHC_DIGEST_THRESHOLDS": "80,90"})
    recipients = tmp_path / "recipients.csv"
    recipients.write_text(
        "agency_code,email\nH40.12,a@x.vn\nH40.12,b@x.vn\nH40.41,not-an-address\n"
    )
    assert read_recipients(recipients) == {"H40.12": ("a@x.vn", "b@x.vn")}


def _self_signed(folder):
    """A certificate for 127.0.0.1 and its key, as a provincial mail server's own CA would sign."""
    from datetime import UTC, datetime
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))  # fmt: skip
    return folder / "cert.pem", folder / "key.pem"


def test_starttls_and_login(config, tmp_path):
    """The production path: STARTTLS with the server's certificate verified, then AUTH."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.digest.conftest import Inbox

    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"cchc-digest", b"mat-khau")
        return AuthResult(success=ok)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=tls,
                            require_starttls=True, authenticator=authenticate,
                            auth_require_tls=True)  # fmt: skip
    controller.start()
    try:
        digest_config = DigestSettings(recipients=RECIPIENTS)
        summary = run.write_digests(RUN_DATE, config, digest_config)
        smtp = SmtpSettings(host="127.0.0.1", port=controller.port, login="cchc-digest",
                            password="mat-khau", security="starttls", ca_file=str(cert))  # fmt: skip
        untrusted = dataclasses.replace(smtp, ca_file=None)  # the certificate is checked
        with pytest.raises(RuntimeError, match="2 digest"):
            run.deliver(summary, untrusted, digest_config, attempts=1)
        assert inbox.messages == [] and logins == []
        assert run.deliver(summary, smtp, digest_config)["sent"] == ["H40.12", "H40.41"]
    finally:
        controller.stop()
    assert logins == [(b"cchc-digest", b"mat-khau")] * 2
    assert len(inbox.messages) == 2


def test_by_hand(config, monkeypatch):
    from typer.testing import CliRunner

    from cchc.digest.__main__ import app

    monkeypatch.setenv("CCHC_WAREHOUSE_URL", config.warehouse_url)
    monkeypatch.setenv("CCHC_EXPORT_DIR", str(config.export_dir))
    result = CliRunner().invoke(app, ["--date", "2024-04-10"])  # a Wednesday of 2024-W15
    assert result.exit_code == 0, result.output
    assert f"3 digest(s) in {config.export_dir / 'H40' / 'digests' / WEEK}" in result.output
    assert "H40.41: 1 at risk, 2 apology letter(s) due" in result.output
