"""The weekly digest's steps, as the DAG `cchc_weekly_digest` runs them: write every agency's
files, send them when SMTP is configured, then alert on thresholds crossed.

Files: `exports/<province>/digests/<ISO week>/<agency>.html` and `.xlsx`, plus
`crossings.json` (the week's threshold crossings) and `sent.json` (what was e-mailed);
`exports/<province>/digests/alerts.json` records the threshold alerts sent. A digest already sent is never rewritten: the files stay what the agency received.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path

from cchc import warehouse
from cchc.config import Settings
from cchc.digest import content, render, thresholds
from cchc.digest.delivery import Digest, read_ledger, send_digests
from cchc.digest.settings import DigestSettings, SmtpSettings
from cchc.exports.files import write_atomically

log = logging.getLogger(__name__)

CROSSINGS = "crossings.json"


def week_folder(settings: Settings, week: content.Week) -> Path:
    return settings.province_export_dir / "digests" / week.label


def _link(config: DigestSettings, settings: Settings, path: Path) -> str:
    if config.link_base:
        return f"{config.link_base}/{path.relative_to(settings.export_dir).as_posix()}"
    return str(path)


def _digest(folder: Path, agency: str, subject: str) -> Digest:
    return Digest(agency, subject, folder / f"{agency}.html", folder / f"{agency}.xlsx")


def write_digests(run_date: date, settings: Settings, config: DigestSettings | None = None
                  ) -> dict:  # fmt: skip
    """Write the week's digest of every agency with something to report; returns a summary
    (folder, agencies with their subject and counts, threshold crossings)."""
    config = config or DigestSettings.from_env()
    province = settings.province_code
    week = content.Week.of(run_date)
    folder = week_folder(settings, week)
    with warehouse.connect_as("transformer", settings) as conn:
        as_of = content.as_of_date(conn, province, run_date - timedelta(days=1))
        digests = [
            content.read_digest(
                conn, province, code, name, week, as_of, config.thresholds, config.month_close_day
            )  # fmt: skip
            for code, name in content.agencies(conn, province)
        ]
    folder.mkdir(parents=True, exist_ok=True)
    sent = read_ledger(folder)
    summary = {"folder": str(folder), "week": week.label, "as_of": as_of.isoformat(),
               "agencies": {}, "crossings": []}  # fmt: skip
    for digest in digests:
        files = _digest(folder, digest.agency_code, render.subject(digest))
        if digest.agency_code not in sent:  # keep what the agency received
            body = render.html(digest)
            write_atomically(files.html_path, lambda tmp, b=body: tmp.write_text(b, "utf-8"))
            write_atomically(files.xlsx_path, lambda tmp, d=digest: render.write_xlsx(d, tmp))
        summary["agencies"][digest.agency_code] = {
            "subject": sent.get(digest.agency_code, {}).get("subject", files.subject),
            "at_risk": len(digest.at_risk.rows),
            "apologies": len(digest.apologies.rows),
            "flags": len(digest.flags.rows),
        }
        link = _link(config, settings, files.xlsx_path)
        summary["crossings"].extend(thresholds.crossings(digest, link, config.min_denominator))
    text = json.dumps(summary["crossings"], ensure_ascii=False, indent=2)
    write_atomically(folder / CROSSINGS, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    log.info("%d digest(s) for %s written to %s", len(digests), week.label, folder)
    return summary


def deliver(summary: dict, smtp: SmtpSettings | None, config: DigestSettings | None = None,
            **retry) -> dict:  # fmt: skip
    """Send the written digests by SMTP; without SMTP the files are the delivery."""
    config = config or DigestSettings.from_env()
    folder = Path(summary["folder"])
    if smtp is None:
        log.info("no SMTP connection configured: digests delivered as files in %s", folder)
        return {"delivered_as_files": sorted(summary["agencies"]), "folder": str(folder)}
    digests = [_digest(folder, code, a["subject"]) for code, a in summary["agencies"].items()]
    return send_digests(folder, digests, dict(config.recipients), smtp, **retry)


def alert_crossings(summary: dict, alert_settings=None) -> dict[str, int]:
    """Alert each crossing once: the ledger is the province's, across weeks, since a closed
    period's crossing shows in every digest until the next period closes."""
    return thresholds.send(Path(summary["folder"]).parent, summary["crossings"], alert_settings)
