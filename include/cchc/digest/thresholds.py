"""Threshold alerts: an agency's Decision 766 component that fell below a threshold since the
previous period, sent through the project's alert channel with the figures and the digest.

A component crosses when its share of maximum points was at or above a threshold in the
closed period before and is below it in the latest closed period (a period still running
moves every night: it never raises an alert), both periods counting at least
`min_denominator` dossiers (or procedures, petitions…: the component's denominator), since a
commune's share over two dossiers jumps between 0 and 100% by chance; the alert names the
lowest threshold crossed.
Alerts sent are recorded (`alerts.json` in the province's digests folder), so neither a
rerun nor the next weeks' digests repeat them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from cchc import alerts
from cchc.digest.content import AgencyDigest
from cchc.exports.files import write_atomically

LEDGER = "alerts.json"


def _pct(share: Decimal) -> str:
    return f"{float(share) * 100:.1f}%".replace(".", ",")


def crossings(digest: AgencyDigest, digest_link: str, min_denominator: int = 10) -> list[dict]:
    """The alerts this agency's digest calls for (JSON-ready)."""
    found = []
    for c in digest.components:
        if c.share is None or c.previous_share is None:
            continue
        if min(c.denominator or 0, c.previous_denominator or 0) < min_denominator:
            continue
        crossed = [t for t in digest.thresholds if c.previous_share >= t > c.share]
        if not crossed:
            continue
        threshold = min(crossed)
        found.append({
            "kind": "qd766_threshold_crossed",
            "province_code": digest.province,
            "agency_code": digest.agency_code,
            "agency_name": digest.agency_name,
            "component_code": c.code,
            "component_name": c.name,
            "threshold": float(threshold),
            "period": c.period,
            "share": round(float(c.share), 4),
            "points": float(c.points),
            "numerator": c.numerator,
            "denominator": c.denominator,
            "max_points": float(c.max_points),
            "previous_period": c.previous_period,
            "previous_share": round(float(c.previous_share), 4),
            "previous_numerator": c.previous_numerator,
            "previous_denominator": c.previous_denominator,
            "week": digest.week.label,
            "as_of": digest.as_of.isoformat(),
            "digest": digest_link,
        })  # fmt: skip
    return found


def subject(alert: dict) -> str:
    def pct(key: str) -> str:
        return _pct(Decimal(str(alert[key])))

    return (f"[CCHC] {alert['agency_name']}: {alert['component_name']} dưới ngưỡng"
            f" {pct('threshold')} – {alert['period']}: {pct('share')};"
            f" {alert['previous_period']}: {pct('previous_share')}")  # fmt: skip


def send(folder: Path, found: list[dict], settings: alerts.AlertSettings | None = None
         ) -> dict[str, int]:  # fmt: skip
    """Send the alerts not sent for this week yet; returns counts by outcome."""
    path = folder / LEDGER
    sent = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    counts = {"sent": 0, "already_sent": 0, "not_delivered": 0}
    for alert in found:
        key = f"{alert['agency_code']}:{alert['component_code']}:{alert['period']}"
        if key in sent:
            counts["already_sent"] += 1
            continue
        outcome = alerts.send_alert(alert, subject(alert), settings)
        if outcome and any(outcome.values()):
            sent[key] = {"channels": sorted(k for k, ok in outcome.items() if ok)}
            counts["sent"] += 1
        else:
            counts["not_delivered"] += 1
    if sent:
        text = json.dumps(sent, ensure_ascii=False, indent=2, sort_keys=True)
        write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return counts
