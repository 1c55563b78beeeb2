"""``cchc dbt``: the dbt project outside the nightly DAG (registered in the main CLI as a sub-app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

dbt_app = typer.Typer(help="The dbt project (dbt_project/).", no_args_is_help=True)


@dbt_app.callback()
def _dbt() -> None:
    """The dbt project (dbt_project/)."""


@dbt_app.command("manifest")
def dbt_manifest(
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write it (default: dbt_project/target/airflow/manifest.json)"),
    ] = None,
) -> None:
    """Write the manifest the per-model nightly DAG is drawn from (`dbt parse`; no warehouse).

    Needed with CCHC_DBT_TASKS=per_model, after every change to the models; the Docker image
    and `cchc night run` write it themselves.
    """
    from cchc.transform.dbt import DbtRunError, dbt_parse

    try:
        path = dbt_parse(out)
    except DbtRunError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"dbt manifest written: {path}")


@dbt_app.command("build")
def dbt_build_command(
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild every incremental model from raw")
    ] = False,
) -> None:
    """Build the warehouse's models and tests now (the embedded mode's full rebuild after a
    backfill or a seed change). Under Airflow, trigger the nightly DAG with
    `--conf '{"full_refresh": true}'` instead: its pool keeps two builds apart."""
    from cchc.transform.dbt import DbtRunError, dbt_build

    try:
        results = dbt_build(full_refresh=full_refresh, unit_tests=False)
    except DbtRunError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"dbt build: {len(results)} nodes")


@dbt_app.command("docs")
def dbt_docs_command() -> None:
    """Write the dbt docs from the warehouse as an offline site: exports/docs/index.html
    (the nightly DAG refreshes it after every build)."""
    from cchc.transform.dbt import DbtRunError
    from cchc.transform.docs_site import publish_docs

    try:
        index = publish_docs()
    except DbtRunError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"dbt docs written: {index} (open it in a browser; no server needed)")
