"""The task defaults every CCHC DAG shares: the owner, two retries with exponential backoff, and
the failure alert (webhook / e-mail, see docs/runbook.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cchc.alerts import on_failure_callback

OWNER = "cchc-data-platform"


def default_args(
    retry_delay: timedelta = timedelta(minutes=5),
    max_retry_delay: timedelta = timedelta(hours=1),
) -> dict[str, Any]:
    """`default_args` for a DAG; only the backoff's first and longest wait differ by DAG."""
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": max_retry_delay,
        "on_failure_callback": on_failure_callback,
    }
