"""Why our 766 scores differ from the portal's: each difference, per agency × month ×
component, broken into causes the warehouse can count.

From our score to the portal's, one thing is changed at a time, each step scored by the one
rule (`rules.points`); what a step changes is that cause's share of the difference:

1. counting rule: the portal's rule (`portal_rule`) instead of ours, on our data as it is now;
2. cut-off timing: the records as they stood on the portal's snapshot day, not as now
   (edits after the snapshot: the later figures restate the period);
3. not synced: only the dossiers the portal held copies of (never-synced dossiers out,
   copies with no one-stop record in);
4. status mismatch: the portal copy's status and dates instead of the one-stop record's;
5. unit mapping: dossiers of merged units counted for the unit in force on the snapshot day;
6. residual: what is left between that and the portal's published score.

The shares add up to `difference` = ours − official, as in mart_qd766_reconciliation.
The warehouse's breakdown is the dbt mart mart_qd766_reconciliation_causes (what BI and the
exports read); these are the same steps written in Python, to check the mart cell by cell
(tests/qd766, bench.qd766_causes) and the synthetic portal against the records it serves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from cchc.qd766.portal_rule import (
    COMPONENTS,
    Counts,
    Record,
    count,
    count_sync,
    dossier_record,
    month_start,
    parse,
    petition_record,
)
from cchc.qd766.rules import Rules, load_rules, points

CAUSES = ("counting_rule", "cutoff_timing", "not_synced", "status_mismatch", "unit_mapping",
          "residual")  # fmt: skip
CAUSES_VI = {
    "counting_rule": "Quy tắc tính (Cổng tính đúng hạn theo tháng tiếp nhận)",
    "cutoff_timing": "Thời điểm chốt số liệu (sửa sau ngày Cổng chốt)",
    "not_synced": "Hồ sơ chưa đồng bộ lên Cổng (hoặc chỉ có trên Cổng)",
    "status_mismatch": "Trạng thái trên Cổng khác Hệ thống một cửa",
    "unit_mapping": "Ánh xạ đơn vị (đơn vị đã sáp nhập)",
    "residual": "Phần chưa giải thích",
}
STEPS = ("portal_rule_now", "at_snapshot", "portal_held", "portal_status", "portal_units")


@dataclass
class Dossier:
    """A dossier's versions in both systems, oldest first (payloads)."""

    onestop: list[dict] = field(default_factory=list)
    copies: list[dict] = field(default_factory=list)
    ratings: list[dict] = field(default_factory=list)


def _latest(versions: list[dict], moment: datetime | None) -> dict | None:
    if moment is None:
        return versions[-1] if versions else None
    found = None
    for payload in versions:
        if parse(payload["NgayCapNhat"]) < moment:
            found = payload
    return found


def _dissatisfied(ratings: list[dict], moment: datetime | None) -> bool:
    rating = _latest(ratings, moment)
    return rating is not None and str(rating.get("MucDoHaiLong")) == "3"


def _attributes(payload: dict | None) -> dict:
    record = payload and dossier_record(payload)
    return {k: getattr(record, k) for k in ("digitized", "reused", "e_result")} if record else {}


@dataclass
class Steps:
    """The dossiers and petitions each step counts, and the sync universe of each."""

    dossiers: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    universe: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    petitions: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))

    def counts(self, step: str) -> Counts:
        return {**count(self.dossiers[step], self.petitions[step]),
                **count_sync(self.universe[step])}  # fmt: skip


