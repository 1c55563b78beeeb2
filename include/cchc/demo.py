"""`make demo`: the nightly pipeline end to end, through real Airflow, on the embedded warehouse.

Starts the warehouse, generates the synthetic province, serves it with the simulators, runs
the nightly DAG once per night, then prints what was built and where the files are. Running
it again reuses the warehouse and replaces each night's batches, so nothing is duplicated.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

from rich.console import Console
from rich.table import Table

from cchc import warehouse
from cchc.config import Settings
from cchc.extract.run import load_history
from cchc.extract.window import TZ
from cchc.orchestration import airflow_metadata, scheduled_nights
from cchc.reporting import rows_per_layer

# soft_wrap: a long path stays on one line, whole, so it can be copied from the terminal.
console = Console(highlight=False, soft_wrap=True)
# History from the start of the quarter before the first night, so the demo can export a
# complete quarter in the official form.
HISTORY_START = date(2024, 1, 1)
DEMO_QUARTER = "2024Q1"


def _synthetic_store(settings: Settings, first: date, last: date, scale: float, seed: int):
    """Generate the province once per parameter set; a rerun reuses it (generation is deterministic)."""
    from cchc.synthetic import generate
    from cchc.synthetic.generator import GENERATOR_VERSION

    out = settings.data_dir / "sim"
    # A new generator version regenerates: its data or its ground truth may differ.
    params = {"from": str(first), "to": str(last), "scale": scale, "seed": seed,
              "generator": GENERATOR_VERSION}  # fmt: skip
    stamp = out / "params.json"
    store = out / "store.sqlite"
    if store.exists() and stamp.exists() and json.loads(stamp.read_text()) == params:
        return store
    store = generate(out, first, last, seed=seed, scale=scale)
    stamp.write_text(json.dumps(params))
    return store


def run_demo(settings: Settings, nights: list[date], scale: float, seed: int) -> None:
    from cchc.simulators.server import SimulatorProcess

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = now - since
        return now

    console.rule("[bold]CCHC nightly pipeline demo")
    t = time.perf_counter()
    pg = warehouse.params(settings)
    console.print(
        f"warehouse: {pg.display_url()} ({'embedded, data in ' + str(settings.pgdata) if settings.embedded else 'configured'})"
    )
    t = lap("warehouse", t)
    # Dossiers received before the first night are still being handled during it: start earlier.
    history_start = min(HISTORY_START, nights[0] - timedelta(days=30))
    # The last night's window ends at 01:00 the day after it; the generator's end is exclusive.
    store = _synthetic_store(settings, history_start, nights[-1] + timedelta(days=2), scale, seed)
    console.print(f"synthetic province: {store} (seed {seed}, scale {scale})")
    t = lap("generate", t)
    with SimulatorProcess(
        store, host=settings.sim_host, port=settings.sim_port, token=settings.sim_token
    ) as sim:
        console.print(f"simulators: {sim.base_url}/{{onestop,portal,ioffice}}")
        # A first deployment loads the history once, then runs incrementally each night.
        loaded = sum(r.loaded for r in load_history(nights[0], settings))
        console.print(f"initial load of everything before {nights[0]}: {loaded:,} record versions")
        t = lap("initial load", t)
        # The nights run through the scheduler, as in production, so the UI shows them after.
        with scheduled_nights.demo_services(settings) as airflow:
            console.print(f"Airflow (scheduler, LocalExecutor): {airflow.url}")
            if airflow.started.password_is_new:
                console.print(f"  its UI's login: admin / {airflow.started.admin_password} (shown"
                              f" once; kept in {airflow.started.password_file}, mode 0600)")  # fmt: skip
            t = lap("airflow start", t)
            for number, night in enumerate(nights):
                # The first night after an initial load rebuilds every model from raw, as a
                # first deployment does; it also upgrades a warehouse built by an older version.
                with console.status(f"night {night}: waiting for the scheduler") as status:
                    run = scheduled_nights.run_night(
                        airflow, night, full_refresh=number == 0,
                        poll=_task_progress(airflow, night, status),
                    )  # fmt: skip
                console.print(f"night {night}: DAG cchc_nightly succeeded in {run.seconds:.1f}s")
    t = lap("nightly runs", t)
    quarterly = _export_quarter(settings)
    lap("quarterly export", t)
    timings["total"] = time.perf_counter() - started
    _print_summary(settings, timings)
    console.print(f"quarterly export ({DEMO_QUARTER}, form 06 and more): {quarterly.folder}")
    if quarterly.stale:
        console.print("  [yellow]warning: a source was stale for that quarter; the files say so[/]")
    if settings.embedded:
        console.print(
            f"The embedded warehouse keeps running ({pg.display_url()}, data in {settings.pgdata}) for"
            " `cchc status`, the exports and BI tools; stop it with `cchc warehouse stop`"
            " (`make demo` starts it again)."
        )


def _task_progress(airflow, night: date, status):
    """A poll for the night's run through the scheduler: each task once it ends (state,
    seconds), the running ones on the spinner, read from Airflow's REST API."""
    from cchc.orchestration.airflow_services import AirflowServiceError
    from cchc.orchestration.local_airflow import NIGHTLY_DAG
    from cchc.orchestration.night_progress import TaskEvent

    when, shown = scheduled_nights.run_after(night), set()

    def poll() -> None:
        try:
            run = airflow.run_at(NIGHTLY_DAG, when)
            tasks = airflow.task_instances(NIGHTLY_DAG, run["dag_run_id"])
        except AirflowServiceError:
            return  # the backfill has not created the run yet
        for ti in sorted(tasks, key=lambda ti: ti.get("end_date") or ""):  # in the order they end
            key = (ti["task_id"], ti.get("map_index"), ti.get("try_number"))
            if ti.get("state") in FINISHED and key not in shown:
                shown.add(key)
                event = TaskEvent(ti["task_id"], ti["state"], ti.get("duration") or 0.0)
                _show_task(night, event, status)
        if running := [ti["task_id"] for ti in tasks if ti.get("state") == "running"]:
            status.update(f"night {night}: {', '.join(running)} running")

    return poll


