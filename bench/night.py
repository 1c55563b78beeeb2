"""`python -m bench.night --store DIR --night YYYY-MM-DD [--history-days N ...]`: a province's
backfill and one night's whole data work, every stage beside its physical limit, and how the
night's cost depends on the history before it.

For each history length N (days before the night), a fresh warehouse is created (a database
of its own on an embedded server the benchmark starts in its temporary folder) and gets:

- the backfill: the N days before the night (01:00 local on the night; the reference data,
  units and procedures, from their beginning) loaded through the HTTP simulator by the
  extraction code itself, page by page; the full raw checks (GX), the full dbt build and the
  marts checks. Seconds, peak RSS and versions per second;
- the night: every entity extracted over the HTTP simulator for the night's data interval
  (01:00 to 01:00), the raw checks in night mode, the nightly incremental dbt build, the
  marts checks and the nightly export. Seconds per stage and their total: one night's data
  work. Each stage is printed beside its physical limit, measured on the same rows right
  after it, as ours ÷ limit (see `bench.night_limits`).

The history lengths are then compared stage by stage (longest ÷ shortest): a night's cost
should follow the night, not the history. dbt and GX run in-process, so the benchmark's own
peak RSS (sampled per stage) is theirs; the PostgreSQL server is a process of its own and
is not counted. Results go to bench/results/<name>.json; the temporary folder (store when
generated, warehouse, exports) is deleted and the servers stopped at the end.
Ports: CCHC_PG_PORT_EMBEDDED (default 55497), CCHC_SIM_PORT (default 8897).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
REFERENCE = ("administrative_units", "procedures")  # changed long before any dossier

BACKFILL = ("load", "raw_checks_full", "dbt_build_full", "marts_checks")
NIGHT = ("extract", "raw_checks_night", "dbt_build_nightly", "marts_checks", "export")
LIMITS = {
    "extract": "plain COPY of the night's JSON into a scratch table",
    "raw_checks_night": "plain SQL of the night's rules on the night's records",
    "dbt_build_nightly": "plain aggregate of the 766 progress component, the night's dossiers",
    "marts_checks": "plain SQL of the marts rules",
    "export": "the export's query, rows written as CSV",
}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Stages:
    """Seconds and peak RSS (sampled every 50 ms) of each stage, in order."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        peak = [_rss_mb()]
        done = threading.Event()

        def sample():
            while not done.wait(0.05):
                peak[0] = max(peak[0], _rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 3)
            done.set()
            sampler.join()
            self.peak_rss_mb[name] = round(max(peak[0], _rss_mb()), 1)


def backfill(config, night: date, history_days: int) -> list:
    """The history before the night's data interval through the HTTP simulator, by the
    initial load itself: data entities from `history_days` before the night, reference data
    from its beginning, the monthly reports once."""
    from cchc.extract.run import load_history

    return load_history(
        night, config, since=night - timedelta(days=history_days), from_beginning=REFERENCE
    )


@contextmanager
def fresh_warehouse(server, settings, name: str):
    """A new database on `server` and settings pointing at it (exports in a folder of its
    own); dropped on exit, with everything in it."""
    import psycopg

    from cchc import warehouse

    dbname = f"cchc_bench_night_{name}_{secrets.token_hex(3)}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'create database "{dbname}"')
    database = dataclasses.replace(server, dbname=dbname)
    config = dataclasses.replace(
        settings,
        warehouse_url=database.url(),
        export_dir=settings.data_dir / f"exports-{dbname}",
    )
    try:
        with psycopg.connect(database.url(), autocommit=True) as conn:
            warehouse.bootstrap(conn, config)
        yield database, config
    finally:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{dbname}" with (force)')
        shutil.rmtree(config.export_dir, ignore_errors=True)


def _count(database, sql: str, params=()) -> int:
    import psycopg

    with psycopg.connect(database.url()) as conn:
        return conn.execute(sql, params).fetchone()[0]