def build_steps(
    dossiers: Iterable[Dossier],
    petitions: Iterable[list[dict]],
    snapshot_of: Callable[[date], datetime],
    unit_on: Callable[[str, date], str],
) -> Steps:
    steps = Steps()

    def add(step: str, record: Record | None, *, counted: bool, universe: bool = True) -> None:
        if record is None:
            return
        if counted:
            steps.dossiers[step].append(record)
        if universe:
            steps.universe[step].append(record)

    for d in dossiers:
        first = (d.onestop or d.copies)[0]
        received = parse(first.get("NgayTiepNhan"))
        if received is None:
            continue
        moment = snapshot_of(month_start(received.date()))
        for step, at in (("portal_rule_now", None), ("at_snapshot", moment)):
            held, copy = _latest(d.onestop, at), _latest(d.copies, at)
            unhappy = _dissatisfied(d.ratings, at)
            if held is not None:
                add(step, dossier_record(held, synced=copy is not None, dissatisfied=unhappy),
                    counted=True)  # fmt: skip
            elif copy is not None:
                add(step, dossier_record(copy, synced=True), counted=False)
        held, copy = _latest(d.onestop, moment), _latest(d.copies, moment)
        if copy is None:
            # the portal never held it: counted in the sync universe only
            record = held and dossier_record(held, dissatisfied=_dissatisfied(d.ratings, moment))
            for step in STEPS[2:]:
                add(step, _mapped(record, unit_on, moment) if step == STEPS[-1] else record,
                    counted=False)  # fmt: skip
            continue
        unhappy = _dissatisfied(d.ratings, moment)
        as_held = dossier_record(held or copy, synced=True, dissatisfied=unhappy)
        as_copied = dossier_record(copy, synced=True, dissatisfied=unhappy, **_attributes(held))
        add("portal_held", as_held, counted=True)
        add("portal_status", as_copied, counted=True)
        add("portal_units", _mapped(as_copied, unit_on, moment), counted=True)
    for versions in petitions:
        received = parse(versions[0].get("NgayTiepNhan"))
        if received is None:
            continue
        moment = snapshot_of(month_start(received.date()))
        now, then = _latest(versions, None), _latest(versions, moment)
        steps.petitions["portal_rule_now"].append(petition_record(now))
        for step in STEPS[1:]:
            record = then and petition_record(then)
            if record is not None:
                steps.petitions[step].append(
                    _mapped(record, unit_on, moment) if step == STEPS[-1] else record
                )
    steps.petitions["portal_rule_now"] = [r for r in steps.petitions["portal_rule_now"] if r]
    return steps


def _mapped(record: Record | None, unit_on, moment: datetime) -> Record | None:
    if record is None:
        return None
    unit = unit_on(record.unit, moment.date())
    return record if unit == record.unit else replace(record, unit=unit)


@dataclass(frozen=True)
class Scored:
    """One side's score of a cell (agency, month, component)."""

    numerator: int | None
    denominator: int | None
    points: Decimal | None


@dataclass
class Cause:
    agency: str
    month: date
    component: str
    ours: Scored
    official: Scored
    portal_rule_now: Decimal | None  # the portal's rule on the data as it is now
    shares: dict[str, Decimal]

    @property
    def difference(self) -> Decimal:
        return (self.ours.points or 0) - (self.official.points or 0)


def decompose(
    steps: Steps,
    ours: dict[tuple[str, date, str], Scored],
    official: dict[tuple[str, date, str], Scored],
    rules: Rules | None = None,
) -> list[Cause]:
    """One Cause per cell both sides score (ours and the portal's points both known)."""
    rules = rules or load_rules()
    counted = {step: steps.counts(step) for step in STEPS}

    def scored(step: str, key) -> Decimal:
        num, den = counted[step].get(key, (0, 0))
        return points(rules[key[2]], num, den) or Decimal(0)

    causes = []
    for key in sorted(set(ours) & set(official), key=lambda k: (k[0], k[1], k[2])):
        if key[2] not in COMPONENTS:
            continue
        mine, theirs = ours[key], official[key]
        if mine.points is None or theirs.points is None:
            continue
        chain = [Decimal(mine.points)] + [scored(s, key) for s in STEPS]
        shares = {cause: chain[i] - chain[i + 1] for i, cause in enumerate(CAUSES[:-1])}
        shares["residual"] = chain[-1] - Decimal(theirs.points)
        causes.append(Cause(*key, mine, theirs, chain[1], shares))
    return causes


def residual_share(causes: Iterable[Cause]) -> dict[str, tuple[Decimal, Decimal, int]]:
    """Per component: (sum |residual|, sum |difference|, cells with a difference)."""
    out: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for c in causes:
        row = out[c.component]
        row[0] += abs(c.shares["residual"])
        row[1] += abs(c.difference)
        row[2] += int(c.difference != 0)
    return {k: tuple(v) for k, v in sorted(out.items())}
