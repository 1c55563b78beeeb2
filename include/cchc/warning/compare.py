"""The model rule against the naive rule, fairly: in the same replay, the naive rule for
several N, the ceiling no rule can pass, and the model's operating curve read at each naive
rule's precision and at its recall in time."""

from __future__ import annotations

from dataclasses import dataclass

from .curve import ceiling, operating_curve, precision_at_recall, recall_at_precision
from .score import MIN_LEAD_WORKING_DAYS, Night, Outcome, Score, naive_rule, score

CURVE_HORIZONS = (2, 3, 4, 5, None)  # working days; None: any


@dataclass(frozen=True)
class NaivePoint:
    result: Score
    model_recall_at_its_precision: float  # the model's recall in time at >= its precision
    model_precision_at_its_recall: float  # the model's precision at >= its recall in time


def warnings_per_caught(result: Score) -> float | None:
    """Dossiers warned for each late dossier warned in time: the officers' reading load."""
    return result.warned / result.warned_in_time if result.warned_in_time else None


@dataclass(frozen=True)
class Comparison:
    model: Score
    naive: list[NaivePoint]
    ceiling: float  # share of late dossiers open >= min_lead working days before due
    min_lead: int

    @property
    def share_of_ceiling(self) -> float:
        return self.model.recall_in_time / self.ceiling if self.ceiling else 0.0

    def as_dict(self) -> dict:
        def figures(result: Score) -> dict:
            return {
                "precision": round(result.precision, 3),
                "recall": round(result.recall, 3),
                "recall_in_time": round(result.recall_in_time, 3),
                "warned": result.warned,
                "true_positives": result.true_positives,
                "lead_median": result.lead_median,
                "lead_mean": round(result.lead_mean, 2) if result.lead_mean else None,
                "warned_per_late_warned_in_time": (
                    round(per, 2) if (per := warnings_per_caught(result)) else None
                ),
            }

        return {
            "dossiers": self.model.dossiers,
            "late": self.model.late,
            "ceiling": round(self.ceiling, 3),
            "model": {**figures(self.model), "share_of_ceiling": round(self.share_of_ceiling, 3)},
            "naive": {
                point.result.rule: {
                    **figures(point.result),
                    "model_recall_in_time_at_this_precision": round(
                        point.model_recall_at_its_precision, 3
                    ),
                    "model_precision_at_this_recall_in_time": round(
                        point.model_precision_at_its_recall, 3
                    ),
                }
                for point in self.naive
            },
        }

    def text(self) -> str:
        lead = self.min_lead
        lines = [
            f"ceiling (late dossiers open >= {lead} working days before their due date: any"
            f" rule's best recall >={lead}d): {self.ceiling:.3f}; the model reaches"
            f" {self.share_of_ceiling:.1%} of it",
            f"{'rule':<24} {'precision':>9} {'recall':>7} {f'recall >={lead}d':>12}"
            f" {'warned/caught':>13} {f'model recall >={lead}d at its precision':>38}"
            f" {f'model precision at its recall >={lead}d':>38}",
        ]
        per = warnings_per_caught(self.model)
        lines.append(
            f"{'model':<24} {self.model.precision:>9.3f} {self.model.recall:>7.3f}"
            f" {self.model.recall_in_time:>12.3f} {per or 0:>13.2f}"
        )
        for point in self.naive:
            per = warnings_per_caught(point.result)
            lines.append(
                f"{point.result.rule:<24} {point.result.precision:>9.3f}"
                f" {point.result.recall:>7.3f} {point.result.recall_in_time:>12.3f}"
                f" {per or 0:>13.2f}"
                f" {point.model_recall_at_its_precision:>38.3f}"
                f" {point.model_precision_at_its_recall:>38.3f}"
            )
        return "\n".join(lines)


def compare(
    rule,
    nights: list[Night],
    outcomes: dict[tuple[str, str], Outcome],
    last_night,
    data_end,
    naive_days=(1, 2, 3, 5),
    min_lead: int = MIN_LEAD_WORKING_DAYS,
) -> Comparison:
    """`rule`: a choose.Rule (threshold, horizon, last_chance, too_late)."""
    too_late = "" if rule.too_late is None else f"/{rule.too_late:g}"
    model = score(
        f"model p>={rule.threshold:g}/{rule.last_chance:g}{too_late} due<={rule.horizon}",
        rule.warns(min_lead), nights, outcomes, last_night, data_end, min_lead,
    )  # fmt: skip
    ratio = rule.last_chance / rule.threshold if rule.threshold else 1.0
    # the model's curve: its probabilities under every threshold and horizon (at the rule's
    # ratio of the last chance, its too-late threshold), so the naive rule meets the best
    curve = [
        point
        for horizon in CURVE_HORIZONS
        for point in operating_curve(
            nights, outcomes, last_night, data_end, horizon, ratio, min_lead, rule.too_late
        )
    ]
    naive = []
    for days in naive_days:
        result = score(
            f"naive (due <= {days} days)", naive_rule(days), nights, outcomes, last_night,
            data_end, min_lead,
        )  # fmt: skip
        naive.append(
            NaivePoint(
                result,
                recall_at_precision(curve, result.precision),
                precision_at_recall(curve, result.recall_in_time),
            )
        )
    return Comparison(model, naive, ceiling(model), min_lead)
