"""Choosing the model rule's numbers on one replay, to be checked on others.

The rule (the mart's is_at_risk): due within `horizon` working days and a probability of
ending late at or above `threshold`, or at or above `last_chance` on the last night a warning
still comes `min_lead` working days ahead. Chosen: the rule whose worse margin over the two
targets (precision, recall in time) is the largest, on the replay given (and only there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .curve import operating_curve
from .score import MIN_LEAD_WORKING_DAYS, Night, Outcome, model_rule, score

TARGET_PRECISION = 0.6
TARGET_RECALL_IN_TIME = 0.85
HORIZONS = (2, 3, 4, 5)
LAST_CHANCE_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Rule:
    threshold: float
    horizon: int
    last_chance: float
    margin: float = 0.0  # on the replay it was chosen on


def margin(precision: float, recall_in_time: float) -> float:
    return min(precision - TARGET_PRECISION, recall_in_time - TARGET_RECALL_IN_TIME)


def choose_rule(
    nights: list[Night],
    outcomes: dict[tuple[str, str], Outcome],
    last_night,
    data_end,
    min_lead: int = MIN_LEAD_WORKING_DAYS,
) -> Rule:
    best = Rule(1.0, HORIZONS[0], 1.0, -math.inf)
    for horizon in HORIZONS:
        for ratio in LAST_CHANCE_RATIOS:
            curve = operating_curve(
                nights, outcomes, last_night, data_end, horizon, ratio, min_lead
            )
            for point in curve:
                value = margin(point.precision, point.recall_in_time)
                if value > best.margin:
                    # two decimals, rounded down: the rule still warns at this point
                    threshold = math.floor(point.threshold * 100) / 100
                    last_chance = math.floor(threshold * ratio * 100) / 100
                    best = Rule(threshold, horizon, last_chance, value)
    # the margin of the rule as rounded, measured as the command measures it
    result = score(
        "model",
        model_rule(best.threshold, best.horizon, best.last_chance, min_lead),
        nights, outcomes, last_night, data_end, min_lead,
    )  # fmt: skip
    return Rule(best.threshold, best.horizon, best.last_chance,
                margin(result.precision, result.recall_in_time))  # fmt: skip