def measure(server, settings, night: date, history_days: int, project: Path, scratch: Path) -> dict:
    """Backfill and one night on a fresh warehouse of `server`, the simulator serving the
    store at `settings`' sources. Returns seconds, peak RSS and limits of every stage."""
    from bench import night_limits
    from bench.night_checks import _suites
    from cchc import warehouse
    from cchc.exports.progress import export_progress
    from cchc.extract.run import extract
    from cchc.extract.window import local_midnight
    from cchc.quality import run_checks
    from cchc.transform.dbt import dbt_build, ensure_seeds

    suites = _suites(project)
    start = local_midnight(night) + timedelta(hours=1)
    result: dict = {"history_days": history_days, "night_date": str(night),
                    "load_average_before": round(os.getloadavg()[0], 2)}  # fmt: skip
    with fresh_warehouse(server, settings, f"h{history_days}") as (database, config):
        pg = warehouse.login_params("transformer", config)
        ensure_seeds(pg)  # the raw checks count working days with the holiday calendar
        back = Stages()
        with back.stage("load"):
            batches = backfill(config, night, history_days)
        result["backfill_versions"] = sum(b.loaded for b in batches)
        with back.stage("raw_checks_full"):
            run_checks(pg, "bench-history", stage="raw", project_dir=project, mode="full")
        with back.stage("dbt_build_full"):
            full_nodes = dbt_build(pg, full_refresh=True, unit_tests=False)
        with back.stage("marts_checks"):
            run_checks(pg, "bench-history", stage="marts", project_dir=project)
        result["backfill"] = {"seconds": back.seconds, "peak_rss_mb": back.peak_rss_mb}
        result["dossiers_before"] = _count(database, "select count(*) from marts.fct_dossiers")

        ours = Stages()
        limits = Stages()
        province = config.province_code
        since = datetime.now(UTC)  # the night's versions are those extracted from now on
        with ours.stage("extract"):
            batches = extract(start, start + timedelta(days=1), settings=config)
        result["night_versions"] = sum(b.loaded for b in batches)
        # the COPY alone is timed: the night's JSON is written to a file beforehand
        limits.seconds["extract"] = night_limits.copy_json(database, province, since, scratch)
        with limits.stage("raw_checks_night"):
            examined = night_limits.raw_rules(database, suites)
        result["night_records_examined"] = examined
        with ours.stage("raw_checks_night"):
            run_checks(pg, f"bench-{night}", stage="raw", project_dir=project, mode="night")
        with ours.stage("dbt_build_nightly"):
            nightly_nodes = dbt_build(pg, unit_tests=False)
        with limits.stage("dbt_build_nightly"):
            night_limits.progress_766(database, province, since)
        result["night_dossiers"] = night_limits.changed_dossiers(database, province, since)
        with ours.stage("marts_checks"):
            run_checks(pg, f"bench-{night}", stage="marts", project_dir=project)
        with limits.stage("marts_checks"):
            night_limits.marts_rules(database, project)
        with ours.stage("export"):
            export_progress(start + timedelta(days=1), config)
        with limits.stage("export"):
            night_limits.export_csv(database, config.province_code, scratch)
        result["night"] = {"seconds": ours.seconds, "peak_rss_mb": ours.peak_rss_mb}
        result["limits"] = {"seconds": limits.seconds}
        result["dbt_nodes"] = {"full": node_times(full_nodes), "nightly": node_times(nightly_nodes)}
        result["dossiers_after"] = _count(database, "select count(*) from marts.fct_dossiers")
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    return summarize_history(result)


def node_times(nodes, top: int = 15) -> dict:
    """Where a dbt build's time went: the slowest nodes (dbt's own execution time, hooks
    included), and the sum over all of them (the rest of the wall time is dbt's start-up and
    graph walk)."""
    slowest = sorted(nodes, key=lambda node: node.execution_time, reverse=True)[:top]
    return {
        "nodes": len(nodes),
        "sum_seconds": round(sum(node.execution_time for node in nodes), 2),
        "slowest": {node.name: round(node.execution_time, 2) for node in slowest},
    }


