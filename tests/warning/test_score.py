"""The scoring of warnings, on hand-made nights: each count as defined in cchc.warning.score."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cchc.warning.score import Night, Outcome, model_rule, naive_rule, score

DUE = date(2025, 3, 14)  # a Friday
LAST_NIGHT = date(2025, 3, 31)  # the replayed period ends after the due date
DATA_END = date(2025, 4, 30)


def _nights(code: str, risks: list[float], first_left: int = 5, **extra) -> list[Night]:
    """One night per working day left, first_left down to 1, with the given risks."""
    return [
        Night(("H40", code), DUE - timedelta(days=left), left, risk, **extra)
        for left, risk in zip(range(first_left, 0, -1), risks, strict=False)
    ]


def test_a_dossier_finishing_late_after_being_warned_is_a_true_positive() -> None:
    nights = _nights("late-warned", [0.1, 0.2, 0.6, 0.9, 0.9])
    outcomes = {("H40", "late-warned"): Outcome(DUE, DUE + timedelta(days=3))}
    result = score("model", model_rule(0.5), nights, outcomes, LAST_NIGHT, DATA_END)
    assert (result.dossiers, result.late, result.warned, result.true_positives) == (1, 1, 1, 1)
    assert result.precision == 1.0 and result.recall == 1.0
    # first warned with 3 working days left: in time (>= 2), and that is its lead time
    assert result.warned_in_time == 1 and result.lead_median == 3


def test_counts_false_positives_misses_and_late_warnings() -> None:
    nights = (
        _nights("late-warned", [0.9] * 5)  # TP, lead 5
        + _nights("on-time-warned", [0.9] * 5)  # FP
        + _nights("late-missed", [0.1] * 5)  # FN
        + _nights("late-warned-too-late", [0.1, 0.1, 0.1, 0.1, 0.9])  # TP, lead 1: not in time
        + _nights("on-time-quiet", [0.0] * 5)  # TN
    )
    outcomes = {
        ("H40", "late-warned"): Outcome(DUE, DUE + timedelta(days=1)),
        ("H40", "on-time-warned"): Outcome(DUE, DUE),  # ended on its due date: on time
        ("H40", "late-missed"): Outcome(DUE, None),  # still open after its due date: late
        ("H40", "late-warned-too-late"): Outcome(DUE, DUE + timedelta(days=7)),
        ("H40", "on-time-quiet"): Outcome(DUE, DUE - timedelta(days=2)),
    }
    result = score("model", model_rule(0.5), nights, outcomes, LAST_NIGHT, DATA_END)
    assert (result.dossiers, result.late, result.warned, result.true_positives) == (5, 3, 3, 2)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.recall_in_time == pytest.approx(1 / 3)
    assert sorted([result.lead_median, result.lead_mean]) == [3, 3]  # leads 5 and 1


def test_naive_rule_warns_when_due_within_n_working_days() -> None:
    nights = _nights("late", [0.0] * 5) + _nights("on-time", [0.0] * 5)
    outcomes = {
        ("H40", "late"): Outcome(DUE, DUE + timedelta(days=1)),
        ("H40", "on-time"): Outcome(DUE, DUE - timedelta(days=1)),
    }
    result = score("naive", naive_rule(2), nights, outcomes, LAST_NIGHT, DATA_END)
    assert (result.warned, result.true_positives, result.warned_in_time) == (2, 1, 1)
    assert result.lead_median == 2 and result.precision == 0.5


def test_unknown_outcomes_overdue_and_suspended_nights_are_not_judged() -> None:
    nights = (
        _nights("not-yet-due", [0.9] * 5)  # open, due after the data ends: outcome unknown
        + [Night(("H40", "already-late"), DUE, -3, 1.0)]  # seen only overdue
        + _nights("waiting", [0.9] * 5, waiting_supplement=True)  # deadline suspended
        + _nights("withdrawn", [0.9] * 5)
        + [Night(("H40", "due-after-period"), LAST_NIGHT, 4, 0.9)]  # no naive rule's chance
    )
    outcomes = {
        ("H40", "not-yet-due"): Outcome(DATA_END + timedelta(days=3), None),
        ("H40", "already-late"): Outcome(DUE - timedelta(days=5), None),
        ("H40", "waiting"): Outcome(DUE, DUE + timedelta(days=9)),
        ("H40", "withdrawn"): Outcome(DUE, None, withdrawn=True),  # not late: counted as FP
        ("H40", "due-after-period"): Outcome(LAST_NIGHT + timedelta(days=6), None),
    }
    result = score("model", model_rule(0.5), nights, outcomes, LAST_NIGHT, DATA_END)
    assert (result.dossiers, result.late, result.warned, result.true_positives) == (1, 0, 1, 0)
    assert result.precision == 0.0 and result.recall == 0.0


def test_the_model_rule_keeps_to_its_horizon_and_gives_a_last_chance() -> None:
    rule = model_rule(0.5, horizon=3, last_chance_threshold=0.25)
    key = ("H40", "x")
    assert not rule(Night(key, DUE, 4, 0.9))  # beyond the horizon
    assert rule(Night(key, DUE, 3, 0.5))
    assert not rule(Night(key, DUE, 3, 0.3))
    assert rule(Night(key, DUE, 2, 0.3))  # the last night a warning is 2 days ahead
    assert not rule(Night(key, DUE, 1, 0.3))
    assert not rule(Night(key, DUE, 2, 0.2))


def test_a_warning_too_late_to_count_is_raised_only_when_nearly_sure() -> None:
    rule = model_rule(0.5, horizon=3, last_chance_threshold=0.25, too_late_threshold=0.85)
    key = ("H40", "x")
    assert not rule(Night(key, DUE, 1, 0.8))  # one day ahead: above the threshold, not enough
    assert rule(Night(key, DUE, 1, 0.85))
    assert rule(Night(key, DUE, 2, 0.3))  # the nights in time keep their thresholds
    assert rule(Night(key, DUE, 3, 0.5)) and not rule(Night(key, DUE, 3, 0.4))
    nights = [Night(key, DUE - timedelta(days=1), 1, 0.8)]
    result = score("m", rule, nights, {key: Outcome(DUE, DUE)}, LAST_NIGHT, DATA_END)
    assert result.warned == 0  # the on-time dossier is no longer a false alarm
