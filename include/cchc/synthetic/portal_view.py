"""What the national portal itself holds and counts on its monthly snapshot day.

The portal scores a month from its own copies of the dossiers (synced from the one-stop
system, and those received on the portal only) as they stand on its snapshot day, by its own
rule (`cchc.qd766.portal_rule`), under the units in force that day (a merged unit's
dossiers count for its successor). Each way the portal's figures part from the one-stop
system's is therefore a real, countable cause: a dossier never synced, a copy whose last
status change never arrived, an edit after the snapshot, a merged unit, the rule itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime

from cchc.qd766.portal_rule import (
    Counts,
    Record,
    dossier_record,
    month_start,
    new_counts,
    parse,
    petition_record,
    satisfaction_floor,
    snapshot_at,
    tally_dossier,
    tally_petition,
    tally_sync,
)

from .units import build_units
from .versions import Version

# portal counts -> the evaluation inputs they replace (indicators.COLUMNS names)
_DOSSIER_COLUMNS = {
    "DOSSIER_HANDLING_ON_TIME": "on_time_766",
    "ORIGINAL_RESULT_AVAILABLE": "e_result",
    "SO_HOA_GIAY_TO_GIAI_QUYET": "digitized",
    "REUSED_DIGITIZED_DATA": "reused",
    "CITIZEN_DATA_CONNECTED_DOSSIER": "online_received",
    "PETITION_PROCESSING_ON_TIME": "petitions_on_time",
    "PETITION_HANDLING_SATISFACTION": "petitions_satisfied",
}


def latest_before(versions: list[Version], moment: datetime) -> Version | None:
    found = None
    for version in versions:
        if parse(version.payload["NgayCapNhat"]) < moment:
            found = version
    return found


class UnitMap:
    """A unit code as the register in force on a day names it (merged units: successor)."""

    def __init__(self, province: str) -> None:
        self.units = {u.code: u for u in build_units(province)}

    def on(self, code: str, day: date) -> str:
        unit = self.units.get(code)
        while unit is not None and unit.valid_to < day and unit.successor:
            code, unit = unit.successor, self.units.get(unit.successor)
        return code


class PortalView:
    def __init__(self, province: str, horizon: datetime) -> None:
        self.horizon = horizon
        self.units = UnitMap(province)
        self.tallied: Counts = new_counts()  # counted as they come: a year is millions

    def _snapshot(self, first: dict) -> datetime | None:
        received = parse(first.get("NgayTiepNhan"))
        return snapshot_at(month_start(received.date()), self.horizon) if received else None

    def _mapped(self, record: Record, moment: datetime) -> Record:
        unit = self.units.on(record.unit, moment.date())
        return record if unit == record.unit else replace(record, unit=unit)

    def add_dossier(
        self, onestop: list[Version], copies: list[Version], rating: Version | None
    ) -> None:
        first = (onestop or copies or [None])[0]
        moment = first and self._snapshot(first.payload)
        if moment is None:
            return
        held, copy = latest_before(onestop, moment), latest_before(copies, moment)
        dissatisfied = bool(
            rating is not None and rating.at < moment and rating.payload["MucDoHaiLong"] == 3
        )
        if copy is not None:
            attributes = dossier_record(held.payload) if held is not None else None
            record = dossier_record(
                copy.payload, synced=True, dissatisfied=dissatisfied,
                **({k: getattr(attributes, k) for k in ("digitized", "reused", "e_result")}
                   if attributes else {}),
            )  # fmt: skip
        elif held is not None:
            record = dossier_record(held.payload, dissatisfied=dissatisfied)
        else:
            return
        if record is None:
            return
        record = self._mapped(record, moment)
        tally_sync(self.tallied, record)
        if copy is not None:
            tally_dossier(self.tallied, record)

    def add_petition(self, versions: list[Version]) -> None:
        moment = self._snapshot(versions[0].payload)
        held = moment and latest_before(versions, moment)
        record = held and petition_record(held.payload)
        if record is not None:
            tally_petition(self.tallied, self._mapped(record, moment))

    def counts(self) -> Counts:
        return satisfaction_floor(self.tallied)

    def overrides(self) -> dict[tuple[str, str], dict[str, int]]:
        """(unit, 'yyyy-mm') -> the evaluation inputs the portal counts itself."""
        rows: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for (unit, month, code), (num, den) in self.counts().items():
            row = rows[(unit, f"{month:%Y-%m}")]
            if code == "DOSSIER_SYNC":
                row.update(synced=num, sync_universe=den)
            elif code == "DOSSIER_RECEIVING_SATISFACTION":
                row["satisfied"] = num
            elif code.startswith("PETITION"):
                row.update({_DOSSIER_COLUMNS[code]: num, "petitions": den})
            else:
                row.update({_DOSSIER_COLUMNS[code]: num, "dossiers_received": den})
        for row in rows.values():
            row.setdefault("dossiers_received", 0)
            row.setdefault("on_time_766", 0)
            row["overdue_766"] = row["dossiers_received"] - row["on_time_766"]
            for name in ("synced", "sync_universe", "satisfied", "petitions", "petitions_on_time",
                         "petitions_satisfied", "e_result", "digitized", "reused",
                         "online_received"):  # fmt: skip
                row.setdefault(name, 0)
        return rows
