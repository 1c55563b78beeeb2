"""The bound arithmetic: a flagged record moves each bound the way its possible truths allow,
and the bounds are scored by the component's own rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cchc.qd766.bounds import EITHER, Flagged, State, component_bounds
from cchc.qd766.rules import load_rules

RULES = load_rules()
ON_TIME = RULES["DOSSIER_HANDLING_ON_TIME"]  # 20 points × on time / in scope
REUSE = RULES["REUSED_DIGITIZED_DATA"]  # threshold: full 2 points from 80 %
IN, DEN, OUT = State.IN_NUMERATOR, State.DENOMINATOR, State.ABSENT


def test_nothing_flagged_the_bounds_are_the_score() -> None:
    b = component_bounds(ON_TIME, 80, 100, [])
    assert b.score == b.low == b.high == b.estimate == Decimal("16.00")
    assert b.at_stake == 0


def test_a_record_counted_late_that_may_be_on_time_raises_only_the_high_bound() -> None:
    b = component_bounds(ON_TIME, 80, 100, [Flagged(DEN, EITHER)])
    assert (b.low, b.score, b.high) == (Decimal("16.00"), Decimal("16.00"), Decimal("16.20"))
    assert b.at_stake == Decimal("0.20")


def test_a_record_counted_on_time_that_may_be_late_lowers_only_the_low_bound() -> None:
    b = component_bounds(ON_TIME, 80, 100, [Flagged(IN, EITHER)])
    assert (b.low, b.high) == (Decimal("15.80"), Decimal("16.00"))


def test_a_copy_keyed_twice_is_absent_in_the_estimate() -> None:
    # counted late: removing it raises the ratio (80/99); it cannot lower it
    late_copy = component_bounds(ON_TIME, 80, 100, [Flagged(DEN, frozenset({OUT}), OUT)])
    assert late_copy.low == Decimal("16.00")
    assert late_copy.high == late_copy.estimate == Decimal("16.16")
    # counted on time: removing it lowers the ratio (79/99)
    on_time_copy = component_bounds(ON_TIME, 80, 100, [Flagged(IN, frozenset({OUT}), OUT)])
    assert on_time_copy.low == on_time_copy.estimate == Decimal("15.96")
    assert on_time_copy.high == Decimal("16.00")


def test_a_record_filed_under_an_unknown_unit_can_only_join_the_scope() -> None:
    # not counted here; if it belongs here it is late: only the low bound moves (80/101)
    b = component_bounds(ON_TIME, 80, 100, [Flagged(OUT, frozenset({DEN}), DEN)])
    assert (b.low, b.high, b.estimate) == (Decimal("15.84"), Decimal("16.00"), Decimal("15.84"))


def test_the_estimate_follows_the_implied_correction() -> None:
    b = component_bounds(ON_TIME, 80, 100, [Flagged(DEN, EITHER, IN), Flagged(IN, EITHER)])
    assert b.estimate == Decimal("16.20")
    assert b.low == Decimal("15.80") and b.high == Decimal("16.20")


def test_more_flags_never_narrow_the_bounds() -> None:
    records = [Flagged(DEN, EITHER), Flagged(IN, EITHER), Flagged(IN, frozenset({OUT}))]
    widths = [component_bounds(ON_TIME, 80, 100, records[:n]).at_stake for n in range(4)]
    assert widths == sorted(widths) and widths[-1] > widths[0]


def test_the_threshold_rule_caps_the_high_bound() -> None:
    # 79 of 100 reuse: 1.98 points; one more and the 80 % threshold gives the full 2
    b = component_bounds(REUSE, 79, 100, [Flagged(DEN, EITHER), Flagged(DEN, EITHER)])
    assert (b.score, b.high) == (Decimal("1.98"), Decimal("2.00"))


@pytest.mark.parametrize("component", ["DOSSIER_HANDLING_ON_TIME", "ONLINE_PAYMENT_DOSSIER"])
def test_an_empty_scope_keeps_the_points_defined_for_none(component: str) -> None:
    rule = RULES[component]  # 0 points when nothing is in scope
    b = component_bounds(rule, 0, 1, [Flagged(DEN, frozenset({OUT}), OUT)])
    assert b.estimate == rule.points_when_no_denominator
    assert b.low <= b.score <= b.high


def test_no_rule_no_bounds_for_an_unscored_component() -> None:
    rule = RULES["ORIGINAL_RESULT_AVAILABLE"]  # not scored without dossiers
    b = component_bounds(rule, 0, 0, [])
    assert b.score is None and b.at_stake is None
    assert b.covers(None) and not b.covers(Decimal(1))
