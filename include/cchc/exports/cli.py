"""`cchc export quarter --quarter 2024Q1 [--legal-period]`: the quarterly export outside Airflow."""

from __future__ import annotations

from typing import Annotated

import typer

export_app = typer.Typer(help="Quarterly exports: form 06, 766 scorecard, annexes, HTML report.",
                         no_args_is_help=True)  # fmt: skip


@export_app.callback()
def _group() -> None:
    """Quarterly exports (a group, so `cchc export quarter …` keeps its sub-command)."""


@export_app.command("quarter")
def export_quarter_command(
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="The quarter, e.g. 2024Q1.")],
    legal_period: Annotated[
        bool, typer.Option("--legal-period", help="Legal reporting quarter (15th to 14th).")
    ] = False,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft",
            help="Export a quarter not ended or without data anyway, as a draft marked"
            " 'BẢN NHÁP' in every file (folder <quarter>-ban-nhap).",
        ),
    ] = False,
) -> None:
    """Export one quarter into exports/<province>/quarterly/<quarter>[-legal]/ and list its files.

    A quarter that has not ended, or has no data loaded, is refused (exit 1) unless --draft."""
    from cchc.exports.periods import Quarter
    from cchc.exports.quarterly import export_quarter
    from cchc.exports.readiness import QuarterNotExportable

    try:
        period = Quarter.parse(quarter, legal=legal_period)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--quarter") from error
    try:
        result = export_quarter(period, draft=draft)
    except QuarterNotExportable as refused:
        typer.secho(f"error: {refused}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"quarterly export {period.folder_name}: {result.folder}")
    for path in result.files:
        typer.echo(f"  {path.name}")
    if result.stale:
        typer.secho(result.freshness.warning_en(), fg=typer.colors.YELLOW, err=True)