def summarize_history(result: dict) -> dict:
    """Totals and ratios of one history length's measurement."""
    back, night, limits = result["backfill"], result["night"], result["limits"]["seconds"]
    back["total_seconds"] = round(sum(back["seconds"].values()), 3)
    back["versions_per_second"] = round(
        result["backfill_versions"] / max(back["seconds"]["load"], 1e-9)
    )
    back["peak_rss_mb_max"] = max(back["peak_rss_mb"].values())
    night["total_seconds"] = round(sum(night["seconds"].values()), 3)
    night["peak_rss_mb_max"] = max(night["peak_rss_mb"].values())
    result["limits"]["total_seconds"] = round(sum(limits.values()), 3)
    result["ours_over_limit"] = {
        stage: round(night["seconds"][stage] / max(limits[stage], 1e-9), 2) for stage in NIGHT
    }
    result["nightly_over_full_build"] = round(
        night["seconds"]["dbt_build_nightly"] / max(back["seconds"]["dbt_build_full"], 1e-9), 3
    )
    return result


def compare_histories(runs: list[dict]) -> dict:
    """Each night stage's seconds, longest history ÷ shortest."""
    short, long = runs[0], runs[-1]
    stages = [*NIGHT, "total"]

    def seconds(run, stage):
        night = run["night"]
        return night["total_seconds"] if stage == "total" else night["seconds"][stage]

    return {
        "short_days": short["history_days"],
        "long_days": long["history_days"],
        "long_over_short": {
            s: round(seconds(long, s) / max(seconds(short, s), 1e-9), 2) for s in stages
        },
    }


