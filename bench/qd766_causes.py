"""`python -m bench.qd766_causes [--scale S]`: how much of the 766 differences between the
portal's scores and ours the named causes explain, on a generated quarter with errors on.

Generates Q2/2025 (and the days up to the portal's snapshot of June, 5 July: the month the
units merged), serves it through the simulator, loads it into a fresh warehouse night by
night up to each snapshot day (so the warehouse holds each record as it stood on the
portal's snapshot, as nightly loads do), builds it with dbt (every difference broken down
in marts.mart_qd766_reconciliation_causes, checked against `cchc.qd766.causes`) and prints,
per component, the residual's share of the absolute difference. Written to
bench/results/qd766_causes.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
from datetime import date
from pathlib import Path

from bench import data_folder

RESULTS = Path(__file__).with_name("results")
START, END = date(2025, 4, 1), date(2025, 7, 1)  # the quarter reconciled
HORIZON = date(2025, 7, 10)  # the data's end: after June's snapshot (5 July)
TARGET = 0.10


def load_nightly(config, start: date, horizon: date) -> None:
    """Every source entity, in windows that end on each portal snapshot day (and at the
    horizon); the portal's monthly evaluations once, at the horizon."""
    from cchc.extract.run import extract_windows
    from cchc.extract.window import Window, local_midnight
    from cchc.qd766.portal_rule import next_month, snapshot_at

    cuts, month = [], start.replace(day=1)
    while snapshot_at(month).date() < horizon:
        cuts.append(snapshot_at(month).date())
        month = next_month(month)
    bounds = [local_midnight(day) for day in (date(1990, 1, 1), *cuts, horizon)]
    extract_windows(config, [Window(a, b) for a, b in zip(bounds, bounds[1:], strict=False)])
    extract_windows(config, [Window(local_midnight(start), bounds[-1])], kind="monthly")


def measure(pg_url: str, province: str, start: date = START, end: date = END) -> dict:
    """Per component, from marts.mart_qd766_reconciliation_causes (what BI and the export
    read); `python_cells_differing` counts the cells where cchc.qd766.causes (the same steps
    in Python) disagrees with the mart (0 expected)."""
    import psycopg

    from cchc.qd766.causes import CAUSES, build_steps, decompose
    from cchc.qd766.causes_source import from_warehouse, ours_from_warehouse

    shares_sql = ", ".join(f"{c}_points" for c in CAUSES)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            f"select scope_code, period_start, component_code, difference, {shares_sql}"
            " from marts.mart_qd766_reconciliation_causes where province_code = %s"
            " and has_portal_rule and period_start >= %s and period_start < %s",
            (province, start, end),
        ).fetchall()
        inputs = from_warehouse(conn, province, start, end)
        ours = ours_from_warehouse(conn, province, start, end)
    steps = build_steps(inputs.dossiers, inputs.petitions, inputs.snapshot_of(), inputs.unit_on)
    python = {(c.agency, c.month, c.component): [c.shares[k] for k in CAUSES]
              for c in decompose(steps, ours, inputs.official)}  # fmt: skip
    shares: dict[str, dict] = {}
    for code, month, component, difference, *by_cause in rows:
        s = shares.setdefault(component, {"cells": 0, "cells_differing": 0, "abs_difference": 0.0,
                                          "abs_residual": 0.0, "python_cells_differing": 0,
                                          "net_by_cause": dict.fromkeys(CAUSES, 0.0)})  # fmt: skip
        s["cells"] += 1
        s["cells_differing"] += int(difference != 0)
        s["abs_difference"] += float(abs(difference))
        s["abs_residual"] += float(abs(by_cause[-1]))
        s["python_cells_differing"] += int(python.get((code, month, component)) != by_cause)
        for cause, value in zip(CAUSES, by_cause, strict=True):
            s["net_by_cause"][cause] += float(value)
    for s in shares.values():
        s["residual_share"] = (
            s["abs_residual"] / s["abs_difference"] if s["abs_difference"] else 0.0
        )
        s["net_by_cause"] = {k: round(v, 2) for k, v in s["net_by_cause"].items()}
    return dict(sorted(shares.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.005, help="province size (1.0 = large)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    work, temporary = data_folder()
    import psycopg

    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.security.roles import bootstrap_roles
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate
    from cchc.transform.dbt import dbt_build

    settings = load_settings()
    store = generate(work / "sim-causes", START, HORIZON, seed=args.seed, scale=args.scale)
    server = warehouse.params(settings)
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("drop database if exists bench_causes with (force)")
            conn.execute("create database bench_causes")
        pg = dataclasses.replace(server, dbname="bench_causes")
        config = dataclasses.replace(settings, warehouse_url=pg.url())
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            bootstrap_roles(conn, pii_salt="bench-salt-0123456789abcdef")
        with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
            load_nightly(config, START, HORIZON)
        dbt_build(pg, full_refresh=True)
        shares = measure(pg.url(), settings.province_code)
    finally:
        warehouse.stop_embedded(settings)
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    results = {"scale": args.scale, "seed": args.seed, "quarter": "2025Q2",
               "horizon": HORIZON.isoformat(), "load_average": os.getloadavg(),
               "components": shares}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "qd766_causes.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"Q2/2025, scale {args.scale}, seed {args.seed}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"{'component':36} {'cells':>6} {'differ':>6} {'|diff|':>9} {'|resid|':>9} {'share':>6}"
          "  python≠mart")  # fmt: skip
    for component, s in shares.items():
        verdict = "ok" if s["residual_share"] <= TARGET else "OVER TARGET"
        print(f"{component:36} {s['cells']:>6} {s['cells_differing']:>6} "
              f"{s['abs_difference']:>9.2f} {s['abs_residual']:>9.2f} "
              f"{s['residual_share']:>6.1%}  {s['python_cells_differing']:>3}  {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
