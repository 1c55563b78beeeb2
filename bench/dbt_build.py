"""`python -m bench.dbt_build [--scale S] [--days N] [--history-months M]`: dbt build times.

1. Full build: a generated province (scale S, N days) loaded and built from scratch with
   `dbt build --full-refresh`; extrapolated linearly by dossier count to a province-year at
   scale 1.0 (a large province, ~2 million dossiers).
2. Nightly incremental build, 1 month vs M months of history: two warehouses get the same
   history before the last night (the second one inflated to M months by copying the raw
   record versions of the records that have ended under other keys, every date dated back by
   whole months, so they never count as changed and fall in earlier periods), a full build,
   then the last night's records and the nightly `dbt build`, timed.
   Also timed alone: the incremental facts (fct_dossiers, fct_handling_steps).
Figures are printed and written to bench/results/dbt_build.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
PROVINCE_YEAR_DOSSIERS = 2_000_000  # domain.md §5: a large province


def load_span(settings, since: date, until: date, monthly: bool) -> None:
    """The windowed entities (or the monthly ones) for one window [since, until)."""
    from cchc.extract.run import extract_windows
    from cchc.extract.window import Window, local_midnight

    window = Window(local_midnight(since), local_midnight(until))
    extract_windows(settings, [window], kind="monthly" if monthly else "window")


# Every yyyyMMddHHmmss date of a payload shifted back by whole months (a value that is no
# real date, e.g. an injected error, is left as it is).
_SHIFT_FUNCTIONS = r"""
create or replace function pg_temp.shift_stamp(stamp text, months int) returns text
language plpgsql immutable strict as $$
begin
    return to_char(to_timestamp(stamp, 'YYYYMMDDHH24MISS') - make_interval(months => months),
                   'YYYYMMDDHH24MISS');
exception when others then
    return stamp;
end $$;
create or replace function pg_temp.shift_payload(payload jsonb, months int) returns jsonb
language sql immutable as $$
    select string_agg(
        piece.text || coalesce('"' || pg_temp.shift_stamp(stamp.match[1], months) || '"', ''),
        '' order by piece.n
    )::jsonb
    from regexp_split_to_table(payload::text, '"\d{14}"') with ordinality as piece (text, n)
    left join regexp_matches(payload::text, '"(\d{14})"', 'g') with ordinality as stamp (match, n)
        on stamp.n = piece.n
