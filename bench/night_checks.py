"""`python -m bench.night_checks [--scale S] [--history-days N]`: one night's raw data-quality
checks, examining the night's records (a night check) against a full check of the same
warehouse, and both against plain SQL of the same rules: the physical limit.

A province is generated (or `--store` reused), its history up to the night loaded through the
simulator into a fresh embedded warehouse, checked in full once (a first deployment's check),
then one night is extracted and measured, in this order, on the same data:

- plain SQL of every rule on the night's records (the rules' queries restricted to the scope a
  night check computes, run over psycopg: no GX);
- the night check through GX (`run_checks(mode="night")`);
- the full check through GX (`run_checks(mode="full")`), then plain SQL of every rule on every
  record (the previous way, and its limit).

Both checks give the same flags (`tests/quality/test_night_checks.py`). Printed with the load
average; written to bench/results/night_checks.json. Ports: CCHC_PG_PORT_EMBEDDED (default
55497), CCHC_SIM_PORT (default 8897).
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

RESULTS = Path(__file__).with_name("results")


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - started, value


def _plain_rules(pg, suites: list[dict], night_run: str | None) -> tuple[int, dict[str, int]]:
    """Every rule as plain SQL; with `night_run`, restricted to the scope a night check would
    examine (computed here as the night check computes it, then discarded)."""
    import psycopg

    from cchc.quality import night

    examined: dict[str, int] = {}
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        for suite in suites:
            scope = None
            if night_run is not None and suite["night_scope"]:
                tables = sorted({suite["table"], *night.tables_of(*suite["queries"])})
                current = night.current_watermarks(conn, suite["suite"], tables)
                saved = night.saved_watermarks(conn, suite["suite"])
                query = night.night_query(
                    night.unescape(suite["night_scope"]), suite["suite"], suite["table"],
                    current, saved,
                )  # fmt: skip
                scope = night.prepare_scope(conn, night_run, suite["suite"], suite["table"], query)
                examined[suite["suite"]] = scope.records
            for rule in suite["rules"]:
                conn.execute(night.unescape(night.render(rule["query"], suite["table"], scope)))
            if suite["scope"]:
                conn.execute(night.unescape(night.render(suite["scope"], suite["table"], scope)))
        if night_run is not None:
            night.drop_scope(conn, night_run)
    return sum(examined.values()), examined


def _suites(project: Path) -> list[dict]:
    from bench.quality import _suites as rules_of

    out = []
    for suite in rules_of(project):
        meta = json.loads((project / "expectations" / f"{suite['suite']}.json").read_text())["meta"]
        queries = [meta.get("night_scope_query"), meta.get("scope_query"),
                   meta.get("pending_query"), *(r["query"] for r in suite["rules"])]  # fmt: skip
        out.append({**suite, "night_scope": meta.get("night_scope_query"), "queries": queries})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--history-days", type=int, default=14)
    parser.add_argument("--night", type=date.fromisoformat, default=date(2024, 3, 14))
    parser.add_argument("--store", type=Path, help="an existing generated store to serve")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cchc-bench-night-checks-"))
    os.environ.update({"CCHC_DATA_DIR": str(work / "data"),
                       "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_PG_PORT_EMBEDDED", "55497"),
                       "CCHC_SIM_PORT": os.environ.get("CCHC_SIM_PORT", "8897"),
                       "GX_ANALYTICS_ENABLED": "False", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"})  # fmt: skip
    os.environ.pop("CCHC_WAREHOUSE_URL", None)

    import psycopg

    from cchc import warehouse
    from cchc.config import REPO_ROOT, load_settings
    from cchc.extract.run import extract, load_history
    from cchc.extract.window import local_midnight
    from cchc.quality import run_checks
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate
    from cchc.transform.dbt import run_dbt

    settings = load_settings()
    pg = warehouse.params(settings)
    first = args.night - timedelta(days=args.history_days)
    results: dict = {
        "scale": args.scale,
        "history_days": args.history_days,
        "night": str(args.night),
    }
    try:
        store = args.store or generate(
            work / "sim", first, args.night + timedelta(days=2), seed=42, scale=args.scale
        )
        project = work / "expectations"
        shutil.copytree(
            REPO_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted")
        )
        suites = _suites(project)
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            warehouse.bootstrap(conn, settings)
        with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
            results["initial_load_s"], _ = _timed(load_history, args.night, settings)
            run_dbt(["seed", "--select", "vn_public_holidays"], pg)
            results["first_full_check_s"], _ = _timed(
                run_checks, pg, "bench-first", stage="raw", project_dir=project, mode="full"
            )
            start = local_midnight(args.night) + timedelta(hours=1)
            results["extract_night_s"], batches = _timed(
                extract, start, start + timedelta(days=1), settings=settings
            )
        results["night_versions"] = sum(b.loaded for b in batches)
        with psycopg.connect(pg.url()) as conn:
            results["dossiers"] = conn.execute(
                "select count(distinct record_key) from raw.onestop__dossiers"
            ).fetchone()[0]
            results["raw_versions"] = sum(
                conn.execute(f"select count(*) from {s['table']}").fetchone()[0] for s in suites
            )
        results["plain_sql_night_s"], (examined, by_suite) = _timed(
            _plain_rules, pg, suites, "bench-plain-night"
        )
        results["examined"] = by_suite
        results["load_average_before"] = os.getloadavg()[0]
        seconds, summary = _timed(
            run_checks, pg, "bench-night", stage="raw", project_dir=project, mode="night"
        )
        results["night_check_s"] = seconds
        results["night_check_phases"] = summary.phase_seconds
        results["night_check_examined"] = summary.examined
        seconds, full = _timed(
            run_checks, pg, "bench-full", stage="raw", project_dir=project, mode="full"
        )
        results["full_check_s"] = seconds
        results["full_check_phases"] = full.phase_seconds
        results["plain_sql_full_s"], _ = _timed(_plain_rules, pg, suites, None)
        results["load_average_after"] = os.getloadavg()[0]
        results["same_flags"] = {r.rule_id: set(r.records) for r in summary.rules} == {
            r.rule_id: set(r.records) for r in full.rules
        }
    finally:
        warehouse.stop_embedded(settings)
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "night_checks.json").write_text(json.dumps(results, indent=2, default=str))
    r = results
    print(f"scale {r['scale']}, {r['history_days']} days of history before the night of"
          f" {r['night']}: {r['dossiers']:,} dossiers, {r['raw_versions']:,} raw versions;"
          f" the night loaded {r['night_versions']:,} versions in {r['extract_night_s']:.1f}s")  # fmt: skip
    print(f"load average {r['load_average_before']:.2f} .. {r['load_average_after']:.2f}")
    print(f"{'':44} {'seconds':>8}")
    for label, key in (("night check (GX, the night's records)", "night_check_s"),
                       ("plain SQL, same rules, the night's records", "plain_sql_night_s"),
                       ("full check (GX, every record)", "full_check_s"),
                       ("plain SQL, same rules, every record", "plain_sql_full_s")):  # fmt: skip
        print(f"{label:44} {r[key]:8.2f}")
    print(f"night check ÷ full check: {r['night_check_s'] / r['full_check_s']:.2f};"
          f" night check ÷ its limit (plain SQL of the night): "
          f"{r['night_check_s'] / r['plain_sql_night_s']:.2f};"
          f" records examined {sum(r['examined'].values()):,}; same flags: {r['same_flags']}")  # fmt: skip
    print(f"night check by phase: {r['night_check_phases']}")


if __name__ == "__main__":
    main()
