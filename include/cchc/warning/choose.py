"""Choosing the model rule's numbers on one replay, to be checked on others.

The rule (the mart's is_at_risk): due within `horizon` working days and a probability of
ending late at or above `threshold`, or at or above `last_chance` on the last night a warning
still comes `min_lead` working days ahead; on the nights after it (too late to count as a
warning in time) at or above `too_late` only. Chosen on the replay given (and only there):
first the rule whose worse margin over the two targets (precision, recall in time) is the
largest; then `too_late`, which cannot change the recall in time, as the one giving the best
precision (a warning one day ahead can only be a hit or a false alarm, so it is kept for the
dossiers nearly sure to end late). Not jointly, nor by spending the precision gained on
recall in time again: both were tried on the same replay and found margins there that
vanished once the thresholds were rounded to two decimals, and lost on the other replays.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .curve import operating_curve
from .score import MIN_LEAD_WORKING_DAYS, Night, Outcome, model_rule, score

TARGET_PRECISION = 0.6
TARGET_RECALL_IN_TIME = 0.85
HORIZONS = (2, 3, 4, 5)
LAST_CHANCE_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
TOO_LATE = tuple(round(0.4 + 0.05 * step, 2) for step in range(13))  # 0.4 .. 1.0


@dataclass(frozen=True)
class Rule:
    threshold: float
    horizon: int
    last_chance: float
    too_late: float | None = None  # None: the main threshold
    margin: float = 0.0  # on the replay it was chosen on

    def warns(self, min_lead: int = MIN_LEAD_WORKING_DAYS):
        return model_rule(self.threshold, self.horizon, self.last_chance, min_lead, self.too_late)


def margin(precision: float, recall_in_time: float) -> float:
    return min(precision - TARGET_PRECISION, recall_in_time - TARGET_RECALL_IN_TIME)


def choose_rule(
    nights: list[Night],
    outcomes: dict[tuple[str, str], Outcome],
    last_night,
    data_end,
    min_lead: int = MIN_LEAD_WORKING_DAYS,
) -> Rule:
    rule = _best_margin(nights, outcomes, last_night, data_end, min_lead, None)
    return _best_too_late(rule, nights, outcomes, last_night, data_end, min_lead)


def _best_margin(nights, outcomes, last_night, data_end, min_lead, too_late) -> Rule:
    best = Rule(1.0, HORIZONS[0], 1.0, too_late, -math.inf)
    for horizon in HORIZONS:
        for ratio in LAST_CHANCE_RATIOS:
            curve = operating_curve(
                nights, outcomes, last_night, data_end, horizon, ratio, min_lead, too_late
            )
            for point in curve:
                value = margin(point.precision, point.recall_in_time)
                if value > best.margin:
                    # two decimals, rounded down: the rule still warns at this point
                    threshold = math.floor(point.threshold * 100) / 100
                    last_chance = math.floor(threshold * ratio * 100) / 100
                    best = Rule(threshold, horizon, last_chance, too_late, value)
    return best


def _best_too_late(rule, nights, outcomes, last_night, data_end, min_lead) -> Rule:
    """The too-late threshold giving the best precision (ties: the lowest, warning more), the
    margin of the rule as rounded measured as the command measures it."""
    chosen, precision = rule, -1.0
    for too_late in (None, *TOO_LATE):
        candidate = dataclasses.replace(rule, too_late=too_late)
        result = score("model", candidate.warns(min_lead), nights, outcomes, last_night,
                       data_end, min_lead)  # fmt: skip
        if result.precision > precision + 1e-9:
            precision = result.precision
            chosen = dataclasses.replace(
                candidate, margin=margin(result.precision, result.recall_in_time)
            )
    return chosen
