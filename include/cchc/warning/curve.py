"""The model's operating curve, the ceiling of any rule, and the fair comparison with the
naive rule.

The ceiling: a late dossier can be warned in time only on a night it was open, its deadline
running, at least `min_lead` working days before its due date. A dossier received later (a
one-day procedure) escapes every rule. The naive rule "due within N working days", N ≥
min_lead, flags every dossier on such a night: its recall in time is (nearly) the ceiling,
and no rule can beat it on that count, only match it with fewer warnings.

A curve scales both of the model rule's thresholds together (keeping their ratio and the
horizon; the too-late threshold, when the rule has one, stays as it is): each dossier's warning score is the lowest scale at which some night would warn
it, so one sort gives precision and recall in time at every scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from .score import MIN_LEAD_WORKING_DAYS, Night, Outcome, Score, judged_outcomes


@dataclass(frozen=True)
class Point:
    threshold: float  # the rule's (main) threshold at this point of the curve
    warned: int
    true_positives: int
    warned_in_time: int
    late: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.warned if self.warned else 0.0

    @property
    def recall_in_time(self) -> float:
        return self.warned_in_time / self.late if self.late else 0.0


def night_score(
    night: Night,
    horizon: int | None,
    last_chance_ratio: float,
    min_lead: int = MIN_LEAD_WORKING_DAYS,
    too_late: float | None = None,
) -> float:
    """The highest threshold at which the model rule (threshold t, last chance t × ratio; too
    late: a fixed threshold, not scaled) warns on this night; 0 when it never does."""
    if horizon is not None and night.working_days_left > horizon:
        return 0.0
    if too_late is not None and night.working_days_left < min_lead:
        return 1.0 if night.risk_probability >= too_late else 0.0
    if night.working_days_left == min_lead and 0 < last_chance_ratio < 1:
        return min(1.0, night.risk_probability / last_chance_ratio)
    return night.risk_probability


def operating_curve(
    nights: list[Night],
    outcomes: dict[tuple[str, str], Outcome],
    last_night,
    data_end,
    horizon: int | None,
    last_chance_ratio: float,
    min_lead: int = MIN_LEAD_WORKING_DAYS,
    too_late: float | None = None,
) -> list[Point]:
    """Precision and recall in time of the model rule at every threshold that changes them,
    from the most selective to the least."""
    best: dict[tuple[str, str], float] = {}  # any night before the due date
    best_in_time: dict[tuple[str, str], float] = {}  # nights >= min_lead before it
    for night in nights:
        if night.working_days_left < 1 or night.waiting_supplement:
            continue
        value = night_score(night, horizon, last_chance_ratio, min_lead, too_late)
        best[night.dossier] = max(best.get(night.dossier, 0.0), value)
        if night.working_days_left >= min_lead:
            best_in_time[night.dossier] = max(best_in_time.get(night.dossier, 0.0), value)
    judged = judged_outcomes(best.keys(), outcomes, last_night, data_end)
    late = sum(judged.values())
    events = sorted(
        ((best[key], "any", went) for key, went in judged.items()),
        key=lambda event: -event[0],
    ) + sorted(
        ((best_in_time.get(key, 0.0), "in_time", True) for key, went in judged.items() if went),
        key=lambda event: -event[0],
    )
    events.sort(key=lambda event: -event[0])
    points: list[Point] = []
    warned = hits = in_time = 0
    for index, (value, kind, went) in enumerate(events):
        if value <= 0:
            break
        if kind == "any":
            warned += 1
            hits += went
        else:
            in_time += 1
        if index + 1 == len(events) or events[index + 1][0] != value:
            points.append(Point(value, warned, hits, in_time, late))
    return points


def recall_at_precision(curve: list[Point], precision: float) -> float:
    """The model's best recall in time among its points at least this precise."""
    return max((p.recall_in_time for p in curve if p.precision >= precision), default=0.0)


def precision_at_recall(curve: list[Point], recall_in_time: float) -> float:
    """The model's best precision among its points warning at least this share in time."""
    return max((p.precision for p in curve if p.recall_in_time >= recall_in_time), default=0.0)


def ceiling(result: Score) -> float:
    """The share of late dossiers any rule could have warned in time."""
    return result.late_warnable / result.late if result.late else 0.0
