"""``cchc airflow``: the local Airflow's services (registered in the main CLI as a sub-app)."""

from __future__ import annotations

from typing import Annotated

import typer

airflow_app = typer.Typer(
    help="Airflow as engineers run it: UI, scheduler, dag-processor, triggerer.",
    no_args_is_help=True,
)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@airflow_app.command("start")
def airflow_start(
    port: Annotated[
        int | None, typer.Option(help="UI and API port on 127.0.0.1 (CCHC_AIRFLOW_PORT, 8080)")
    ] = None,
    unpause: Annotated[
        bool,
        typer.Option(
            "--unpause", help="Unpause the nightly DAGs: the scheduler runs them at 01:00"
        ),
    ] = False,
) -> None:
    """Start the api-server (UI), scheduler, dag-processor and triggerer in the background,
    with Airflow's metadata in the embedded PostgreSQL; prints where and how to log in."""
    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.orchestration import airflow_services as services
    from cchc.orchestration.local_airflow import NIGHTLY_DAG

    settings = load_settings()
    try:
        warehouse.params(settings)  # the metadata lives there
        started = services.start(settings, port)
        if unpause:
            client = services.ApiClient(started.url, started.admin_password)
            client.wait_for_dag(NIGHTLY_DAG)  # parsed by the dag-processor, not just started
            for dag_id in client.nightly_dag_ids():
                client.set_paused(dag_id, False)
                typer.echo(f"unpaused {dag_id}")
    except (services.AirflowServiceError, warehouse.WarehouseError) as error:
        _fail(str(error))
    state = "already running" if started.already_running else "started"
    typer.echo(f"Airflow {state}: {started.url}")
    if started.password_is_new:
        typer.echo(f"  user admin, password {started.admin_password}  (shown once; kept in "
                   f"{started.password_file}, mode 0600)")  # fmt: skip
    else:
        typer.echo(f"  user admin, password in {started.password_file}")
    typer.echo(f"  service logs: {services.services_dir(settings)}; stop: cchc airflow stop")


@airflow_app.command("stop")
def airflow_stop() -> None:
    """Stop the services `cchc airflow start` started for this data folder."""
    from cchc.config import load_settings
    from cchc.orchestration import airflow_services as services

    stopped = services.stop(load_settings())
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "Airflow was not running")


@airflow_app.command("status")
def airflow_status() -> None:
    """Which services run, where the UI is, and Airflow's own health report."""
    from cchc.config import load_settings
    from cchc.orchestration import airflow_services as services

    report = services.status(load_settings())
    running = report["running"]
    for service in services.SERVICES:
        pid = running.get(service)
        typer.echo(f"{service:<14} {'running, pid ' + str(pid) if pid else 'stopped'}")
    if running:
        typer.echo(f"UI: {report['url']}")
        typer.echo(f"health: {report['health']}")
    if set(running) != set(services.SERVICES):
        raise typer.Exit(1)
