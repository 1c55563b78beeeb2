"""A quarter that has not ended, or has no data, is refused; `--draft` forces a draft that says
"BẢN NHÁP" in every file, in a folder of its own."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from typer.testing import CliRunner

from cchc.exports import quarterly
from cchc.exports.cli import export_app
from cchc.exports.periods import Quarter
from cchc.exports.readiness import DRAFT_MARK, QuarterNotExportable

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _folders(settings) -> set[str]:
    root = settings.province_export_dir / "quarterly"
    return {p.name for p in root.iterdir()} if root.exists() else set()


@pytest.mark.parametrize(
    ("label", "why"),
    [
        ("2030Q1", "has not ended"),  # the future: not ended, nothing loaded
        ("2020Q1", "no dossier"),  # ended, but the warehouse holds nothing of it
    ],
)
def test_a_quarter_not_ended_or_without_data_is_refused(export_settings, label, why):
    before = _folders(export_settings)
    with pytest.raises(QuarterNotExportable, match=why):
        quarterly.export_quarter(Quarter.parse(label), export_settings)
    assert _folders(export_settings) == before  # nothing written


def test_a_running_quarter_is_refused_at_its_own_time(export_settings):
    with pytest.raises(QuarterNotExportable, match="has not ended"):
        quarterly.export_quarter(
            Quarter.parse("2024Q1"), export_settings, generated_at=datetime(2024, 3, 20, tzinfo=TZ)
        )


def test_the_cli_refuses_with_a_clear_message_and_exit_1(export_settings, monkeypatch):
    monkeypatch.setattr(quarterly, "load_settings", lambda: export_settings)
    out = CliRunner().invoke(export_app, ["quarter", "--quarter", "2030Q1"])
    assert out.exit_code == 1
    assert "refused to export 2030Q1" in out.output and "--draft" in out.output
    assert "Traceback" not in out.output


def test_a_forced_draft_says_so_in_every_file(export_settings, monkeypatch):
    monkeypatch.setattr(quarterly, "load_settings", lambda: export_settings)
    out = CliRunner().invoke(export_app, ["quarter", "--quarter", "2030Q1", "--draft"])
    assert out.exit_code == 0, out.output
    folder = export_settings.province_export_dir / "quarterly" / "2030Q1-ban-nhap"
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert files
    for path in files:
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            for sheet in book.worksheets:
                top = [c for r in sheet.iter_rows(max_row=12, values_only=True) for c in r if c]
                assert any(DRAFT_MARK in str(c) for c in top) or _chart_titles_marked(path), (
                    path.name,
                    sheet.title,
                )
                assert DRAFT_MARK in sheet.oddHeader.right.text, (path.name, sheet.title)
        elif path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                rows = list(csv.reader(f))
            assert all(row[0] == DRAFT_MARK for row in rows[1:]), path.name
            assert rows[0][0] == "trang_thai_ban"
        elif path.suffix == ".html":
            assert DRAFT_MARK in path.read_text(encoding="utf-8")
        elif path.suffix == ".json":
            manifest = json.loads(path.read_text(encoding="utf-8"))
            assert manifest["draft"] is True and "DRAFT" in manifest["warnings"][0]
    # the official folder of that quarter is never written by a draft
    assert not (export_settings.province_export_dir / "quarterly" / "2030Q1").exists()


def _chart_titles_marked(path) -> bool:
    """A chart-only sheet carries the mark in its charts' titles."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        return bool(charts) and all(DRAFT_MARK in z.read(n).decode("utf-8") for n in charts)
