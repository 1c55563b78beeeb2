"""`python -m bench.extraction`: end-to-end extraction (HTTP simulator → raw) for windows of
growing length, each in a fresh `cchc extract` process: throughput and peak RSS.

Peak RSS must not grow with the window (pages are streamed), which is what makes a
province-year backfill fit in bounded memory whatever its length.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg


def _run(args: list[str], env: dict) -> tuple[float, int]:
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, nargs="+", default=[1, 7, 28])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cchc-bench-extract-"))
    env = {**os.environ, "CCHC_DATA_DIR": str(work / "data"),
           "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_BENCH_PG_PORT", "54349"),
           "CCHC_SIM_PORT": os.environ.get("CCHC_BENCH_SIM_PORT", "8799")}  # fmt: skip
    os.environ.update(env)
    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate

    settings = load_settings()
    first = date(2024, 3, 4)
    store = generate(
        work / "sim", first, first + timedelta(days=max(args.days) + 1), seed=42, scale=args.scale
    )
    pg = warehouse.params(settings)
    cchc = str(Path(sys.executable).with_name("cchc"))
    print(f"scale {args.scale}; each window loaded by a fresh `cchc extract` process")
    print(f"{'window':>8} {'versions':>10} {'seconds':>8} {'versions/s':>11} {'peak RSS MB':>12}")
    try:
        with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
            for days in args.days:
                with psycopg.connect(pg.url(), autocommit=True) as conn:
                    conn.execute(
                        "drop schema if exists raw cascade; drop schema if exists audit cascade"
                    )
                end = first + timedelta(days=days)
                seconds, rss = _run([cchc, "extract", "--from", f"{first}", "--to", f"{end}"], env)
                with psycopg.connect(pg.url()) as conn:
                    rows = conn.execute("select sum(loaded) from audit.load_batches").fetchone()[0]
                print(
                    f"{days:>6} d {rows:>10,} {seconds:>8.1f} {rows / seconds:>11,.0f} {rss:>12,}"
                )
    finally:
        warehouse.stop_embedded(settings)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
