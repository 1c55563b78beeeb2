"""`python -m bench [--scale S] [--days N]`: stage timings, loader throughput and what fsync
costs them, printed and written to bench/results/latest.json."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
RESULTS = Path(__file__).with_name("results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=0.1, help="synthetic province size (1.0 = large province)"
    )
    parser.add_argument("--days", type=int, default=30, help="days of history generated")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary data folder (deleted by default)"
    )
    args = parser.parse_args()

    # An isolated data folder and warehouse, so a benchmark never touches the demo's data.
    work = Path(tempfile.mkdtemp(prefix="cchc-bench-"))
    os.environ.update({"CCHC_DATA_DIR": str(work / "data"), "CCHC_EXPORT_DIR": str(work / "exports"),
                       "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_BENCH_PG_PORT", "54339"),
                       "CCHC_SIM_PORT": os.environ.get("CCHC_BENCH_SIM_PORT", "8789"),
                       # The night measured (1 April 2024) loads a Sunday: no weekly full check,
                       # so the Airflow run checks the same night's records as the direct calls.
                       "CCHC_DQ_FULL_CHECK_WEEKDAY": "never"})  # fmt: skip
    from bench import durability, loader, stages
    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate

    settings = load_settings()
    first_night = date(2024, 4, 1)
    history_start = first_night - timedelta(days=args.days)
    results: dict = {"scale": args.scale, "days": args.days}
    try:  # the data folder is deleted whatever fails (hundreds of MB at larger scales)
        try:
            import time

            started = time.perf_counter()
            store = generate(
                settings.data_dir / "sim",
                history_start,
                first_night + timedelta(days=2),
                seed=42,
                scale=args.scale,
            )
            results["generate_seconds"] = round(time.perf_counter() - started, 2)
            pg = warehouse.params(settings)
            results["loader"] = loader.run(store, history_start, args.days, pg.url())
            with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
                results["stages"] = stages.run(settings, first_night)
            results["peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )
        finally:
            warehouse.stop_embedded(settings)
        # fsync on vs off, each on a server of its own in the same data folder
        results["durability"] = durability.run(
            settings, store, first_night, history_start, args.days
        )
        results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        if args.keep:
            console.print(f"data folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    _print(results)


def _print(results: dict) -> None:
    table = Table(
        title=f"Stage timings (scale {results['scale']}, {results['days']} days of history)"
    )
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_row("generate synthetic province", f"{results['generate_seconds']:.2f}")
    for stage, seconds in results["stages"].items():
        table.add_row(stage, f"{seconds:.2f}")
    console.print(table)
    lo = results["loader"]
    table = Table(
        title=f"Raw load of {lo['rows']:,} dossier versions ({lo['payload_mb']} MB of JSON)"
    )
    for column in ("method", "rows/s", "ours vs it"):
        table.add_column(column, justify="left" if column == "method" else "right")
    table.add_row(
        "our loader (parse, validate, hash, COPY, publish)", f"{lo['ours_rows_per_s']:,}", ""
    )
    table.add_row(
        "plain COPY of ready rows (baseline a)",
        f"{lo['plain_copy_rows_per_s']:,}",
        f"{lo['ours_vs_plain_copy']}×",
    )
    table.add_row(
        "pandas to_sql (baseline b)", f"{lo['to_sql_rows_per_s']:,}", f"{lo['ours_vs_to_sql']}×"
    )
    console.print(table)
    console.print(f"peak RSS of the benchmark process: {results['peak_rss_mb']} MB")
    print_durability(results["durability"])
    console.print(f"load average at the end: {results['load_average']}")
    console.print(f"written: {RESULTS / 'latest.json'}")


def print_durability(results: dict) -> None:
    """fsync on (the embedded default) beside fsync off (the test-only mode)."""
    table = Table(title="What durability costs: fsync on (default) vs off (test-only `fast`)")
    for column in ("stage", "fsync on", "fsync off (baseline)", "cost of fsync"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    durable, fast, cost = results["durable"], results["fast"], results["cost"]
    table.add_row(
        "raw loader, rows/s",
        f"{durable['loader_rows_per_s']:,}",
        f"{fast['loader_rows_per_s']:,}",
        f"time ×{cost['loader']}",  # below 1: faster with fsync, i.e. within the noise
    )
    for name in (k for k in durable if k != "loader_rows_per_s"):
        share = f" ({cost[name] / fast[name]:+.0%})" if fast[name] else ""
        table.add_row(
            f"{name}, s", f"{durable[name]:.2f}", f"{fast[name]:.2f}", f"{cost[name]:+.2f} s{share}"
        )
    console.print(table)


if __name__ == "__main__":
    main()
