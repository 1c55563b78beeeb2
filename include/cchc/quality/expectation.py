"""`UnexpectedRecordKeysExpectation`: a GX SQL rule whose query runs once and keeps every key.

GX's built-in `UnexpectedRowsExpectation` runs its query twice (once wrapped in `COUNT(*)`,
once for at most 200 rows), and the runner needed a third run for the complete key list of
`dq.record_flags`. This subclass (same `unexpected_rows_query` over `{batch}`, same renderers,
same pass/fail: the query must return no row) resolves one metric instead: the query, run once
in PostgreSQL through GX's execution engine, returning its row count and every distinct failing
key (first column). Nothing else leaves the database.

What GX keeps and Data Docs show: the row count (`observed_value`) and a sample of
`partial_unexpected_count` keys (`partial_unexpected_list`, at most 200). The complete key list
goes to the runner in memory (`collect_keys`), never into the stored validation result: the
Data Docs index reads every stored result on each build, so a result holding a night's tens of
thousands of keys would make every later build slower.

Importing this module registers the expectation and its metric with GX; `checks._gx_context`
does so before the context loads the suites.
"""

from __future__ import annotations

import contextlib
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

METRIC = "unexpected_rows_query.failing_keys"


class FailingRows(NamedTuple):
    row_count: int
    keys: tuple[str, ...]  # distinct, sorted; rows whose first column is null have no key


class UnexpectedRowsQueryFailingKeys(QueryMetricProvider):
    """The rule's query, run once: its row count and the distinct values of its first column."""

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
        query = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
            query=cls._get_query_from_metric_value_kwargs(metric_value_kwargs),
            batch_selectable=batch_selectable,
            execution_engine=execution_engine,
        )
        rows, keys = 0, set()
        for row in execution_engine.execute_query(sa.text(query)):
            rows += 1
            if row[0] is not None:
                keys.add(str(row[0]))
        return FailingRows(rows, tuple(sorted(keys)))


_collector: ContextVar[dict[tuple[str | None, str | None], tuple[str, ...]] | None] = ContextVar(
    "cchc_failing_keys", default=None
)


@contextlib.contextmanager
def collect_keys() -> Iterator[dict[tuple[str | None, str | None], tuple[str, ...]]]:
    """Every failing key of the rules validated inside the block, by (batch id, expectation
    id): what `dq.record_flags` needs, kept out of GX's stored results."""
    keys: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
    token = _collector.set(keys)
    try:
        yield keys
    finally:
        _collector.reset(token)


def collected_key(config: Any) -> tuple[str | None, str | None]:
    """The `collect_keys` key of an expectation configuration (of a validation result)."""
    return (config.kwargs.get("batch_id"), config.id)


class UnexpectedRecordKeysExpectation(UnexpectedRowsExpectation):
    """Fails when `unexpected_rows_query` (SQL over `{batch}`, failing record keys first)
    returns any row; the query runs once and every failing key is kept (see the module doc)."""

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
            collector[collected_key(self.configuration)] = failing.keys
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
                "partial_unexpected_list": list(failing.keys[:sample]),
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
        """Data Docs: the sample of failing keys under the observed row count."""
        keys = ((result.result or {}) if result is not None else {}).get("partial_unexpected_list")
        if not keys:
            return None
        return [
            RenderedTableContent(
                content_block_type="table",
                table=[[key] for key in keys],
                header_row=["Sampled failing keys"],
                styling={"body": {"classes": ["table-bordered", "table-sm", "mt-3"]}},
            )
        ]
