"""`cchc`: what engineers do outside Airflow. Every command prints what it did and where."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from cchc.bi.cli import bi_app
from cchc.config import load_settings
from cchc.exports.cli import export_app
from cchc.orchestration.cli import airflow_app
from cchc.qd766.cli import qd766_app
from cchc.quality.cli import dq_app
from cchc.transform.cli import dbt_app
from cchc.warning.cli import warn_app

app = typer.Typer(
    help="CCHC data warehouse: embedded warehouse, simulators, extraction, demo.",
    no_args_is_help=True,
)
warehouse_app = typer.Typer(
    help="The warehouse (embedded PostgreSQL unless CCHC_WAREHOUSE_URL is set).",
    no_args_is_help=True,
)
simulate_app = typer.Typer(
    help="The synthetic province and the source-system simulators.", no_args_is_help=True
)
night_app = typer.Typer(help="Run the nightly DAG through Airflow.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(simulate_app, name="simulate")
app.add_typer(night_app, name="night")
app.add_typer(
    qd766_app, name="qd766", help="Decision 766 scores: recompute the portal's official scores."
)
app.add_typer(dq_app, name="dq", help="Data quality: score the flags against a ground truth.")
app.add_typer(dbt_app, name="dbt", help="The dbt project: its docs site, the per-model manifest.")
app.add_typer(warn_app, name="warn")
app.add_typer(airflow_app, name="airflow")
app.add_typer(bi_app, name="bi")
app.add_typer(
    export_app,
    name="export",
    help="Quarterly exports: form 06, 766 scorecard, data-quality annex, offline report.",
)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@warehouse_app.command("start")
def warehouse_start() -> None:
    """Start the embedded warehouse (no-op when running or when a warehouse is configured)."""
    from cchc import warehouse

    settings = load_settings()
    try:
        pg = warehouse.params(settings)
    except warehouse.WarehouseError as error:
        _fail(str(error))
    where = f"embedded, data in {settings.pgdata}" if settings.embedded else "configured"
    typer.echo(f"warehouse ready: {pg.display_url()} ({where})")


@warehouse_app.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded warehouse."""
    from cchc import warehouse

    stopped = warehouse.stop_embedded(load_settings())
    typer.echo("embedded warehouse stopped" if stopped else "embedded warehouse was not running")


@warehouse_app.command("bootstrap")
def warehouse_bootstrap() -> None:
    """Create schemas, roles, grants and the personal-data hash function (idempotent)."""
    from cchc import warehouse

    with warehouse.connect(autocommit=True) as conn:
        typer.echo(warehouse.bootstrap(conn).summary())


@warehouse_app.command("login")
def warehouse_login(
    login: Annotated[str, typer.Argument(help="loader, transformer, bi, reviewer or owner")],
    show_password: Annotated[
        bool, typer.Option("--show-password", help="Also print the password (for a BI tool)")
    ] = False,
) -> None:
    """Connection parameters of one login (cchc.warehouse.login_params)."""
    from cchc import warehouse

    try:
        pg = warehouse.login_params(login)
    except (ValueError, warehouse.WarehouseError) as error:
        _fail(str(error))
    line = f"host={pg.host} port={pg.port} dbname={pg.dbname} user={pg.user}"
    typer.echo(f"{line} password={pg.password}" if show_password else line)


@warehouse_app.command("purge-raw")
def warehouse_purge_raw(
    months: Annotated[
        int | None, typer.Option(help="Older than N months (default: CCHC_RAW_RETENTION_MONTHS)")
    ] = None,
) -> None:
    """Remove personal data from raw versions past the retention period (docs/personal-data.md)."""
    from cchc import warehouse
    from cchc.security.retention import purge_raw, purge_raw_from_config

    with warehouse.connect(autocommit=True) as conn:
        report = purge_raw(conn, months) if months is not None else purge_raw_from_config(conn)
    typer.echo(report if report is not None else "retention disabled (CCHC_RAW_RETENTION_MONTHS=0)")


@warehouse_app.command("status")
def warehouse_status() -> None:
    """Say whether the warehouse answers."""
    from cchc import warehouse

    settings = load_settings()
    if settings.embedded and not warehouse.embedded_running(settings):
        _fail(
            f"embedded warehouse not running (data folder {settings.pgdata}); run `cchc warehouse start`"
        )
    with warehouse.connect(settings) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    typer.echo(
        f"warehouse up: PostgreSQL {version} at {warehouse.params(settings, start=False).display_url()}"
    )


@simulate_app.command("generate")
def simulate_generate(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day")],
    end: Annotated[
        datetime,
        typer.Option(
            "--to",
            formats=["%Y-%m-%d"],
            help="End (exclusive): the simulated clock stops at this day's 00:00, so its"
            " records are not generated",
        ),
    ],
    seed: int = 42,
    scale: Annotated[
        float, typer.Option(help="1.0 = a large province (~8,000 dossiers a working day)")
    ] = 0.02,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <data dir>/sim)")
    ] = None,
    province: Annotated[
        str | None,
        typer.Option(help="Synthetic province: H40 Nghệ An, H45 Quảng Trị (default: configured)"),
    ] = None,
) -> None:
    """Generate the synthetic province's source data."""
    from cchc.synthetic import generate

    settings = load_settings()
    out = out or settings.data_dir / "sim"
    store = generate(
        out, start.date(), end.date(), seed=seed, scale=scale,
        province_code=province or settings.province_code,
    )  # fmt: skip
    last_day = (end - timedelta(days=1)).date()
    typer.echo(f"synthetic data for {start.date()} to {last_day} (inclusive) written: {store}")


