"""`python -m bench.warning_seeds load|replay|report`: the early warning on several seeds.

`load --seed S`: generates the province (1 August 2023 – 31 August 2024 at --scale), serves
it, loads it into its own database of the embedded warehouse (`bench_warning_s<S>`) and
builds it with dbt, as a night does. `replay --seed S`: replays the nights of each period
(Q2/2024, July 2024) with the model as it stands and keeps every dossier-night and outcome
in `<data dir>/warning-replays/s<S>-<period>.pickle`. `report`: chooses the rule's
thresholds on the chosen seed's Q2 only (`cchc.warning.choose`), then scores every saved
replay with them, the naive rule for several N and the ceiling, and writes
bench/results/warning_seeds.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
from datetime import date, timedelta
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
START, END = date(2023, 8, 1), date(2024, 9, 1)
PERIODS = {
    "q2": (date(2024, 4, 1), date(2024, 6, 30)),
    "jul": (date(2024, 7, 1), date(2024, 7, 31)),
}
CHOSEN_ON = (42, "q2")  # the only replay the thresholds are chosen on
NAIVE_DAYS = (1, 2, 3, 5)


def _database(seed: int) -> str:
    return f"bench_warning_s{seed}"


def _pg(settings, seed: int):
    from cchc import warehouse

    return dataclasses.replace(warehouse.params(settings), dbname=_database(seed))


def load(settings, seed: int, scale: float) -> None:
    import psycopg

    from cchc import warehouse
    from cchc.extract.run import extract_windows
    from cchc.extract.window import Window, local_midnight
    from cchc.security.roles import bootstrap_roles
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate
    from cchc.transform.dbt import dbt_build

    # with the realistic data-entry errors, as `cchc simulate generate` makes them
    store = generate(settings.data_dir / f"sim-s{seed}", START, END, seed=seed, scale=scale)
    server = warehouse.params(settings)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {_database(seed)} with (force)")
        conn.execute(f"create database {_database(seed)}")
    pg = _pg(settings, seed)
    config = dataclasses.replace(settings, warehouse_url=pg.url())
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        bootstrap_roles(conn, pii_salt="bench-salt-0123456789abcdef")
    end = local_midnight(END) + timedelta(hours=1)
    with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
        extract_windows(config, [Window(local_midnight(date(1990, 1, 1)), end)])
        extract_windows(config, [Window(local_midnight(START), end)], kind="monthly")
    dbt_build(pg, full_refresh=True, unit_tests=False)


def replay(settings, seed: int) -> None:
    from cchc.warning.replay import build_replay, read_replay

    pg = _pg(settings, seed)
    out = settings.data_dir / "warning-replays"
    out.mkdir(exist_ok=True)
    for period, (first, last) in PERIODS.items():
        build_replay(pg, first, last)
        nights, outcomes, data_end = read_replay(pg)
        (out / f"s{seed}-{period}.pickle").write_bytes(
            pickle.dumps(
                {
                    "nights": nights,
                    "outcomes": outcomes,
                    "data_end": data_end,
                    "first": first,
                    "last": last,
                }
            )  # fmt: skip
        )


def report(settings) -> dict:
    from cchc.warning.choose import choose_rule
    from cchc.warning.compare import compare

    replays = {}
    for path in sorted((settings.data_dir / "warning-replays").glob("s*-*.pickle")):
        seed, period = path.stem[1:].split("-")
        replays[(int(seed), period)] = pickle.loads(path.read_bytes())
    chosen = replays[CHOSEN_ON]
    rule = choose_rule(chosen["nights"], chosen["outcomes"], chosen["last"], chosen["data_end"])
    results = {"rule": dataclasses.asdict(rule), "chosen_on": f"seed {CHOSEN_ON[0]}, {CHOSEN_ON[1]}",
               "load_average": os.getloadavg(), "replays": {}}  # fmt: skip
    for (seed, period), data in sorted(replays.items()):
        comparison = compare(
            rule, data["nights"], data["outcomes"], data["last"], data["data_end"], NAIVE_DAYS
        )
        results["replays"][f"s{seed}-{period}"] = comparison.as_dict()
        print(f"--- seed {seed}, {period} ---")
        print(comparison.text())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "warning_seeds.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=("load", "replay", "report"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=0.01)
    args = parser.parse_args()
    os.environ.setdefault("CCHC_PG_DURABILITY", "fast")
    from cchc.config import load_settings

    settings = load_settings()
    if args.step == "load":
        load(settings, args.seed, args.scale)
    elif args.step == "replay":
        replay(settings, args.seed)
    else:
        report(settings)


if __name__ == "__main__":
    main()
