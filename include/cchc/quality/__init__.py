"""Data-quality checks: Great Expectations suites in `expectations/`, results in `dq.*`.

Importing this package is cheap: GX is imported only when a check runs.
"""

from cchc.quality.checks import (
    CheckExecutionError,
    CheckSummary,
    QualityCheckError,
    RuleResult,
    StructuralCheckError,
    data_docs_index,
    run_checks,
)

__all__ = [
    "CheckExecutionError",
    "CheckSummary",
    "QualityCheckError",
    "RuleResult",
    "StructuralCheckError",
    "data_docs_index",
    "run_checks",
]