@simulate_app.command("serve")
def simulate_serve(
    store: Annotated[Path | None, typer.Option(help="Store from `cchc simulate generate`")] = None,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Serve the one-stop, portal and I-Office simulators (blocks)."""
    import uvicorn

    from cchc.simulators.app import create_app

    settings = load_settings()
    store = store or settings.data_dir / "sim" / "store.sqlite"
    if not store.exists():
        _fail(f"no synthetic data at {store}; run `cchc simulate generate` first")
    uvicorn.run(
        create_app(store, settings.sim_token),
        host=host or settings.sim_host,
        port=port or settings.sim_port,
    )


@app.command("extract")
def extract_command(
    start: Annotated[
        datetime,
        typer.Option(
            "--from", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"], help="Window start, local time"
        ),
    ],
    end: Annotated[
        datetime,
        typer.Option(
            "--to",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"],
            help="Window end (exclusive), local time",
        ),
    ],
    source: Annotated[
        str | None, typer.Option(help="onestop, portal or ioffice (default: all)")
    ] = None,
    entity: Annotated[
        str | None, typer.Option(help="One entity of the source (default: all)")
    ] = None,
    province: Annotated[
        str | None,
        typer.Option(help="A province of CCHC_PROVINCES (default: CCHC_PROVINCE_CODE)"),
    ] = None,
) -> None:
    """Extract a window from the sources into the raw layer (reruns replace, never duplicate)."""
    from cchc.extract.connector import SourceError
    from cchc.extract.run import extract
    from cchc.extract.window import TZ

    if end <= start:
        _fail(f"--to ({end:%Y-%m-%d %H:%M}) must be after --from ({start:%Y-%m-%d %H:%M})")
    settings = load_settings()
    try:
        settings = settings.for_province(province) if province else settings
        results = extract(
            start.replace(tzinfo=TZ), end.replace(tzinfo=TZ), source, entity, settings=settings
        )
    except SourceError as error:
        _fail(f"{error}{_simulator_hint(settings, error)}")
    except ValueError as error:
        _fail(str(error))
    for result in results:
        typer.echo(result.summary())
    if settings.extract_overlap_minutes:  # why the windows above start before --from
        typer.echo(
            f"window as given: [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) local time; each"
            f" read starts {settings.extract_overlap_minutes} min earlier"
            " (CCHC_EXTRACT_OVERLAP_MINUTES), so updates saved late are not missed"
        )


def _simulator_hint(settings, error: Exception) -> str:
    """A source that does not answer at the simulators' address: they are not running."""
    simulator = f"{settings.sim_host}:{settings.sim_port}"
    if any(simulator in url for url in settings.source_urls.values()) and (
        "no response" in str(error) or "connect" in str(error).lower()
    ):
        return f"; nothing answers at {simulator}: start the simulators with `cchc simulate serve`"
    return ""


def _echo_task(event) -> None:
    """A finished task of the night, as it finishes: name, state, seconds."""
    if event.state != "running":
        typer.echo(f"  {event.task:<44} {event.state:<8} {event.seconds:7.1f}s")


@night_app.command("run")
def night_run(
    night: Annotated[
        datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="The day whose updates to load")
    ],
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild every incremental model from raw")
    ] = False,
) -> None:
    """Run the nightly DAG for one night through Airflow (`airflow dags test`)."""
    from cchc.orchestration import local_airflow

    settings = load_settings()
    try:
        env = local_airflow.prepare(settings)
        run = local_airflow.run_night(
            settings, night.date(), env, full_refresh=full_refresh, on_task=_echo_task
        )
    except local_airflow.AirflowRunError as error:
        # Its first line names the command and the full log; the log's tail is in the file.
        _fail(str(error).splitlines()[0].rstrip(":"))
    typer.echo(f"night {run.night} done in {run.seconds:.1f}s (log: {run.log_file})")


@app.command("status")
def status() -> None:
    """Watermarks and the latest batch of every entity."""
    from cchc import warehouse
    from cchc.reporting import status_lines

    with warehouse.connect() as conn:
        for line in status_lines(conn):
            typer.echo(line)


@app.command("demo")
def demo(
    start: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First night")
    ] = datetime(2024, 4, 1),
    nights: Annotated[int, typer.Option(help="How many nights to run")] = 3,
    scale: Annotated[float, typer.Option(help="Size of the synthetic province")] = 0.02,
    seed: int = 42,
) -> None:
    """Run the nightly pipeline end to end on the embedded warehouse and print a summary."""
    from cchc.demo import run_demo

    first = start.date()
    run_demo(
        load_settings(), [first + timedelta(days=i) for i in range(nights)], scale=scale, seed=seed
    )


def main() -> None:
    """The `cchc` command: a failure is one line on stderr (the traceback with --verbose)."""
    import sys

    from cchc.cli_errors import one_line

    verbose = any(arg in ("--verbose", "-v") for arg in sys.argv[1:])
    try:
        app()
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.RED, err=True)
        sys.exit(130)
    except Exception as error:
        if verbose:
            raise
        typer.secho(f"error: {one_line(error)}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
