"""The Decision 766 components and their scoring rule, read from the dbt seed.

One rule for every component (the dbt macro ``qd766_points`` is the same expression)::

    no denominator (null or 0)  -> points_when_no_denominator (null: the component is not scored)
    otherwise                   -> round(min(max_points, max_points * ratio / full_score_ratio), 2)
                                   with ratio = numerator / denominator (never below 0)

``proportional`` components have full_score_ratio 1 (points = max × ratio); ``threshold``
components reach full points at full_score_ratio (e.g. 0.8 for reuse of digitized data).
A group's points are the sum of its components' points (unscored ones count 0), capped at
the group's maximum. Points are rounded half up to 2 decimals, as PostgreSQL's round().
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from cchc.config import REPO_ROOT

SEED_PATH = REPO_ROOT / "dbt_project" / "seeds" / "qd766_components.csv"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Component:
    """One scored component of the index (a row of the seed)."""

    code: str
    name_vi: str
    name_en: str
    group_code: str
    group_name_vi: str
    group_name_en: str
    group_max_points: Decimal
    max_points: Decimal
    full_score_ratio: Decimal
    formula_kind: str
    points_when_no_denominator: Decimal | None
    is_estimate: bool
    portal_endpoint: str
    numerator_field: str
    denominator_field: str
    sort_order: int


@dataclass(frozen=True)
class Rules:
    """All components, in seed order, by code and by group."""

    components: tuple[Component, ...]

    def __getitem__(self, code: str) -> Component:
        for component in self.components:
            if component.code == code:
                return component
        raise KeyError(code)

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.components)

    def group(self, group_code: str) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.group_code == group_code)

    def endpoint(self, endpoint: str) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.portal_endpoint == endpoint)


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def load_rules(path: Path = SEED_PATH) -> Rules:
    """Read the seed CSV (the single source of the scoring rules)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    components = []
    for row in rows:
        if row["formula_kind"] not in ("proportional", "threshold"):
            raise ValueError(f"{row['component_code']}: unknown formula_kind {row['formula_kind']}")
        components.append(
            Component(
                code=row["component_code"],
                name_vi=row["component_name_vi"],
                name_en=row["component_name_en"],
                group_code=row["group_code"],
                group_name_vi=row["group_name_vi"],
                group_name_en=row["group_name_en"],
                group_max_points=Decimal(row["group_max_points"]),
                max_points=Decimal(row["max_points"]),
                full_score_ratio=Decimal(row["full_score_ratio"]),
                formula_kind=row["formula_kind"],
                points_when_no_denominator=_decimal(row["points_when_no_denominator"]),
                is_estimate=row["is_estimate"].strip().lower() == "true",
                portal_endpoint=row["portal_endpoint"],
                numerator_field=row["numerator_field"],
                denominator_field=row["denominator_field"],
                sort_order=int(row["sort_order"]),
            )
        )
    return Rules(tuple(sorted(components, key=lambda c: c.sort_order)))


def points(
    component: Component,
    numerator: Decimal | int | float | None,
    denominator: Decimal | int | float | None,
) -> Decimal | None:
    """The component's points for numerator / denominator (None: not scored)."""
    if denominator is None or Decimal(str(denominator)) == 0:
        return component.points_when_no_denominator
    ratio = max(Decimal(str(numerator or 0)) / Decimal(str(denominator)), Decimal(0))
    return points_for_ratio(component, ratio)


def points_for_ratio(component: Component, ratio: Decimal) -> Decimal:
    """The component's points for a ratio (0–1) already computed."""
    raw = component.max_points * ratio / component.full_score_ratio
    return min(component.max_points, raw).quantize(CENT, rounding=ROUND_HALF_UP)


def group_points(group_max: Decimal, component_points: Iterable[Decimal | None]) -> Decimal:
    """Sum of the components' points (unscored count 0), capped at the group's maximum."""
    total = sum((p for p in component_points if p is not None), Decimal(0))
    return min(group_max, total)
