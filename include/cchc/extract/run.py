"""Entry points used by the DAG and the CLI: extract entities for a window."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import TypeVar

from cchc import warehouse
from cchc.config import SOURCES, Settings, connection_id, load_settings
from cchc.extract.connector import RetryPolicy, SourceClient, SourceConnection
from cchc.extract.entities import ENTITIES, Entity, entities_of
from cchc.extract.freshness import read_watermarks
from cchc.extract.loader import BatchResult, load_window
from cchc.extract.raw_store import ensure_raw_tables
from cchc.extract.window import Window, local_midnight, windows_since

log = logging.getLogger(__name__)

ConnectionLookup = Callable[[str], SourceConnection]


def connection_for(source: str, settings: Settings) -> SourceConnection:
    """Base URL and token of a source from its connection URI in the environment
    (`AIRFLOW_CONN_CCHC_<SOURCE>`, else the simulators; a further province's
    `AIRFLOW_CONN_CCHC_<CODE>_<SOURCE>`)."""
    if source not in settings.source_urls:
        name = f"AIRFLOW_CONN_{connection_id(settings.province_code, source).upper()}"
        raise ValueError(
            f"province {settings.province_code} has no {source} connection: set {name}"
        )
    return SourceConnection.from_uri(settings.source_urls[source])


def extract_entity(
    entity: Entity,
    window: Window,
    settings: Settings | None = None,
    policy: RetryPolicy | None = None,
    lookup: ConnectionLookup | None = None,
) -> BatchResult:
    """`lookup` resolves a source's connection; inside Airflow the DAG passes Airflow's own, so
    any secrets backend works. By default the environment is used."""
    settings = settings or load_settings()
    connection = lookup(entity.source) if lookup else connection_for(entity.source, settings)
    with (
        warehouse.connect_as("loader", settings) as conn,
        SourceClient(entity.source, connection, policy) as client,
    ):
        return load_window(
            conn, client, entity, window, settings.page_size, province=settings.province_code
        )


def extract_windows(
    settings: Settings, windows: list[Window], kind: str = "window"
) -> list[BatchResult]:
    """Every entity of `kind` ("window": the dated entities; "monthly": the portal's monthly
    reports) for each of `windows` in turn, all entities of one window before the next: how
    benchmarks and tests load a generated store served by the simulator, each with its own
    windows (unlike load_history's calendar years)."""
    return [
        extract_entity(entity, window, settings)
        for window in windows
        for entity in ENTITIES
        if entity.kind == kind
    ]


def extract(
    start: datetime,
    end: datetime,
    source: str | None = None,
    entity: str | None = None,
    settings: Settings | None = None,
    overlap: bool = True,
    lookup: ConnectionLookup | None = None,
) -> list[BatchResult]:
    """Extract every matching entity for [start, end), widened by the configured overlap."""
    settings = settings or load_settings()
    window = Window.for_interval(start, end, settings.extract_overlap_minutes if overlap else 0)
    return concurrently(
        [
            functools.partial(extract_entity, e, window, settings, lookup=lookup)
            for e in entities_of(source, entity)
        ],
        settings.extract_workers,
    )


T = TypeVar("T")


def concurrently(jobs: list[Callable[[], T]], workers: int) -> list[T]:
    """The jobs' results in the jobs' order, at most `workers` running at once (each job opens
    its own connections: psycopg's and httpx's are not shared between threads). The first
    failure, in the jobs' order, is raised once the jobs already started have finished; jobs
    not yet started are not started. Nothing a job loaded is undone by another's failure,
    as when one entity after another was extracted, except that later jobs may have run."""
    if workers <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="cchc-extract") as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def extract_night(
    entity: Entity,
    start: datetime,
    end: datetime,
    settings: Settings | None = None,
    policy: RetryPolicy | None = None,
    lookup: ConnectionLookup | None = None,
) -> list[BatchResult]:
    """A scheduled run's extract of `entity` for its data interval [start, end): from where the
    entity's data is covered without a hole (its watermark) to `end`, so a missed night is
    caught up by the next one. Windows load in order; the first that fails stops the run and
    leaves the watermark at the end of the last one loaded."""
    settings = settings or load_settings()
    connection = lookup(entity.source) if lookup else connection_for(entity.source, settings)
    with (
        warehouse.connect_as("loader", settings) as conn,
        SourceClient(entity.source, connection, policy) as client,
    ):
        ensure_raw_tables(conn, settings.province_code)
        covered = read_watermarks(conn, settings.province_code).get((entity.source, entity.name))
        conn.commit()
        windows = windows_since(
            covered, start, end, settings.extract_overlap_minutes, settings.extract_chunk_hours
        )
        if len(windows) > 1:
            log.warning(
                "%s %s covered only until %s: catching up in %d windows",
                settings.province_code, entity.qualified_name, covered, len(windows),
            )  # fmt: skip
        return [
            load_window(conn, client, entity, window, settings.page_size, ensure=False,
                        province=settings.province_code)
            for window in windows
        ]  # fmt: skip


# Reference data (administrative units, the procedure catalogue) last changed long before any
# dossier: a first deployment's initial load must reach back to it.
BEGINNING = date(1990, 1, 1)


def load_history(
    first_night: date,
    settings: Settings | None = None,
    since: date = BEGINNING,
    from_beginning: tuple[str, ...] = (),
) -> list[BatchResult]:
    """A first deployment's initial load: everything updated before the first night's data
    interval (01:00 local on `first_night`), from `since`; the entities named in
    `from_beginning` (reference data a shorter history still needs) from BEGINNING.

    One window per calendar year: a window returns each record's latest version in it, so a
    single window would keep only the latest state and lose history such as the 2025 unit
    mergers. The portal's monthly reports are fetched once, for the months before the night."""
    settings = settings or load_settings()
    windows = history_windows(first_night, since)
    everything = history_windows(first_night, BEGINNING) if from_beginning else windows
    with warehouse.connect_as("loader", settings) as conn:
        ensure_raw_tables(conn, settings.province_code)
    jobs = []
    for entity in sorted(ENTITIES, key=lambda e: SOURCES.index(e.source)):
        chosen = everything if entity.name in from_beginning else windows
        chosen = chosen if entity.kind == "window" else chosen[-1:]
        jobs.append(functools.partial(_load_windows, entity, chosen, settings))
    return [
        result for results in concurrently(jobs, settings.extract_workers) for result in results
    ]


def _load_windows(entity: Entity, windows: list[Window], settings: Settings) -> list[BatchResult]:
    """`windows` of `entity` in order, on one connection and one client (for the ~35 windows
    of reference data)."""
    with (
        warehouse.connect_as("loader", settings) as conn,
        SourceClient(entity.source, connection_for(entity.source, settings)) as client,
    ):
        return [
            load_window(conn, client, entity, window, settings.page_size, ensure=False,
                        province=settings.province_code)
            for window in windows
        ]  # fmt: skip


def history_windows(first_night: date, since: date = BEGINNING) -> list[Window]:
    """The initial load's windows: calendar years from `since` to 01:00 on `first_night`."""
    end = local_midnight(first_night) + timedelta(hours=1)
    years = [local_midnight(date(y, 1, 1)) for y in range(since.year + 1, first_night.year + 1)]
    bounds = [local_midnight(since), *(b for b in years if b < end), end]
    return [Window(start, stop) for start, stop in itertools.pairwise(bounds)]
