"""Recompute the portal's published Decision 766 scores from its published counts.

Two response shapes of the portal's evaluation API are read (see the shared samples):

- tree endpoints (``dvc-progress-tree``, ``formality-online-payment-tree``,
  ``provide-online-tree``): ``data.parent`` and ``data.children[]``, one object per
  department with count fields and ``score`` / ``totalScore``;
- overview / evaluation endpoints (``transparency``, ``dossier-digitized``,
  ``handling-satisfaction``): ``data.overview`` and ``data.evaluation[]``, each with
  ``metrics[] {code, numerator, denominator, ratio, score, maxScore}``.

Every component is scored with :func:`cchc.qd766.rules.points` from the seed's rules; each
group's total is compared too. Components marked ``is_estimate`` (the online-services group,
whose official formula is not published) are shown but never fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cchc.qd766.rules import Component, Rules, group_points, load_rules, points, points_for_ratio

TOLERANCE = Decimal("0.015")
TREE_ENDPOINTS = ("dvc-progress-tree", "formality-online-payment-tree", "provide-online-tree")


class NotAnEvaluationResponse(ValueError):
    """The file is not a response of the portal's 766 evaluation API."""


@dataclass(frozen=True)
class ScoreRow:
    """Official and recomputed points of one department and component (or group total)."""

    source: str
    endpoint: str
    department_code: str
    department_name: str
    component_code: str  # a component code, or "TOTAL:<group>"
    is_estimate: bool
    official: Decimal | None
    recomputed: Decimal | None
    note: str = ""

    @property
    def difference(self) -> Decimal | None:
        if self.official is None or self.recomputed is None:
            return None
        return self.recomputed - self.official

    @property
    def compared(self) -> bool:
        return self.official is not None or self.recomputed is not None

    def fails(self, tolerance: Decimal = TOLERANCE) -> bool:
        """A known-formula row whose recomputation differs from the official score."""
        if self.is_estimate or self.official is None:
            return False
        if self.recomputed is None:
            return True
        return abs(self.official - self.recomputed) > tolerance


@dataclass
class EndpointSummary:
    endpoint: str
    rows: int = 0
    compared: int = 0
    estimated: int = 0
    max_difference: Decimal = Decimal(0)
    failures: int = 0
    sources: set[str] = field(default_factory=set)


