"""How far a Decision 766 component's score could move if its flagged records are wrong.

A component is a ratio numerator / denominator of records (dossiers). A record flagged by a
data-entry rule that affects the component may stand, in truth, in another of three states:

    IN_NUMERATOR   counted in the denominator and the numerator (e.g. handled on time)
    DENOMINATOR    counted in the denominator only (e.g. late)
    ABSENT         not counted at all (e.g. a dossier keyed in twice: the copy is not real)

Each flagged record says the state it is counted in and the states it could truly be in.
Take every flagged record out of the counts; then, since a ratio never exceeds 1, adding a
record in IN_NUMERATOR never lowers it and adding one in DENOMINATOR never raises it:

    lowest  = each record in DENOMINATOR if it may be, else ABSENT, else IN_NUMERATOR
    highest = each record in IN_NUMERATOR if it may be, else ABSENT, else DENOMINATOR

and both are scored by the component's own rule (:func:`cchc.qd766.rules.points`), so the
bounds are points on the same scale as the score. The estimate puts each record in the state
its rule implies (e.g. a copy keyed in twice is absent), else the state it is counted in.
The same arithmetic, on counts, is in the dbt model mart_qd766_bounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from cchc.qd766.rules import Component, points


class State(Enum):
    IN_NUMERATOR = (1, 1)
    DENOMINATOR = (0, 1)
    ABSENT = (0, 0)

    @property
    def numerator(self) -> int:
        return self.value[0]

    @property
    def denominator(self) -> int:
        return self.value[1]


EITHER = frozenset({State.IN_NUMERATOR, State.DENOMINATOR})
_LOW_ORDER = (State.DENOMINATOR, State.ABSENT, State.IN_NUMERATOR)
_HIGH_ORDER = (State.IN_NUMERATOR, State.ABSENT, State.DENOMINATOR)


@dataclass(frozen=True)
class Flagged:
    """One flagged record of a component: the state it is counted in (ABSENT when the scope
    does not count it, e.g. filed under an unknown unit code), the states it could truly be
    in, and the state its rule implies (None: the rule implies no correction)."""

    counted: State
    possible: frozenset[State]
    implied: State | None = None

    def pick(self, order: tuple[State, ...]) -> State:
        return next(state for state in order if state in self.possible | {self.counted})


@dataclass(frozen=True)
class Bounds:
    """Points as computed, lowest, highest and estimated (None: the component is not scored
    for that count, e.g. no records and no points defined for none)."""

    score: Decimal | None
    low: Decimal | None
    high: Decimal | None
    estimate: Decimal | None
    flagged: int

    @property
    def at_stake(self) -> Decimal | None:
        """Points at stake: highest − lowest (0 when nothing is flagged)."""
        if self.low is None or self.high is None:
            return None
        return self.high - self.low

    def covers(self, value: Decimal | None) -> bool:
        if value is None or self.low is None or self.high is None:
            return value is None and self.low is None
        return self.low <= value <= self.high


def _shifted(
    numerator: int, denominator: int, records: Iterable[Flagged], choose
) -> tuple[int, int]:
    for record in records:
        state = choose(record)
        numerator += state.numerator - record.counted.numerator
        denominator += state.denominator - record.counted.denominator
    return numerator, denominator


def component_bounds(
    component: Component, numerator: int, denominator: int, flagged: Iterable[Flagged]
) -> Bounds:
    """The component's score for the counts as computed, and its bounds and estimate when
    the flagged records (already inside the counts as their `counted` state) may be wrong."""
    records = list(flagged)
    score = points(component, numerator, denominator)
    low = points(
        component, *_shifted(numerator, denominator, records, lambda r: r.pick(_LOW_ORDER))
    )
    high = points(
        component, *_shifted(numerator, denominator, records, lambda r: r.pick(_HIGH_ORDER))
    )
    estimate = points(
        component, *_shifted(numerator, denominator, records, lambda r: r.implied or r.counted)
    )
    if score is not None and low is not None and high is not None:
        # the counts as computed are one of the possible truths; a record that may be absent
        # can empty the denominator, whose points (for none) need not lie between the ratios'
        low, high = min(low, score), max(high, score)
    return Bounds(score, low, high, estimate, len(records))
