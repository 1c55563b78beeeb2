"""`UnexpectedRecordKeysExpectation`: a GX SQL rule whose query runs once and keeps every key.

GX's built-in `UnexpectedRowsExpectation` runs its query twice (once wrapped in `COUNT(*)`,
once for at most 200 rows), and the runner needed a third run for the complete key list of
`dq.record_flags`. This subclass (same `unexpected_rows_query` over `{batch}`, same renderers,
same pass/fail: the query must return no row) resolves one metric instead: the query, run once
in PostgreSQL through GX's execution engine, returning its row count and every distinct failing
record: its key (first column) and its province (the column named `province_code`: provinces
share the warehouse and their systems may reuse keys). Nothing else leaves the database.

What GX keeps and Data Docs show: the row count (`observed_value`) and a sample of
`partial_unexpected_count` records (`partial_unexpected_list`, at most 200, each
`{"province_code", "record_key"}`). The complete list goes to the runner in memory
(`collect_keys`), never into the stored validation result: the Data Docs index reads every
stored result on each build, so a result holding a night's tens of thousands of keys would make
every later build slower.

Importing this module registers the expectation and its metric with GX; `checks._gx_context`
does so before the context loads the suites.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar, NamedTuple

from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.core.result_format import ResultFormat
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.expectation_configuration import parse_result_format
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider
from great_expectations.render import LegacyDiagnosticRendererType, RenderedTableContent
from great_expectations.render.renderer.renderer import renderer

from cchc.quality import night
from cchc.quality.results import PROVINCE_COLUMN, FlaggedRecord

METRIC = "unexpected_rows_query.failing_keys"


class FailingRows(NamedTuple):
    row_count: int
    # Distinct, sorted; a row without a key or a province names no record that can be flagged.
    records: tuple[FlaggedRecord, ...]


class UnexpectedRowsQueryFailingKeys(QueryMetricProvider):
    """The rule's query, run once: its row count and the distinct (province, key) pairs of its
    `province_code` and first columns."""

    metric_name = METRIC
    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> FailingRows:
        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )

        def substituted(query: str) -> str:
            return cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
                query=query, batch_selectable=batch_selectable, execution_engine=execution_engine
            )

        # The suite's table (GX may hand it over as a subquery of it); on a night check, the
        # rule reads only the records in scope.
        table = substituted("{batch}")
        names = set(re.findall(r"\b[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\b", table.lower()))
        known = next((name for name in (*_night_scopes, *_latest) if name in names), None)
        if known is not None:
            table = known
        query = substituted(
            night.render(
                cls._get_query_from_metric_value_kwargs(metric_value_kwargs),
                table,
                _night_scopes.get(table),
                _latest.get(table),
            )
        )
        result = execution_engine.execute_query(sa.text(query))
        columns = list(result.keys())
        if PROVINCE_COLUMN not in columns[1:]:
            raise ValueError(
                f"a rule's query must return the failing record's {PROVINCE_COLUMN} after its"
                f" record_key; it returns {columns}"
            )
        province = columns.index(PROVINCE_COLUMN, 1)
        rows, records = 0, set()
        for row in result:
            rows += 1
            if row[0] is not None and row[province] is not None:
                records.add(FlaggedRecord(str(row[province]), str(row[0])))
        return FailingRows(rows, tuple(sorted(records)))


_Collected = dict[tuple[str | None, str | None], tuple[FlaggedRecord, ...]]
_collector: ContextVar[_Collected | None] = ContextVar("cchc_failing_keys", default=None)


@contextlib.contextmanager
def collect_keys() -> Iterator[_Collected]:
    """Every failing (province, key) of the rules validated inside the block, by (batch id,
    expectation id): what `dq.record_flags` needs, kept out of GX's stored results."""
    keys: _Collected = {}
    token = _collector.set(keys)
    try:
        yield keys
    finally:
        _collector.reset(token)


# A module global, not a ContextVar: GX may resolve metrics on other threads, which do not see
# the caller's context. One checkpoint runs at a time in a process.
_night_scopes: dict[str, night.NightScope] = {}
_latest: dict[str, str] = {}


@contextlib.contextmanager
def night_scopes(
    scopes: dict[str, night.NightScope], latest: dict[str, str] | None = None
) -> Iterator[None]:
    """Inside the block, the rules of the tables in `scopes` (by qualified name) read only the
    records in each one's scope (a night check); every other table is read whole. `latest`:
    by table, where its latest versions were derived for this check (`{latest}`)."""
    _night_scopes.clear()
    _night_scopes.update(scopes)
    _latest.clear()
    _latest.update(latest or {})
    try:
        yield
    finally:
        _night_scopes.clear()
        _latest.clear()


def collected_key(config: Any) -> tuple[str | None, str | None]:
    """The `collect_keys` key of an expectation configuration (of a validation result)."""
    return (config.kwargs.get("batch_id"), config.id)


class UnexpectedRecordKeysExpectation(UnexpectedRowsExpectation):
    """Fails when `unexpected_rows_query` (SQL over `{batch}`, failing record keys first, and
    their `province_code`) returns any row; the query runs once and every failing record is
    kept (see the module doc)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = (METRIC,)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        failing: FailingRows = metrics[METRIC]
        success = failing.row_count == 0
        collector = _collector.get()
        if collector is not None:
            collector[collected_key(self.configuration)] = failing.records
        result_format = parse_result_format(
            self._get_result_format(runtime_configuration=runtime_configuration)
        )
        if result_format["result_format"] == ResultFormat.BOOLEAN_ONLY:
            return {"success": success}
        sample = min(int(result_format["partial_unexpected_count"]), MAX_RESULT_RECORDS)
        # No `unexpected_count`: GX's generic renderers would then want a percentage of an
        # element count, which a query over the batch does not have.
        return {
            "success": success,
            "result": {
                "observed_value": failing.row_count,
                "partial_unexpected_list": [r._asdict() for r in failing.records[:sample]],
            },
        }

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)
    def _diagnostic_unexpected_table_renderer(
        cls,
        configuration: Any = None,
        result: Any = None,
        runtime_configuration: dict | None = None,
    ) -> list[RenderedTableContent] | None:
        """Data Docs: the sample of failing records under the observed row count."""
        sample = ((result.result or {}) if result is not None else {}).get(
            "partial_unexpected_list"
        )
        if not sample:
            return None
        return [
            RenderedTableContent(
                content_block_type="table",
                # Results stored before rules named the province hold bare keys.
                table=[
                    [r.get(PROVINCE_COLUMN), r.get("record_key")]
                    if isinstance(r, dict)
                    else ["", r]
                    for r in sample
                ],
                header_row=["Province", "Sampled failing keys"],
                styling={"body": {"classes": ["table-bordered", "table-sm", "mt-3"]}},
            )
        ]
