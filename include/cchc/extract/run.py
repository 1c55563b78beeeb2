"""Entry points used by the DAG and the CLI: extract entities for a window."""

from __future__ import annotations

from datetime import datetime

from cchc import warehouse
from cchc.config import Settings, load_settings
from cchc.extract.connector import RetryPolicy, SourceClient, SourceConnection
from cchc.extract.entities import Entity, entities_of
from cchc.extract.loader import BatchResult, load_window
from cchc.extract.window import Window


def connection_for(source: str, settings: Settings) -> SourceConnection:
    """Base URL and token of a source: an Airflow connection when running in a task, else env."""
    try:  # inside an Airflow task, connections can come from any configured secrets backend
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(f"cchc_{source}")
        return SourceConnection.from_uri(conn.get_uri())
    except Exception:  # noqa: BLE001 - outside Airflow (CLI, tests): the env URI is the source of truth
        return SourceConnection.from_uri(settings.source_urls[source])


def extract_entity(
    entity: Entity,
    window: Window,
    settings: Settings | None = None,
    policy: RetryPolicy | None = None,
) -> BatchResult:
    settings = settings or load_settings()
    with (
        warehouse.connect(settings) as conn,
        SourceClient(entity.source, connection_for(entity.source, settings), policy) as client,
    ):
        return load_window(conn, client, entity, window, settings.page_size)


def extract(
    start: datetime,
    end: datetime,
    source: str | None = None,
    entity: str | None = None,
    settings: Settings | None = None,
) -> list[BatchResult]:
    """Extract every matching entity for [start, end) widened by the configured overlap."""
    settings = settings or load_settings()
    window = Window.for_interval(start, end, settings.extract_overlap_minutes)
    return [extract_entity(e, window, settings) for e in entities_of(source, entity)]