$$;
"""
# Records still open at the end of the generated month (received dossiers without an end,
# incoming documents not completed) are not copied: history is what has ended, and a copy
# dated back years would be a backlog open for years, judged anew every night.
_STILL_OPEN = {
    "dossiers": "coalesce(payload ->> 'NgayTiepNhan', '') <> ''"
    " and coalesce(payload ->> 'NgayKetThucXuLy', '') = ''"
    " and coalesce(payload ->> 'NgayTra', '') = '' and coalesce(payload ->> 'NgayTuChoi', '') = ''",
    "incoming_documents": "coalesce(payload ->> 'NgayHoanThanh', '') = ''",
}


def _inflate(pg, months: int) -> int:
    """Copy the raw record versions (months - 1) times under other keys of the same province,
    every date dated back by whole months (copy n by n + 1 months: record_updated_at,
    extracted_at, windows and every date in the payload), dossier references (MaHoSo,
    MaHoSoLienQuan) renamed like the keys: the volume of a longer history, never seen as
    changed by a nightly run. Records still open at the end of the month are not copied."""
    import psycopg

    from cchc.extract.entities import ENTITIES

    copied = 0
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(_SHIFT_FUNCTIONS)
        for entity in ENTITIES:
            if entity.kind == "monthly" or entity.name in ("administrative_units", "procedures"):
                continue
            still_open = _STILL_OPEN.get(entity.name, "false")
            cursor = conn.execute(
                f"""
                with latest as (
                    select distinct on (province_code, record_key)
                        province_code, record_key, ({still_open}) as is_open
                    from {entity.table}
                    order by province_code, record_key, record_updated_at desc nulls last,
                        extracted_at desc, payload_hash desc
                )
                insert into {entity.table} (batch_id, province_code, source, entity,
                    window_start, window_end, extracted_at, record_key, record_updated_at,
                    payload_hash, payload)
                select
                    versions.batch_id, versions.province_code, versions.source, versions.entity,
                    versions.window_start - shift.months, versions.window_end - shift.months,
                    versions.extracted_at - shift.months,
                    shift.prefix || versions.record_key,
                    versions.record_updated_at - shift.months,
                    versions.payload_hash,
                    pg_temp.shift_payload(versions.payload, shift.copy + 1)
                        || jsonb_strip_nulls(jsonb_build_object(
                            'MaHoSo', shift.prefix || nullif(versions.payload ->> 'MaHoSo', ''),
                            'MaHoSoLienQuan',
                            shift.prefix || nullif(versions.payload ->> 'MaHoSoLienQuan', '')))
                from {entity.table} as versions
                inner join latest using (province_code, record_key)
                cross join lateral (
                    select copy, 'H' || copy || '-' as prefix,
                        make_interval(months => copy + 1) as months
                    from generate_series(1, %s) as copy
                ) as shift
                where not latest.is_open
                """,
                (months - 1,),
            )
            copied += cursor.rowcount
        conn.execute("analyze")
    return copied


# The data-quality marts read Great Expectations' results (schema dq), which this benchmark
# does not produce.
EXCLUDE = ["--exclude", "path:models/marts/quality"]


def _timed_build(pg, args: list[str]) -> tuple[float, int]:
    from cchc.transform.dbt import run_dbt

    started = time.perf_counter()
    nodes = run_dbt([*args, *EXCLUDE], pg)
    return time.perf_counter() - started, len(nodes)


def _count(pg, sql: str) -> int:
    import psycopg

    with psycopg.connect(pg.url()) as conn:
        return conn.execute(sql).fetchone()[0]


def summarize(results: dict) -> dict:
    """Extrapolation and ratios. The full build's cost is fitted as fixed + per-dossier from
    the two measured builds (1 month and the long history), then taken to a province-year."""
    short, long = results["one_month"], results["long_history"]
    per_dossier = (long["full_build_seconds"] - short["full_build_seconds"]) / max(
        long["dossiers"] - short["dossiers"], 1
    )
    fixed = max(short["full_build_seconds"] - per_dossier * short["dossiers"], 0.0)
    results["full_build_seconds_per_1000_dossiers"] = round(per_dossier * 1000, 3)
    results["full_build_province_year_seconds_extrapolated"] = round(
        fixed + per_dossier * PROVINCE_YEAR_DOSSIERS, 0
    )
    results["nightly_ratio"] = round(
        long["nightly_build_seconds"] / short["nightly_build_seconds"], 2
    )
    results["nightly_facts_ratio"] = round(
        long["nightly_facts_seconds"] / short["nightly_facts_seconds"], 2
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.02, help="province size (1.0 = large)")
    parser.add_argument("--days", type=int, default=31, help="days of history generated")
    parser.add_argument("--history-months", type=int, default=36, help="long history, months")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cchc-bench-dbt-"))
    os.environ.update({"CCHC_DATA_DIR": str(work / "data"),
                       "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_BENCH_PG_PORT", "54341"),
                       "CCHC_SIM_PORT": os.environ.get("CCHC_BENCH_SIM_PORT", "8791")})  # fmt: skip
    import psycopg

    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.security.roles import bootstrap_roles
    from cchc.simulators.server import SimulatorProcess
    from cchc.synthetic import generate

    settings = load_settings()
    start = date(2024, 3, 1)
    last_night = start + timedelta(days=args.days)
    results: dict = {"scale": args.scale, "days": args.days, "history_months": args.history_months}
    started = time.perf_counter()
    store = generate(work / "sim", start, last_night + timedelta(days=1), scale=args.scale)
    results["generate_seconds"] = round(time.perf_counter() - started, 2)
    server = warehouse.params(settings)
    try:
        with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
            for name in ("one_month", "long_history"):
                with psycopg.connect(server.url(), autocommit=True) as conn:
                    conn.execute(f"drop database if exists bench_{name} with (force)")
                    conn.execute(f"create database bench_{name}")
                pg = dataclasses.replace(server, dbname=f"bench_{name}")
                config = dataclasses.replace(settings, warehouse_url=pg.url())
                with psycopg.connect(pg.url(), autocommit=True) as conn:
                    bootstrap_roles(conn, pii_salt="bench-salt-0123456789abcdef")
                load_span(config, date(1990, 1, 1), last_night, monthly=False)
                load_span(config, start, last_night, monthly=True)
                if name == "long_history":
                    results["inflated_versions"] = _inflate(pg, args.history_months)
                seconds, nodes = _timed_build(pg, ["build", "--full-refresh"])
                dossiers = _count(pg, "select count(*) from marts.fct_dossiers")
                results[name] = {"full_build_seconds": round(seconds, 2), "nodes": nodes,
                                 "dossiers": dossiers}  # fmt: skip
                load_span(config, last_night, last_night + timedelta(days=1), monthly=False)
                seconds, _ = _timed_build(pg, ["build"])
                results[name]["nightly_build_seconds"] = round(seconds, 2)
                load_span(config, last_night, last_night + timedelta(days=1), monthly=False)
                seconds, _ = _timed_build(pg, ["build", "-s", "fct_dossiers", "fct_handling_steps"])
                results[name]["nightly_facts_seconds"] = round(seconds, 2)
    finally:
        warehouse.stop_embedded(settings)

    summarize(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dbt_build.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"generated {args.days} days at scale {args.scale} in {results['generate_seconds']} s")
    for name, label in (
        ("one_month", "1 month"),
        ("long_history", f"{args.history_months} months"),
    ):
        r = results[name]
        print(f"{label:>10} of history: {r['dossiers']:>9,} dossiers, full build "
              f"{r['full_build_seconds']:7.1f} s, nightly build {r['nightly_build_seconds']:6.1f} s, "
              f"nightly incremental facts {r['nightly_facts_seconds']:5.1f} s")  # fmt: skip
    print(f"full build of a province-year (~{PROVINCE_YEAR_DOSSIERS:,} dossiers), extrapolated "
          f"linearly ({results['full_build_seconds_per_1000_dossiers']} s per 1,000 dossiers): "
          f"{results['full_build_province_year_seconds_extrapolated']:,.0f} s")  # fmt: skip
    print(f"nightly build, {args.history_months} months vs 1 month of history: "
          f"{results['nightly_ratio']}x (facts alone: {results['nightly_facts_ratio']}x; target <= 1.5x)")  # fmt: skip


if __name__ == "__main__":
    main()
