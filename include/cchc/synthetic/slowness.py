"""Why a dossier ends late: how long each handling step takes.

A step's working days are a share of the procedure's statutory time, scaled by the agency's
pace (slow agencies are slow at every step), the procedure's complexity (simple procedures,
three days or less, are handled the day they arrive), the agency's pace at that step (a
department may review quickly while its leaders sign slowly), a little day-to-day noise,
and two things that really make dossiers late: a stalled step (the file is sent to another
agency for its opinion, a hand-over the system records; or, silently, the officer is away)
and the backlog after Tết. Supplement requests are
more frequent for complex procedures. Every draw is seeded by the codes, so the same agency
or procedure keeps its pace in every run.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from .catalog import Procedure
from .profiles import Behaviour
from .units import Unit
from .workdays import WorkingCalendar

REVIEW, APPROVAL = "review", "approval"
# Share of the statutory working days a step takes at an average pace.
STEP_SHARE = {REVIEW: 0.33, APPROVAL: 0.11}
NOISE_SIGMA = 0.2  # day-to-day spread of a step's duration (lognormal)
# Of the reviews that stall, the share sent to another agency or department for its opinion:
# a hand-over the one-stop system records (the rest stall silently: an officer away).
CONSULTED_SHARE = 0.75
SIMPLE_PROCEDURE_DAYS = 3  # at most this many days: handled on arrival, no hand-over wait
SIMPLE_PROCEDURE_PACE = 0.6
TET_MONTHS = (1, 2)  # the Lunar New Year's holidays; 1 January is not Tết
SUPPLEMENT_WEIGHTS = (0.88, 0.09, 0.03)  # 0, 1, 2 requests at an average complexity


def procedure_complexity(procedure: Procedure) -> float:
    return random.Random(f"complexity|{procedure.code}").uniform(0.75, 1.3)


def supplement_requests(rng: random.Random, pace: AgencyPace, procedure: Procedure) -> int:
    """0, 1 or 2: complex procedures and slow agencies ask for supplements more often."""
    factor = procedure_complexity(procedure) * pace.speed
    none = 1 - (1 - SUPPLEMENT_WEIGHTS[0]) * factor
    return rng.choices((0, 1, 2), weights=(none, *(w * factor for w in SUPPLEMENT_WEIGHTS[1:])))[0]


class AgencyPace:
    """One agency's pace: overall, per step, and how often its steps stall."""

    def __init__(self, agency: Unit, behaviour: Behaviour) -> None:
        rng = random.Random(f"pace|{agency.code}|{agency.valid_from.isoformat()}")
        # late_rate (0.03–0.2) ranks the agencies: the slowest are about 1.5 times the fastest
        self.speed = 0.75 + 2.5 * behaviour.late_rate
        self.step_factor = {REVIEW: rng.uniform(0.8, 1.3), APPROVAL: rng.uniform(0.7, 1.5)}
        self.stall_rate = {
            REVIEW: 0.01 + 0.35 * behaviour.late_rate,
            APPROVAL: 0.005 + 0.1 * behaviour.late_rate,
        }

    def handover_days(self, rng: random.Random, procedure: Procedure) -> int:
        """Working days the reviewed file waits before the leader takes it up."""
        if procedure.handling_days <= SIMPLE_PROCEDURE_DAYS:
            return 0
        return rng.choices((0, 1, 2), weights=(0.6, 0.3, 0.1))[0]

    def consultation(self, rng: random.Random, procedure: Procedure) -> tuple[int, int] | None:
        """(working days before the review asks another agency's opinion, working days the
        opinion takes), or None: complex procedures at slow agencies ask most."""
        days = procedure.handling_days
        if days <= SIMPLE_PROCEDURE_DAYS:
            return None
        if rng.random() >= CONSULTED_SHARE * self.stall_rate[REVIEW] * procedure_complexity(
            procedure
        ):
            return None
        return rng.choice((0, 0, 1, 1, 2)), round(1 + rng.uniform(0.5, 1.1) * days)

    def step_days(
        self,
        rng: random.Random,
        cal: WorkingCalendar,
        procedure: Procedure,
        step: str,
        start: date,
    ) -> int:
        days = procedure.handling_days
        pace = self.speed * procedure_complexity(procedure) * self.step_factor[step]
        if days <= SIMPLE_PROCEDURE_DAYS:
            pace *= SIMPLE_PROCEDURE_PACE
        drawn = STEP_SHARE[step] * days * pace * rng.lognormvariate(0, NOISE_SIGMA)
        silent = self.stall_rate[step] * (1 - CONSULTED_SHARE if step == REVIEW else 1)
        if days > SIMPLE_PROCEDURE_DAYS and rng.random() < silent:
            drawn += 1 + rng.uniform(0.4, 1.0) * days
        if _spans_tet(cal, start, cal.add_working_days(start, max(1, round(drawn)))):
            drawn += rng.randint(1, 3) + 0.1 * days  # the files that piled up over Tết
        return max(0, round(drawn))


def _spans_tet(cal: WorkingCalendar, start: date, end: date) -> bool:
    day = start
    while day < end:
        day += timedelta(days=1)
        if day.month in TET_MONTHS and (day.month, day.day) != (1, 1) and cal.is_holiday(day):
            return True
    return False
