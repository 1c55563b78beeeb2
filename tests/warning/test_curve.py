"""The ceiling, the operating curve and the fair comparison, on a hand-made case whose every
figure is worked out below."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cchc.warning.choose import Rule, choose_rule
from cchc.warning.compare import compare
from cchc.warning.curve import (
    ceiling,
    night_score,
    operating_curve,
    precision_at_recall,
    recall_at_precision,
)
from cchc.warning.score import Night, Outcome, model_rule, naive_rule, score

DUE = date(2025, 3, 14)
LAST_NIGHT = date(2025, 3, 31)
DATA_END = date(2025, 4, 30)
LATE, ON_TIME = Outcome(DUE, DUE + timedelta(days=3)), Outcome(DUE, DUE - timedelta(days=1))


def _nights(code: str, risks: dict[int, float]) -> list[Night]:
    """One night per working days left -> risk."""
    return [Night(("H40", code), DUE - timedelta(days=left), left, p) for left, p in risks.items()]


# A: late, risky all along. B: on time, fairly risky. C: late, risky only on its last night.
# D: late, received one working day before its due date: no rule warns it 2 days ahead.
# E: on time, quiet.
NIGHTS = (
    _nights("A", {5: 0.9, 4: 0.9, 3: 0.9, 2: 0.9, 1: 0.9})
    + _nights("B", {5: 0.7, 4: 0.7, 3: 0.7, 2: 0.7, 1: 0.7})
    + _nights("C", {5: 0.3, 4: 0.3, 3: 0.3, 2: 0.3, 1: 0.95})
    + _nights("D", {1: 0.8})
    + _nights("E", {5: 0.1, 4: 0.1, 3: 0.1, 2: 0.1, 1: 0.1})
)
OUTCOMES = {("H40", c): LATE if c in "ACD" else ON_TIME for c in "ABCDE"}


def test_the_ceiling_is_the_late_dossiers_open_two_days_ahead_and_naive_reaches_it() -> None:
    naive = score("naive", naive_rule(2), NIGHTS, OUTCOMES, LAST_NIGHT, DATA_END)
    assert ceiling(naive) == pytest.approx(2 / 3)  # A and C of the late A, C, D
    assert naive.recall_in_time == pytest.approx(ceiling(naive))
    assert (naive.warned, naive.true_positives) == (5, 3) and naive.precision == 0.6


def test_the_curve_walks_the_thresholds_and_equals_the_scorer_at_each() -> None:
    curve = operating_curve(NIGHTS, OUTCOMES, LAST_NIGHT, DATA_END, None, 1.0)
    got = [(p.threshold, p.warned, p.true_positives, p.warned_in_time) for p in curve]
    assert got == [
        (0.95, 1, 1, 0),  # C, on its last night: too late
        (0.9, 2, 2, 1),  # + A, in time
        (0.8, 3, 3, 1),  # + D, too late by construction
        (0.7, 4, 3, 1),  # + B, a false alarm
        (0.3, 4, 3, 2),  # C now in time
        (0.1, 5, 3, 2),  # + E
    ]
    for point in curve:
        direct = score("m", model_rule(point.threshold), NIGHTS, OUTCOMES, LAST_NIGHT, DATA_END)
        assert (point.precision, point.recall_in_time) == (
            pytest.approx(direct.precision),
            pytest.approx(direct.recall_in_time),
        )
    assert recall_at_precision(curve, 0.6) == pytest.approx(2 / 3)
    assert recall_at_precision(curve, 0.8) == pytest.approx(1 / 3)
    assert precision_at_recall(curve, 2 / 3) == pytest.approx(0.75)  # the point at 0.3
    assert precision_at_recall(curve, 0.9) == 0.0  # beyond the ceiling: never


def test_a_night_scores_the_highest_threshold_that_warns_on_it() -> None:
    night = Night(("H40", "x"), DUE, 2, 0.3)
    assert night_score(night, 3, 0.5) == pytest.approx(0.6)  # last chance at half the threshold
    assert night_score(Night(("H40", "x"), DUE, 3, 0.3), 3, 0.5) == pytest.approx(0.3)
    assert night_score(Night(("H40", "x"), DUE, 4, 0.9), 3, 0.5) == 0.0  # beyond the horizon
    rule = model_rule(0.6, 3, 0.3)  # the same rule as the scorer applies it
    assert rule(night) and not rule(Night(("H40", "x"), DUE, 3, 0.3))


def test_the_comparison_reads_the_model_curve_at_each_naive_point() -> None:
    result = compare(Rule(0.3, 5, 0.3), NIGHTS, OUTCOMES, LAST_NIGHT, DATA_END, naive_days=(2,))
    assert result.ceiling == pytest.approx(2 / 3)
    assert result.model.precision == pytest.approx(0.75)
    assert result.share_of_ceiling == pytest.approx(1.0)
    (naive,) = result.naive
    assert naive.model_precision_at_its_recall == pytest.approx(0.75)  # better than its 0.6
    assert naive.model_recall_at_its_precision == pytest.approx(2 / 3)  # the ceiling


def test_the_rule_chosen_is_the_one_with_the_largest_worse_margin() -> None:
    late = [_nights(f"late{i}", {4: 0.2, 3: 0.9, 2: 0.9, 1: 0.9}) for i in range(4)]
    calm = [_nights(f"calm{i}", {4: 0.2, 3: 0.2, 2: 0.3, 1: 0.95}) for i in range(4)]
    nights = [night for group in late + calm for night in group]
    outcomes = {("H40", f"late{i}"): LATE for i in range(4)}
    outcomes |= {("H40", f"calm{i}"): ON_TIME for i in range(4)}
    rule = choose_rule(nights, outcomes, LAST_NIGHT, DATA_END)
    # every late dossier warned 2+ days ahead and no calm one: both targets met in full
    assert rule.margin == pytest.approx(min(1 - 0.6, 1 - 0.85))
    result = score(
        "m", model_rule(rule.threshold, rule.horizon, rule.last_chance), nights, outcomes,
        LAST_NIGHT, DATA_END,
    )  # fmt: skip
    assert (result.precision, result.recall_in_time) == (1.0, 1.0)


def test_the_curve_keeps_the_too_late_threshold_fixed_and_equals_the_scorer() -> None:
    # with a too-late threshold of 0.92: C's 0.95 on its last night still warns at every
    # scale, D's 0.8 never; A and B are warned by their nights in time
    curve = operating_curve(NIGHTS, OUTCOMES, LAST_NIGHT, DATA_END, None, 1.0, too_late=0.92)
    for point in curve:
        direct = score(
            "m", model_rule(point.threshold, too_late_threshold=0.92), NIGHTS, OUTCOMES,
            LAST_NIGHT, DATA_END,
        )  # fmt: skip
        assert (point.warned, point.true_positives, point.warned_in_time) == (
            direct.warned,
            direct.true_positives,
            direct.warned_in_time,
        )
    assert [(p.threshold, p.warned, p.true_positives) for p in curve][:2] == [
        (1.0, 1, 1),
        (0.9, 2, 2),
    ]


def test_the_chosen_too_late_threshold_drops_the_late_false_alarms() -> None:
    # the late ones show only 0.5, 3 days ahead; the calm ones 0.95 on their last night, when a
    # warning no longer counts in time: only a too-late threshold above it keeps them out
    late = [_nights(f"late{i}", {4: 0.2, 3: 0.5, 2: 0.2, 1: 0.9}) for i in range(4)]
    calm = [_nights(f"calm{i}", {4: 0.1, 3: 0.1, 2: 0.1, 1: 0.95}) for i in range(4)]
    nights = [night for group in late + calm for night in group]
    outcomes = {("H40", f"late{i}"): LATE for i in range(4)}
    outcomes |= {("H40", f"calm{i}"): ON_TIME for i in range(4)}
    rule = choose_rule(nights, outcomes, LAST_NIGHT, DATA_END)
    assert rule.too_late == 1.0
    result = score("m", rule.warns(), nights, outcomes, LAST_NIGHT, DATA_END)
    assert (result.precision, result.recall_in_time) == (1.0, 1.0)
