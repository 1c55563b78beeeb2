"""Whether a quarter may be exported as an official file: it has ended and it has data.

A quarter still running, or one the warehouse holds nothing of, would give figures no one can
sign (form 06 all zeros beside last year's annex). Such an export is refused; an explicit
draft export is allowed and every file of it says "BẢN NHÁP".
"""

from __future__ import annotations

from datetime import datetime

from cchc.exports.freshness import DRAFT_MARK, Freshness, local_time
from cchc.exports.periods import Quarter

DRAFT_FOLDER_SUFFIX = "-ban-nhap"  # a draft never replaces the official folder


class QuarterNotExportable(Exception):
    """The quarter cannot give official figures; the message says why and what to do."""


def refusal(
    quarter: Quarter, freshness: Freshness, now: datetime, has_dossiers: bool
) -> str | None:
    """Why `quarter` cannot be exported as official at `now`, or None when it can;
    `has_dossiers`: form 06 of the quarter has at least one dossier."""
    if now < quarter.closes_at:
        return (
            f"{quarter.label} has not ended: it closes at {local_time(quarter.closes_at)}"
            f" (now {local_time(now)})"
        )
    newest = max((until for *_, until in freshness.entities if until), default=None)
    if newest is None:
        return f"no source data is loaded in the warehouse, so {quarter.label} has no figures"
    if newest <= datetime.combine(quarter.start, datetime.min.time(), quarter.closes_at.tzinfo):
        return (
            f"no data of {quarter.label} is loaded: the sources are loaded only up to"
            f" {local_time(newest)}, before the quarter began"
        )
    if not has_dossiers:
        return f"the warehouse holds no dossier received or handled in {quarter.label}"
    return None


def check_exportable(quarter: Quarter, freshness: Freshness, now: datetime, *, draft: bool,
                     has_dossiers: bool) -> None:  # fmt: skip
    """Raise QuarterNotExportable unless the quarter can be exported (or a draft is asked)."""
    reason = None if draft else refusal(quarter, freshness, now, has_dossiers)
    if reason:
        raise QuarterNotExportable(
            f"refused to export {quarter.folder_name}: {reason}."
            f" Use --draft for a draft marked {DRAFT_MARK!r} in every file."
        )
