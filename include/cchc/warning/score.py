"""Scores warnings against what really happened: precision, recall and lead time.

A night's warning is a flag raised before the due date (at least one working day left), by
the model (risk_probability at or above the threshold) or by the naive rule (due within N
working days). Counted per dossier: a dossier warned on any night counts once; its lead time
is the working days left on the night of its first warning. It went late when it ended after
its due date, or was still open after it when the data ends. Judged are the dossiers due
within the replayed nights (every rule had all its nights before their due date), seen open
before their due date (not already late when the period began) and of known outcome.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

MIN_LEAD_WORKING_DAYS = 2  # the target: warned at least this many working days before the due date


@dataclass(frozen=True)
class Night:
    """One dossier on one replayed night."""

    dossier: tuple[str, str]  # (province_code, dossier_code)
    as_of: date
    working_days_left: int
    risk_probability: float
    waiting_supplement: bool = False


@dataclass(frozen=True)
class Outcome:
    due_date: date
    ended_date: date | None  # None: still open when the data ends (or withdrawn: not late)
    withdrawn: bool = False

    def went_late(self, data_end: date) -> bool | None:
        if self.withdrawn:
            return False
        if self.ended_date is not None:
            return self.ended_date > self.due_date
        return True if self.due_date < data_end else None


@dataclass(frozen=True)
class Score:
    rule: str
    dossiers: int  # judged: seen open before their due date, outcome known
    late: int
    warned: int
    true_positives: int
    warned_in_time: int  # late dossiers first warned >= MIN_LEAD working days before due
    late_warnable: int = 0  # late dossiers open on a night >= MIN_LEAD working days before due
    lead_median: float | None = None  # working days from the first warning to the due date
    lead_mean: float | None = None
    true_positive_keys: frozenset = field(default=frozenset(), repr=False)

    @property
    def precision(self) -> float:
        return self.true_positives / self.warned if self.warned else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.late if self.late else 0.0

    @property
    def recall_in_time(self) -> float:
        return self.warned_in_time / self.late if self.late else 0.0

    @property
    def recall_in_time_warnable(self) -> float:
        """Of the late dossiers any rule could have warned in time (a one-day procedure
        cannot be warned two working days ahead), the share warned in time."""
        return self.warned_in_time / self.late_warnable if self.late_warnable else 0.0


def model_rule(
    threshold: float,
    horizon: int | None = None,
    last_chance_threshold: float | None = None,
    min_lead: int = MIN_LEAD_WORKING_DAYS,
    too_late_threshold: float | None = None,
):
    """The mart's is_at_risk: due within the horizon (working days; None: any) and a
    probability at or above the threshold, or, on the last night a warning still comes
    min_lead working days ahead, at or above the (lower) last-chance threshold. On the nights
    after it (fewer than min_lead working days left: a warning no longer comes in time), at or
    above `too_late_threshold` when given: such a warning can only be right or a false alarm,
    so it is raised when the dossier is nearly sure to end late."""

    def warns(night: Night) -> bool:
        if horizon is not None and night.working_days_left > horizon:
            return False
        if too_late_threshold is not None and night.working_days_left < min_lead:
            return night.risk_probability >= too_late_threshold
        if night.risk_probability >= threshold:
            return True
        return (
            last_chance_threshold is not None
            and night.working_days_left == min_lead
            and night.risk_probability >= last_chance_threshold
        )

    return warns


def naive_rule(days: int):
    def warns(night: Night) -> bool:
        return night.working_days_left <= days

    return warns


def judged_outcomes(
    seen, outcomes: dict[tuple[str, str], Outcome], last_night: date, data_end: date
) -> dict[tuple[str, str], bool]:
    """Of the dossiers seen open before their due date, those due within the replayed nights
    and of known outcome: whether each went late."""
    return {
        key: late
        for key in seen
        if key in outcomes
        and outcomes[key].due_date <= last_night
        and (late := outcomes[key].went_late(data_end)) is not None
    }


def score(
    rule: str,
    warns,
    nights: list[Night],
    outcomes: dict[tuple[str, str], Outcome],
    last_night: date,
    data_end: date,
    min_lead: int = MIN_LEAD_WORKING_DAYS,
) -> Score:
    """Precision, recall and lead time of one warning rule over the replayed nights."""
    seen: set[tuple[str, str]] = set()
    warnable: set[tuple[str, str]] = set()
    first_lead: dict[tuple[str, str], int] = {}
    for night in nights:
        if night.working_days_left < 1 or night.waiting_supplement:
            continue  # already late, or the deadline is suspended: nothing to warn of
        seen.add(night.dossier)
        if night.working_days_left >= min_lead:
            warnable.add(night.dossier)
        if warns(night):
            lead = first_lead.get(night.dossier)
            first_lead[night.dossier] = max(lead or 0, night.working_days_left)
    judged = judged_outcomes(seen, outcomes, last_night, data_end)
    late = {key for key, went in judged.items() if went}
    warned = {key for key in first_lead if key in judged}
    hits = warned & late
    leads = [first_lead[key] for key in hits]
    return Score(
        rule=rule,
        dossiers=len(judged),
        late=len(late),
        warned=len(warned),
        true_positives=len(hits),
        warned_in_time=sum(1 for key in hits if first_lead[key] >= min_lead),
        late_warnable=len(late & warnable),
        lead_median=statistics.median(leads) if leads else None,
        lead_mean=statistics.fmean(leads) if leads else None,
        true_positive_keys=frozenset(hits),
    )
