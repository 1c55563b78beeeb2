"""The national portal's own counting rule for the Decision 766 components it scores from
dossiers and petitions, and the moment it takes its monthly snapshot.

The portal counts a month's figures over the dossiers *received* in the month, as it holds
them on its snapshot day: a dossier is on time when it ended by the month's end no later than
its appointment date, or is still open at the month's end with its appointment not yet past.
Our own rule (mart_qd766_scores: working days, supplement time subtracted, dossiers received
or handled in the period) is kept as the named alternative; the reconciliation counts what
the difference of rules is worth.

One dossier or petition is a `Record` (its state in one system at one moment); `count`
gives each component's numerator and denominator per unit and month of receipt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

SNAPSHOT_DAY = 5  # the portal freezes month M at 00:00 (local time) on the 5th of M + 1
STAMP_FORMAT = "%Y%m%d%H%M%S"

DOSSIER_COMPONENTS = (
    "DOSSIER_HANDLING_ON_TIME",
    "DOSSIER_SYNC",
    "ORIGINAL_RESULT_AVAILABLE",
    "SO_HOA_GIAY_TO_GIAI_QUYET",
    "REUSED_DIGITIZED_DATA",
    "CITIZEN_DATA_CONNECTED_DOSSIER",
    "DOSSIER_RECEIVING_SATISFACTION",
)
PETITION_COMPONENTS = ("PETITION_PROCESSING_ON_TIME", "PETITION_HANDLING_SATISFACTION")
COMPONENTS = DOSSIER_COMPONENTS + PETITION_COMPONENTS


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def snapshot_at(month: date, horizon: datetime | None = None) -> datetime:
    """When the portal froze `month`'s figures (local time); never after the data's horizon."""
    moment = datetime.combine(next_month(month).replace(day=SNAPSHOT_DAY), datetime.min.time())
    return min(moment, horizon) if horizon is not None else moment


def parse(text: str | None) -> datetime | None:
    return datetime.strptime(text, STAMP_FORMAT) if text else None


@dataclass(frozen=True)
class Record:
    """A dossier (or a petition) as one system holds it at one moment."""

    unit: str
    received: date
    due: date | None = None
    ended: date | None = None
    online: bool = False
    digitized: bool = False
    reused: bool = False
    e_result: bool = False
    dissatisfied: bool = False  # rated 'not satisfied' (a petition: not rated 1 or 2)
    synced: bool = False  # the portal holds a copy

    @property
    def month(self) -> date:
        return month_start(self.received)

    def on_time(self) -> bool:
        """The portal's rule, judged at the end of the month of receipt."""
        first_next = next_month(self.received)
        if self.ended is not None and self.ended < first_next:
            return self.due is not None and self.ended <= self.due
        return self.due is not None and self.due >= first_next


def dossier_record(payload: dict, **attributes) -> Record | None:
    """A one-stop or portal payload as a Record (None: no receipt date, not countable)."""
    received = parse(payload.get("NgayTiepNhan"))
    if received is None or not payload.get("DonViXuLy"):
        return None
    due, ended = parse(payload.get("NgayHenTra")), parse(payload.get("NgayKetThucXuLy"))
    found = {
        "online": str(payload.get("KenhThucHien")) == "2",
        "digitized": bool(payload.get("HoSoCoThanhPhanSoHoa")),
        "reused": any(c.get("DuocTaiSuDung") for c in payload.get("TaiLieuNop") or ()),
        "e_result": bool(payload.get("DanhSachGiayToKetQua")),
    }
    return Record(payload["DonViXuLy"], received.date(), due and due.date(),
                  ended and ended.date(), **{**found, **attributes})  # fmt: skip


def petition_record(payload: dict) -> Record | None:
    received = parse(payload.get("NgayTiepNhan"))
    if received is None or not payload.get("DonViXuLy"):
        return None
    answered, due = parse(payload.get("NgayTraLoi")), parse(payload.get("HanXuLy"))
    on_time = answered is not None and due is not None and answered <= due
    satisfied = payload.get("MucDoHaiLong") in (1, 2, "1", "2")
    # a petition's 'due' and 'ended' carry its on-time verdict: ended = due when on time
    return Record(payload["DonViXuLy"], received.date(), due=received.date(),
                  ended=received.date() if on_time else None, dissatisfied=not satisfied)  # fmt: skip


Counts = dict[tuple[str, date, str], list[int]]  # (unit, month, component) -> [num, den]


def new_counts() -> Counts:
    return defaultdict(lambda: [0, 0])


def tally_dossier(counts: Counts, r: Record) -> None:
    """Add one dossier the portal counts to every dossier component of its cell."""
    key = (r.unit, r.month)
    on_time = r.on_time()
    hits = {
        "DOSSIER_HANDLING_ON_TIME": on_time,
        "ORIGINAL_RESULT_AVAILABLE": r.e_result,
        "SO_HOA_GIAY_TO_GIAI_QUYET": r.digitized,
        "REUSED_DIGITIZED_DATA": r.reused,
        "CITIZEN_DATA_CONNECTED_DOSSIER": r.online,
    }
    for code, hit in hits.items():
        cell = counts[(*key, code)]
        cell[0] += int(hit)
        cell[1] += 1
    # satisfaction: 1 - (overdue + rated not satisfied) / received, summed per dossier and
    # floored at 0 per cell when read (`satisfaction_floor`)
    cell = counts[(*key, "DOSSIER_RECEIVING_SATISFACTION")]
    cell[0] += int(on_time) - int(r.dissatisfied)
    cell[1] += 1


def tally_petition(counts: Counts, r: Record) -> None:
    for code, hit in (("PETITION_PROCESSING_ON_TIME", r.ended is not None),
                      ("PETITION_HANDLING_SATISFACTION", not r.dissatisfied)):  # fmt: skip
        cell = counts[(r.unit, r.month, code)]
        cell[0] += int(hit)
        cell[1] += 1


def tally_sync(counts: Counts, r: Record) -> None:
    """DOSSIER_SYNC: dossiers the portal holds / dossiers received (either system)."""
    cell = counts[(r.unit, r.month, "DOSSIER_SYNC")]
    cell[0] += int(r.synced)
    cell[1] += 1


def satisfaction_floor(counts: Counts) -> Counts:
    for (_, _, code), cell in counts.items():
        if code == "DOSSIER_RECEIVING_SATISFACTION":
            cell[0] = max(0, cell[0])
    return counts


def count(dossiers: Iterable[Record], petitions: Iterable[Record] = ()) -> Counts:
    """Numerator and denominator of each component per unit and month of receipt, over the
    dossiers and petitions the caller gives (the set a step means: ours, the portal's)."""
    counts = new_counts()
    for r in dossiers:
        tally_dossier(counts, r)
    for r in petitions:
        tally_petition(counts, r)
    return satisfaction_floor(counts)


def count_sync(universe: Iterable[Record]) -> Counts:
    counts = new_counts()
    for r in universe:
        tally_sync(counts, r)
    return counts
