"""`python -m bench.quality [--scale S] [--months N]`: validation time of every raw-stage suite
(the `cchc_raw` checkpoint) on a generated province, against plain SQL computing the same rules
in the same run, extrapolated to a province-year; then per-rule precision and recall against
the generator's ground truth.

A measured fraction of a province-year (default: scale 0.05 over 2 months) is generated with
the default (realistic) error rates, served by the simulator, loaded into a fresh embedded
warehouse in its own data folder, and checked. The checkpoint's time includes importing GX, as
an Airflow task pays it; a second run in the same process shows the cost without it. Figures
and the time by phase are printed and written to bench/results/quality.json. Ports:
CCHC_PG_PORT_EMBEDDED (default 55493), CCHC_SIM_PORT (default 8893).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

START = date(2024, 1, 1)
# The plain-SQL side runs each rule's query for its failing records (province_code, record_key:
# the rules are province-aware) and each suite's scope query, which is what the runner needs
# from GX: the ratio is GX's overhead for the same answers.
TARGET_RATIO = 3.0
RESULTS = Path(__file__).with_name("results")


def _phases(phases: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in phases.items())


def _plain_sql(pg, suites: list[dict]) -> tuple[float, dict[str, int]]:
    import psycopg

    from cchc.quality.night import render, unescape

    found: dict[str, int] = {}
    started = time.perf_counter()
    with psycopg.connect(pg.url()) as conn:
        for suite in suites:
            table = suite["table"]
            for rule in suite["rules"]:
                cur = conn.execute(unescape(render(rule["query"], table)))
                province = [c.name for c in cur.description].index("province_code", 1)
                rows = cur.fetchall()
                found[rule["rule_id"]] = len(
                    {(r[province], r[0]) for r in rows if r[0] is not None and r[province]}
                )
            if suite["scope"]:
                conn.execute(unescape(render(suite["scope"], table))).fetchall()
    return time.perf_counter() - started, found


def _suites(project: Path) -> list[dict]:
    checkpoint = json.loads((project / "checkpoints" / "cchc_raw.json").read_text("utf-8"))
    out = []
    for ref in checkpoint["validation_definitions"]:
        name = ref["name"]
        definition = json.loads(
            (project / "validation_definitions" / f"{name}.json").read_text("utf-8")
        )
        suite = json.loads(
            (project / "expectations" / f"{definition['suite']['name']}.json").read_text("utf-8")
        )
        asset = "raw." + definition["data"]["asset"]["name"]  # the raw stage reads raw only
        out.append(
            {
                "suite": suite["name"],
                "table": asset,
                "scope": suite["meta"].get("scope_query"),
                "rules": [
                    {"rule_id": e["meta"]["rule_id"], "query": e["kwargs"]["unexpected_rows_query"]}
                    for e in suite["expectations"]
                ],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cchc-bench-quality-"))
    os.environ.update(
        {
            "CCHC_DATA_DIR": str(work / "data"),
            "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_PG_PORT_EMBEDDED", "55493"),
            "CCHC_SIM_PORT": os.environ.get("CCHC_SIM_PORT", "8893"),
            "GX_ANALYTICS_ENABLED": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
    )
    os.environ.pop("CCHC_WAREHOUSE_URL", None)

    import psycopg

    from cchc import warehouse
    from cchc.config import REPO_ROOT, load_settings
    from cchc.extract.run import load_history
    from cchc.quality import run_checks
    from cchc.quality.cli import HEURISTIC_RULES, THRESHOLD, latest_flags, read_truth, score
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate
    from cchc.transform.dbt import run_dbt

    settings = load_settings()
    end = START
    for _ in range(args.months):
        end = (end.replace(day=28) + timedelta(days=4)).replace(day=1)
    pg = warehouse.params(settings)
    try:
        t0 = time.perf_counter()
        store = generate(work / "sim", START, end, seed=args.seed, scale=args.scale)
        generated = time.perf_counter() - t0
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            warehouse.bootstrap(conn, settings)
        t0 = time.perf_counter()
        with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
            load_history(end, settings)
        loaded = time.perf_counter() - t0
        run_dbt(["seed", "--select", "vn_public_holidays"], pg)

        project = work / "expectations"
        shutil.copytree(
            REPO_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted")
        )
        suites = _suites(project)
        with psycopg.connect(pg.url()) as conn:
            dossiers = conn.execute(
                "select count(distinct record_key) from raw.onestop__dossiers"
            ).fetchone()[0]
        _plain_sql(pg, suites)  # warm the cache for both sides
        t0 = time.perf_counter()
        summary = run_checks(pg, "bench", stage="raw", project_dir=project)
        gx_seconds = time.perf_counter() - t0
        sql_seconds, sql_found = _plain_sql(pg, suites)
        gx_found = {r.rule_id: len(r.records) for r in summary.rules}
        # Again in the same process: GX already imported, this run's results already stored.
        t0 = time.perf_counter()
        again = run_checks(pg, "bench-again", stage="raw", project_dir=project)
        gx_again = time.perf_counter() - t0

        factor = (12 / args.months) / args.scale
        ratio = gx_seconds / sql_seconds
        rules = sum(len(s["rules"]) for s in suites)
        print(f"province fraction: scale {args.scale}, {START} .. {end} ({args.months} months),"
              f" {dossiers} dossiers; generated in {generated:.1f}s, loaded in {loaded:.1f}s")  # fmt: skip
        print(f"{len(suites)} suites, {rules} rules (checkpoint cchc_raw)")
        print(f"GX checkpoint (validate, flags, dq writes, Data Docs): {gx_seconds:8.2f}s")
        print(f"  by phase: {_phases(summary.phase_seconds)}")
        print(f"plain SQL, same rules and scope queries:               {sql_seconds:8.2f}s")
        print(f"GX again, same process (GX imported):                  {gx_again:8.2f}s")
        print(f"  by phase: {_phases(again.phase_seconds)}")
        print(f"ratio GX / SQL: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x)"
              f" {'OK' if ratio <= TARGET_RATIO else 'ABOVE TARGET'}")  # fmt: skip
        print(f"province-year (x{factor:.0f}, linear): GX ~{gx_seconds * factor / 60:.1f} min,"
              f" SQL ~{sql_seconds * factor / 60:.1f} min")  # fmt: skip
        mismatched = sorted(r for r in sql_found if sql_found[r] != gx_found.get(r))
        print(f"same failing keys from both sides: {mismatched or 'yes'}")
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "quality.json").write_text(
            json.dumps(
                {
                    "scale": args.scale,
                    "months": args.months,
                    "dossiers": dossiers,
                    "suites": len(suites),
                    "rules": rules,
                    "gx_seconds": round(gx_seconds, 2),
                    "gx_phase_seconds": summary.phase_seconds,
                    "sql_seconds": round(sql_seconds, 2),
                    "ratio": round(ratio, 2),
                    "gx_again_seconds": round(gx_again, 2),
                    "gx_again_phase_seconds": again.phase_seconds,
                    "same_failing_keys": not mismatched,
                },
                indent=2,
            )
        )

        with psycopg.connect(pg.url()) as conn:
            scores = score(
                read_truth(store.parent / "truth"), latest_flags(conn, settings.province_code)
            )
        print(f"\n{'rule':34} {'kind':13} {'flagged':>8} {'truth':>6} {'prec':>6} {'recall':>6}")
        for s in scores:
            kind = "heuristic" if s.rule_id in HEURISTIC_RULES else "deterministic"
            low = kind == "deterministic" and min(s.precision, s.recall) < THRESHOLD
            print(f"{s.rule_id:34} {kind:13} {s.flagged:8d} {s.truth:6d} {s.precision:6.3f}"
                  f" {s.recall:6.3f}{'  < ' + str(THRESHOLD) if low else ''}")  # fmt: skip
    finally:
        warehouse.stop_embedded(settings)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