def _number(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def _field_sum(record: dict, expression: str) -> Decimal | None:
    """A field, or a sum of fields written ``a+b``; None when any is missing."""
    values = [_number(record.get(name.strip())) for name in expression.split("+")]
    if any(v is None for v in values):
        return None
    return sum(values, Decimal(0))


def _department(record: dict) -> tuple[str, str]:
    name = record.get("departmentName") or ""
    return record.get("departmentCode") or name or "?", name


def _tree_endpoint(parent: dict, rules: Rules) -> str:
    for endpoint in TREE_ENDPOINTS:
        components = rules.endpoint(endpoint)
        fields = {
            name.strip()
            for c in components
            for name in (c.numerator_field + "+" + c.denominator_field).split("+")
        }
        if components and fields <= parent.keys():
            return endpoint
    raise NotAnEvaluationResponse("a tree response whose count fields match no known endpoint")


def _group_row(
    source: str,
    endpoint: str,
    record: dict,
    group: tuple[Component, ...],
    scored: list[Decimal | None],
    official: Decimal | None,
) -> ScoreRow:
    code, name = _department(record)
    recomputed = None if not scored else group_points(group[0].group_max_points, scored)
    return ScoreRow(
        source, endpoint, code, name, f"TOTAL:{group[0].group_code}",
        any(c.is_estimate for c in group), official, recomputed,
    )  # fmt: skip


def _tree_rows(source: str, data: dict, rules: Rules) -> Iterator[ScoreRow]:
    endpoint = _tree_endpoint(data["parent"], rules)
    components = rules.endpoint(endpoint)
    for record in [data["parent"], *data.get("children", [])]:
        code, name = _department(record)
        official_total = _number(record.get("totalScore", record.get("score")))
        scored: list[Decimal | None] = []
        missing = False
        for component in components:
            numerator = _field_sum(record, component.numerator_field)
            denominator = _field_sum(record, component.denominator_field)
            if numerator is None or denominator is None:
                missing = True
                recomputed, note = None, "counts not published"
            else:
                recomputed, note = points(component, numerator, denominator), ""
            scored.append(recomputed)
            official = official_total if len(components) == 1 else None
            yield ScoreRow(
                source, endpoint, code, name, component.code, component.is_estimate,
                official, recomputed, note,
            )  # fmt: skip
        if len(components) > 1:
            yield _group_row(
                source, endpoint, record, components, [] if missing else scored, official_total
            )


def _metric_rows(source: str, data: dict, rules: Rules) -> Iterator[ScoreRow]:
    endpoint = "?"
    for record in [data["overview"], *data.get("evaluation", [])]:
        code, name = _department(record)
        by_group: dict[str, list[Decimal | None]] = {}
        for metric in record.get("metrics", []):
            metric_code = metric.get("code")
            official = _number(metric.get("score"))
            if metric_code not in rules:
                if (_number(metric.get("maxScore")) or 0) > 0:
                    yield ScoreRow(
                        source, endpoint, code, name, str(metric_code), True, official, None,
                        "unknown component: not in the seed",
                    )  # fmt: skip
                continue  # e.g. petition classification shares: published, not scored
            component = rules[metric_code]
            endpoint = component.portal_endpoint
            numerator, denominator = (
                _number(metric.get("numerator")),
                _number(metric.get("denominator")),
            )
            published_ratio = _number(metric.get("ratio"))
            note = ""
            if numerator is None and denominator is None and published_ratio is not None:
                recomputed = points_for_ratio(component, published_ratio / 100)
                note = "no counts published: from the published ratio"
            else:
                recomputed = points(component, numerator, denominator)
            by_group.setdefault(component.group_code, []).append(recomputed)
            yield ScoreRow(
                source, endpoint, code, name, component.code, component.is_estimate,
                official, recomputed, note,
            )  # fmt: skip
        for group_code, scored in by_group.items():
            yield _group_row(
                source, endpoint, record, rules.group(group_code), scored,
                _number(record.get("totalScore")),
            )  # fmt: skip


def recompute_response(source: str, response: dict, rules: Rules) -> list[ScoreRow]:
    """Every department's official and recomputed points in one saved response."""
    data = response.get("data") if isinstance(response, dict) else None
    if not isinstance(data, dict):
        raise NotAnEvaluationResponse("no data object")
    if "parent" in data:
        return list(_tree_rows(source, data, rules))
    if "overview" in data:
        return list(_metric_rows(source, data, rules))
    raise NotAnEvaluationResponse("neither data.parent (tree) nor data.overview (metrics)")


def recompute_file(path: Path, rules: Rules | None = None) -> list[ScoreRow]:
    """Read one saved response and recompute it."""
    response = json.loads(path.read_text(encoding="utf-8"))
    return recompute_response(str(path), response, rules or load_rules())


def summarize(rows: Iterable[ScoreRow], tolerance: Decimal = TOLERANCE) -> list[EndpointSummary]:
    """Per endpoint: rows, rows compared (official and recomputed), max difference, failures."""
    summaries: dict[str, EndpointSummary] = {}
    for row in rows:
        summary = summaries.setdefault(row.endpoint, EndpointSummary(row.endpoint))
        summary.rows += 1
        summary.sources.add(row.source)
        if row.is_estimate:
            summary.estimated += 1
        elif row.difference is not None:
            summary.compared += 1
            summary.max_difference = max(summary.max_difference, abs(row.difference))
        summary.failures += row.fails(tolerance)
    return list(summaries.values())
