"""``cchc bi``: the dashboards (registered in the main CLI as a sub-app)."""

from __future__ import annotations

from typing import Annotated

import typer

bi_app = typer.Typer(
    help="The BI tool (Apache Superset) on the marts, with the office's dashboards.",
    no_args_is_help=True,
)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@bi_app.command("start")
def bi_start(
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (CCHC_BI_PORT, 8088)")] = None,
) -> None:
    """Install Superset in its own virtualenv (first time, a few minutes), start it on
    127.0.0.1, connect it to the marts as `cchc_bi` and provision the dashboards."""
    from cchc import warehouse
    from cchc.bi import superset
    from cchc.config import load_settings

    settings = load_settings()
    try:
        warehouse.params(settings)
        started = superset.start(settings, port, progress=typer.echo)
    except (superset.SupersetError, warehouse.WarehouseError) as error:
        _fail(str(error))
    state = "already running" if started.already_running else "started"
    typer.echo(f"Superset {state}: {started.url}")
    if started.password_is_new:
        typer.echo(f"  user admin, password {started.admin_password}  (shown once; kept in "
                   f"{started.password_file}, mode 0600)")  # fmt: skip
    else:
        typer.echo(f"  user admin, password in {started.password_file}")
    for title, url in started.dashboards.items():
        typer.echo(f"  {title}: {url}")
    typer.echo("  stop: cchc bi stop")


@bi_app.command("install")
def bi_install() -> None:
    """Install Superset's virtualenv and its initial metadata now (CI does it before the
    tests); a no-op when the pinned requirements did not change."""
    from cchc.bi import superset
    from cchc.config import load_settings

    try:
        venv = superset.ensure_venv(progress=typer.echo)
        superset.ensure_template(load_settings(), progress=typer.echo)
    except superset.SupersetError as error:
        _fail(str(error))
    typer.echo(f"Superset virtualenv ready: {venv}")


@bi_app.command("stop")
def bi_stop() -> None:
    """Stop the Superset that `cchc bi start` started for this data folder."""
    from cchc.bi import superset
    from cchc.config import load_settings

    stopped = superset.stop(load_settings())
    typer.echo("Superset stopped" if stopped else "Superset was not running")


@bi_app.command("status")
def bi_status() -> None:
    """Whether Superset runs, and where."""
    from cchc.bi import superset
    from cchc.config import load_settings

    url = superset.running_url(load_settings())
    typer.echo(f"Superset running: {url}" if url else "Superset is not running")
    if not url:
        raise typer.Exit(1)
