"""The quarterly export: every file of one quarter, in one folder, swapped in at once.

`exports/<province>/quarterly/<2024Q1 | 2024Q1-legal>/`:
  bieu_06_vpcp_kstt.xlsx, chi_so_766.xlsx, phu_luc_chat_luong_du_lieu.xlsx,
  doi_chieu_766_du_lieu.xlsx, bao_cao.html, one CSV per table, manifest.json.

A quarter not ended or without data is refused (cchc.exports.readiness); a forced draft goes
to `<quarter>-ban-nhap/` and says "BẢN NHÁP" in every file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cchc import warehouse
from cchc.config import Settings, load_settings
from cchc.exports import (
    chart_data,
    form06,
    html_report,
    manifest,
    quality_annex,
    reconciliation_causes,
    restatements,
    scorecard,
)
from cchc.exports.csv_files import write_csv
from cchc.exports.files import replace_directory_atomically
from cchc.exports.freshness import Freshness, read_freshness
from cchc.exports.periods import Quarter
from cchc.exports.readiness import DRAFT_FOLDER_SUFFIX, DRAFT_MARK, check_exportable
from cchc.exports.reconciliation import read_reconciliation
from cchc.exports.reconciliation import write_workbook as write_reconciliation
from cchc.extract.window import TZ

FORM06_XLSX = "bieu_06_vpcp_kstt.xlsx"
SCORECARD_XLSX = "chi_so_766.xlsx"
QUALITY_XLSX = "phu_luc_chat_luong_du_lieu.xlsx"
RECONCILIATION_XLSX = "doi_chieu_766_du_lieu.xlsx"  # a data file, not for print
HTML = "bao_cao.html"


@dataclass(frozen=True)
class QuarterlyExport:
    folder: Path
    files: list[Path]
    freshness: Freshness
    manifest: dict

    @property
    def stale(self) -> bool:
        return self.freshness.stale


def export_quarter(quarter: Quarter, settings: Settings | None = None,
                   generated_at: datetime | None = None, draft: bool = False) -> QuarterlyExport:  # fmt: skip
    """Every file of `quarter`; raises QuarterNotExportable for a quarter not ended or without
    data unless `draft`."""
    settings = settings or load_settings()
    generated_at = (generated_at or datetime.now(TZ)).astimezone(TZ)
    province = settings.province_name
    with warehouse.connect_as("transformer", settings) as conn:
        freshness = read_freshness(conn, quarter, settings.province_code)
        code = settings.province_code
        form = form06.read_form06(conn, quarter, code)
        check_exportable(
            quarter, freshness, generated_at, draft=draft, has_dossiers=bool(form.rows)
        )
        freshness = dataclasses.replace(freshness, draft=draft)
        scores = scorecard.read_scores(conn, quarter, code)
        annex = quality_annex.read_annex(conn, quarter, code)
        reconciliation = read_reconciliation(conn, quarter, annex, code)
        causes = reconciliation_causes.read_causes(conn, quarter, code)
        restated = restatements.read_restatements(conn, quarter, code, generated_at)
        trend = chart_data.on_time_trend(conn, quarter, code)
        if not draft:  # what this export says, kept to see later edits as restatements
            calendar = quarter.as_calendar()
            restatements.record_snapshot(conn, code, calendar.start,
                                         calendar.end + timedelta(days=1), generated_at)  # fmt: skip
    reconciliation_extras = (*causes, restated)
    tables = [
        *form06.tables(form),
        *scorecard.tables(scores),
        *annex.tables(),
        reconciliation,
        *reconciliation_extras,
        chart_data.online_share_by_district(form),
        trend,
    ]
    by_name = {t.name: t for t in tables}
    result: dict = {}

    def build(folder: Path) -> None:
        form06.write_workbook(folder / FORM06_XLSX, form, freshness, province)
        scorecard.write_workbook(folder / SCORECARD_XLSX, scores, freshness,
                                 by_name[reconciliation_causes.SUMMARY])  # fmt: skip
        quality_annex.write_workbook(folder / QUALITY_XLSX, annex, quarter, freshness)
        write_reconciliation(folder / RECONCILIATION_XLSX, reconciliation, quarter, freshness,
                             reconciliation_extras)  # fmt: skip
        html_report.write_html(folder / HTML,
                               html_report.render(quarter, province, freshness, by_name))  # fmt: skip
        for table in tables:
            write_csv(folder / f"{table.name}.csv", table, mark=DRAFT_MARK if draft else None)
        result["manifest"] = manifest.build(folder, quarter, generated_at, freshness, tables)
        manifest.write(folder, result["manifest"])

    name = quarter.folder_name + (DRAFT_FOLDER_SUFFIX if draft else "")
    folder = settings.province_export_dir / "quarterly" / name
    replace_directory_atomically(folder, build)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return QuarterlyExport(folder, files, freshness, result["manifest"])
