"""`python -m bench.nightly_rows [--scale S] [--baseline DIR]`: what a nightly dbt build
rewrites, after a normal night and after a night that loaded nothing.

A generated province (scale S, 2025-07-01 to the night) is loaded through the simulator up
to the night, built in full, then the night's records are loaded and the nightly `dbt
build` runs (a normal night), then it runs again with nothing loaded (a quiet night). For
each build: its seconds and the rows it inserted or deleted in the models' tables (the
statistics' n_tup_ins + n_tup_del, per table), with the load average. With `--baseline`, the
same is done first with another copy of the dbt project (e.g. the previous version's,
exported with `git archive`), on a warehouse of its own loaded the same way. Written to
bench/results/nightly_rows.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

from bench import data_folder

RESULTS = Path(__file__).with_name("results")
START, NIGHT = date(2025, 7, 1), date(2025, 9, 10)
SCHEMAS = ["staging", "intermediate", "marts", "restricted"]


def _written(pg) -> dict[str, int]:
    import psycopg

    time.sleep(1.5)  # the statistics of the build's sessions are flushed within a second
    with psycopg.connect(pg.url()) as conn:
        return dict(
            conn.execute(
                "select relname, n_tup_ins + n_tup_del from pg_stat_user_tables"
                " where schemaname = any(%s)",
                [SCHEMAS],
            ).fetchall()
        )


def _timed_build(pg, project_dir: Path) -> dict:
    from cchc.transform.dbt import run_dbt

    before = _written(pg)
    started = time.perf_counter()
    run_dbt(["build", "--exclude", "test_type:unit"], pg, project_dir=project_dir)
    seconds = time.perf_counter() - started
    after = _written(pg)
    rows = {name: after[name] - before.get(name, 0) for name in after}
    rows = {name: count for name, count in sorted(rows.items()) if count}
    return {"seconds": round(seconds, 1), "rows_written": sum(rows.values()), "by_table": rows,
            "load_average": os.getloadavg()[0]}  # fmt: skip


def run_variant(
    name: str, project_dir: Path, server, settings, store: Path, keep: bool = False
) -> dict:
    import psycopg

    from bench.dbt_build import load_span
    from cchc.security.roles import bootstrap_roles
    from cchc.simulators.server import SimulatorProcess
    from cchc.transform.dbt import run_dbt

    dbname = f"bench_nightly_{name}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {dbname} with (force)")
        conn.execute(f"create database {dbname}")
    pg = dataclasses.replace(server, dbname=dbname)
    config = dataclasses.replace(settings, warehouse_url=pg.url())
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        bootstrap_roles(conn, pii_salt="bench-salt-0123456789abcdef")
    with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
        load_span(config, date(1990, 1, 1), NIGHT, monthly=False)
        load_span(config, START, NIGHT, monthly=True)
        run_dbt(["build", "--full-refresh", "--exclude", "test_type:unit"], pg,
                project_dir=project_dir)  # fmt: skip
        load_span(config, NIGHT, NIGHT + timedelta(days=1), monthly=False)
    normal = _timed_build(pg, project_dir)
    quiet = _timed_build(pg, project_dir)
    with psycopg.connect(pg.url()) as conn:
        held = conn.execute(
            "select sum(n_live_tup)::bigint from pg_stat_user_tables where schemaname = any(%s)",
            [SCHEMAS],
        ).fetchone()[0]
    if not keep:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute(f"drop database {dbname} with (force)")
    return {"normal_night": normal, "quiet_night": quiet, "rows_held": held}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.01, help="province size (1.0 = large)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--baseline", type=Path, help="another copy of the dbt project")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse and its server")
    args = parser.parse_args()
    work, temporary = data_folder()
    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.synthetic import generate
    from cchc.transform.dbt import PROJECT_DIR

    settings = load_settings()
    variants = {"baseline": args.baseline} if args.baseline else {}
    variants["ours"] = PROJECT_DIR
    results = {"scale": args.scale, "seed": args.seed, "night": NIGHT.isoformat(),
               "history_from": START.isoformat(), "variants": {}}  # fmt: skip
    try:
        store = generate(work / "sim-nightly", START, NIGHT + timedelta(days=1), seed=args.seed,
                         scale=args.scale)  # fmt: skip
        server = warehouse.params(settings)
        for name, project_dir in variants.items():
            keep = args.keep and name == "ours"
            results["variants"][name] = run_variant(
                name, project_dir, server, settings, store, keep=keep
            )
        if args.keep:
            print(f"kept: {dataclasses.replace(server, dbname='bench_nightly_ours').url()}")
    finally:
        if not args.keep:
            warehouse.stop_embedded(settings)
        if temporary and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "nightly_rows.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"scale {args.scale}, history {START} to the night of {NIGHT}")
    for name, variant in results["variants"].items():
        for night in ("normal_night", "quiet_night"):
            n = variant[night]
            print(f"{name:9} {night:13} {n['seconds']:7.1f} s  {n['rows_written']:>9,} rows written"
                  f" of {variant['rows_held']:,} held  (load average {n['load_average']:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