FINISHED = ("success", "failed", "upstream_failed", "skipped")


def _show_task(night: date, event, status) -> None:
    """One line per finished task (state, seconds); the running one on the spinner."""
    if event.state == "running":
        status.update(f"night {night}: {event.task} running")
        return
    colour = "green" if event.state == "success" else "red"
    console.print(f"  {event.task:<44} [{colour}]{event.state:<8}[/] {event.seconds:7.1f}s")


def _export_quarter(settings: Settings):
    """What the quarterly DAG does after a quarter closes, for the demo's complete quarter."""
    from cchc.exports.periods import Quarter
    from cchc.exports.quarterly import export_quarter

    return export_quarter(Quarter.parse(DEMO_QUARTER), settings)


def _print_summary(settings: Settings, timings: dict[str, float]) -> None:
    with warehouse.connect(settings) as conn:
        layers = Table(title="Rows per layer")
        for column in ("layer", "tables", "rows", "largest tables"):
            layers.add_column(column, justify="right" if column in ("tables", "rows") else "left")
        by_layer: dict[str, list[tuple[str, int]]] = {}
        for schema, name, count in rows_per_layer(conn):
            by_layer.setdefault(schema, []).append((name, count))
        for schema, tables in by_layer.items():
            largest = ", ".join(f"{n} {c:,}" for n, c in sorted(tables, key=lambda t: -t[1])[:3])
            layers.add_row(schema, str(len(tables)), f"{sum(c for _, c in tables):,}", largest)
        console.print(layers)
        until, fetched, loaded, dups, quarantined, failed = conn.execute(
            """
            select (select min(loaded_until) from audit.watermarks),
                   sum(fetched) filter (where status = 'loaded'),
                   sum(loaded) filter (where status = 'loaded'),
                   sum(duplicates) filter (where status = 'loaded'),
                   sum(quarantined) filter (where status = 'loaded'),
                   count(*) filter (where status = 'failed')
            from audit.load_batches
            """
        ).fetchone()
        # Batches replaced by a rerun no longer have rows in raw: only current ones add up.
        console.print(
            f"sources loaded until {until.astimezone(TZ):%Y-%m-%d %H:%M} local; current batches: "
            f"fetched {fetched:,} = loaded {loaded:,} + duplicates {dups:,} + quarantined "
            f"{quarantined:,}; failed attempts {failed:,}  (details: `cchc status`)"
        )
        _print_indicator(conn, settings.province_code)
        _print_quality(conn)
    exports = sorted((settings.province_export_dir / "nightly").glob("*/*.xlsx"))
    console.rule("[bold]Outputs")
    if exports:
        console.print(f"latest export: {exports[-1]}")
    from cchc.quality import data_docs_index

    console.print(f"data quality report (Data Docs): {data_docs_index()}")
    from cchc.transform.docs_site import docs_dir

    console.print(f"dbt docs (offline site): {docs_dir(settings) / 'index.html'}")
    from cchc.bi.superset import bi_port
    from cchc.orchestration.airflow_services import api_port

    console.rule("[bold]Look at it")
    password_file = airflow_metadata.admin_password_file(settings)
    console.print(
        "Airflow UI (the demo's runs, task durations and logs): `make airflow` (`cchc airflow "
        f"start`), then http://127.0.0.1:{api_port()}, user admin, password in {password_file}"
    )
    console.print(
        f"dashboards: `make bi` (`cchc bi start`), then http://127.0.0.1:{bi_port()}, user admin;"
        " the first start installs Superset (a few minutes)"
    )
    console.print("stage timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


def _print_indicator(conn, province: str) -> None:
    rows = conn.execute(
        """
        select agency_name, month_start, dossiers_in_scope, ended_on_time + open_on_time, on_time_ratio, progress_score
        from marts.mart_dossier_progress_monthly
        where province_code = %(province)s and month_start = (
            select max(month_start) from marts.mart_dossier_progress_monthly
            where province_code = %(province)s)
        order by dossiers_in_scope desc, agency_name
        limit 10
        """,
        {"province": province},
    ).fetchall()
    table = Table(
        title=f"{province}: Decision 766 progress (on-time handling), latest month,"
        " 10 busiest agencies"
    )
    for column in ("agency", "month", "in scope", "on time", "ratio", "score /20"):
        table.add_column(column, justify="left" if column == "agency" else "right")
    for name, month, scope, on_time, ratio, score in rows:
        table.add_row(
            name, f"{month:%m/%Y}", f"{scope:,}", f"{on_time:,}", f"{ratio:.1%}", f"{score:.2f}"
        )
    console.print(table)


def _print_quality(conn) -> None:
    if not conn.execute("select to_regclass('dq.validation_runs')").fetchone()[0]:
        return
    rows = conn.execute(
        """
        with latest as (select run_id from dq.validation_runs order by validated_at desc limit 1),
        checked as (
            select source, entity, sum(record_count) as records
            from dq.record_counts where run_id = (select run_id from latest) group by 1, 2
        )
        select v.rule_id, v.severity, v.unexpected_count, coalesce(c.records, v.element_count)
        from dq.validation_runs v left join checked c using (source, entity)
        where v.run_id = (select run_id from latest) and v.unexpected_count > 0
        order by v.unexpected_count desc, v.rule_id
        limit 10
        """
    ).fetchall()
    table = Table(title="Data-quality findings of the latest run (rules that flagged records)")
    for column in ("rule", "severity", "records flagged", "records checked"):
        # fold: a long rule id wraps whole rather than being cut with an ellipsis
        table.add_column(column, justify="left" if column in ("rule", "severity") else "right",
                         overflow="fold")  # fmt: skip
    for rule, severity, bad, total in rows:
        table.add_row(rule, severity, f"{bad or 0:,}", f"{total or 0:,}")
    console.print(table)