def _print(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    runs = results["runs"]
    for run in runs:
        back, night = run["backfill"], run["night"]
        table = Table(
            title=f"Backfill of {run['history_days']} days before the night of {run['night_date']}"
            f" (scale {results['scale']}): {run['backfill_versions']:,} versions,"
            f" {run['dossiers_before']:,} dossiers"
        )
        for column in ("stage", "seconds", "peak RSS, MB"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        for stage in BACKFILL:
            table.add_row(
                stage, f"{back['seconds'][stage]:.2f}", f"{back['peak_rss_mb'][stage]:.0f}"
            )
        table.add_row("total", f"{back['total_seconds']:.2f}", f"{back['peak_rss_mb_max']:.0f}")
        console.print(table)
        console.print(f"load: {back['versions_per_second']:,} versions/s")
        table = Table(
            title=f"The night ({run['night_versions']:,} versions, {run['night_dossiers']:,}"
            f" changed dossiers) after {run['history_days']} days of history, load average"
            f" {run['load_average_before']} .. {run['load_average_after']}"
        )
        for column in ("stage", "ours, s", "limit, s", "ours ÷ limit", "peak RSS, MB"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        for stage in NIGHT:
            table.add_row(
                stage,
                f"{night['seconds'][stage]:.2f}",
                f"{run['limits']['seconds'][stage]:.2f}",
                f"{run['ours_over_limit'][stage]:.2f}",
                f"{night['peak_rss_mb'][stage]:.0f}",
            )
        table.add_row(
            "one night's data work",
            f"{night['total_seconds']:.2f}",
            f"{run['limits']['total_seconds']:.2f}",
            f"{night['total_seconds'] / max(run['limits']['total_seconds'], 1e-9):.2f}",
            f"{night['peak_rss_mb_max']:.0f}",
        )
        console.print(table)
        for stage in NIGHT:
            console.print(f"  limit of {stage}: {LIMITS[stage]}")
        console.print(f"nightly dbt build ÷ full build: {run['nightly_over_full_build']:.2f}")
        table = Table(title="The slowest dbt nodes, seconds (nightly build beside the full build)")
        for column in ("node", "nightly", "full"):
            table.add_column(column, justify="left" if column == "node" else "right")
        full, nightly = run["dbt_nodes"]["full"], run["dbt_nodes"]["nightly"]
        for name, seconds in nightly["slowest"].items():
            table.add_row(name, f"{seconds:.2f}", f"{full['slowest'].get(name, 0):.2f}")
        table.add_row(
            f"all {nightly['nodes']} nodes",
            f"{nightly['sum_seconds']:.2f}",
            f"{full['sum_seconds']:.2f}",
        )
        console.print(table)
    if len(runs) > 1:
        history = results["history"]
        table = Table(title="The same night, by history length (seconds)")
        table.add_column("stage")
        for run in runs:
            table.add_column(f"{run['history_days']} days", justify="right")
        table.add_column(f"{history['long_days']} ÷ {history['short_days']}", justify="right")
        for stage in [*NIGHT, "total"]:
            cells = [
                run["night"]["total_seconds"]
                if stage == "total"
                else run["night"]["seconds"][stage]
                for run in runs
            ]
            table.add_row(stage, *(f"{c:.2f}" for c in cells),
                          f"{history['long_over_short'][stage]:.2f}")  # fmt: skip
        console.print(table)
    console.print(f"load average: {results['load_average_before']} .. {results['load_average_after']};"
                  f" peak RSS of the benchmark {results['peak_rss_mb']} MB,"
                  f" of its finished child processes (simulator, initdb) {results['children_peak_rss_mb']} MB")  # fmt: skip


def _warm_up() -> None:
    """Import GX and dbt once before any stage is timed: the first history measured would
    otherwise pay the imports (seconds) that the others do not."""
    import dbt.cli.main  # noqa: F401
    import great_expectations  # noqa: F401


def main() -> None:
    import resource

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, help="a generated store (default: generate one)")
    parser.add_argument("--night", type=date.fromisoformat, default=date(2024, 3, 21))
    parser.add_argument("--history-days", type=int, nargs="+", default=[7, 14])
    parser.add_argument("--scale", type=float, default=0.02, help="when generating a store")
    parser.add_argument("--name", default="night", help="bench/results/<name>.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cchc-bench-night-"))
    os.environ.update({"CCHC_DATA_DIR": str(work / "data"), "CCHC_EXPORT_DIR": str(work / "exports"),
                       "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_PG_PORT_EMBEDDED", "55497"),
                       "CCHC_SIM_PORT": os.environ.get("CCHC_SIM_PORT", "8897"),
                       "GX_ANALYTICS_ENABLED": "False", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"})  # fmt: skip
    os.environ.pop("CCHC_WAREHOUSE_URL", None)
    os.environ.pop("AIRFLOW_CONN_CCHC_WAREHOUSE", None)

    from cchc import warehouse
    from cchc.config import REPO_ROOT, load_settings
    from cchc.simulators.server import SimulatorProcess
    from cchc.simulators.store import SimStore
    from cchc.synthetic import generate

    settings = load_settings()
    histories = sorted(set(args.history_days))
    results: dict = {
        "scale": None if args.store else args.scale,
        "store": str(args.store) if args.store else None,
        "night": str(args.night),
        "date": date.today().isoformat(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "runs": [],
    }
    try:
        if args.store:
            store = args.store / "store.sqlite" if args.store.is_dir() else args.store
            meta = SimStore(store).meta()
            results["scale"] = float(meta.get("scale", "nan"))
            begins = date.fromisoformat(meta.get("start", "1990-01-01"))
            if args.night - timedelta(days=max(histories)) < begins:
                print(f"the store begins on {begins}: the longest history is shorter than asked")
        else:
            first = args.night - timedelta(days=max(histories))
            store = generate(work / "sim", first, args.night + timedelta(days=2), seed=42,
                             scale=args.scale)  # fmt: skip
        project = work / "expectations"
        shutil.copytree(
            REPO_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted")
        )
        scratch = work / "scratch"
        scratch.mkdir()
        server = warehouse.params(settings)
        _warm_up()
        with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
            for days in histories:
                results["runs"].append(
                    measure(server, settings, args.night, days, project, scratch)
                )
    finally:
        warehouse.stop_embedded(settings)
        shutil.rmtree(work, ignore_errors=True)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["children_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    if len(results["runs"]) > 1:
        results["history"] = compare_histories(results["runs"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(results, indent=2) + "\n")
    _print(results)


if __name__ == "__main__":
    main()
