"""`cchc warn score`: replay past nights and measure the early warning against the naive rule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from .choose import TARGET_PRECISION, TARGET_RECALL_IN_TIME
from .score import MIN_LEAD_WORKING_DAYS, Score

warn_app = typer.Typer(help="Early warning of dossiers at risk of ending late.")

# The nightly mart's defaults too (dbt vars warning_risk_threshold, warning_horizon_days,
# warning_last_chance_threshold, warning_too_late_threshold).
# Chosen on one replay (seed 42, Q2/2024; cchc.warning.choose), checked on two other seeds
# and on July 2024 (docs/benchmarks.md, python -m bench.warning_seeds).
DEFAULT_THRESHOLD = 0.39
DEFAULT_HORIZON = 2  # working days
DEFAULT_LAST_CHANCE = 0.15  # 2 working days before the due date: the last warning in time
DEFAULT_TOO_LATE = 0.7  # 1 working day before it: too late to count; only when nearly sure


@warn_app.callback()
def _group() -> None:
    """Keeps `score` a sub-command even while it is the only one."""


def format_score(result: Score) -> str:
    lead = (
        f"{result.lead_median:.0f} / {result.lead_mean:.1f}"
        if result.lead_median is not None
        else "–"
    )
    return (
        f"{result.rule:<30} {result.precision:>9.3f} {result.recall:>7.3f}"
        f" {result.recall_in_time:>12.3f} {lead:>12} {result.warned:>7} {result.true_positives:>6}"
        f" {result.recall_in_time_warnable:>16.3f}"
    )


@warn_app.command("score")
def score_command(
    first: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First night (as-of date)")
    ],
    last: Annotated[
        datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last night (inclusive)")
    ],
    threshold: Annotated[
        float, typer.Option(help="The model warns at this probability of ending late or more")
    ] = DEFAULT_THRESHOLD,
    last_chance: Annotated[
        float,
        typer.Option(
            help="Lower threshold on the last night a warning is still --min-lead days ahead"
        ),
    ] = DEFAULT_LAST_CHANCE,
    too_late: Annotated[
        float,
        typer.Option(
            help="Threshold on the nights fewer than --min-lead days ahead (too late to count)"
        ),
    ] = DEFAULT_TOO_LATE,
    horizon: Annotated[
        int, typer.Option(help="The model warns only of dossiers due within this many working days")
    ] = DEFAULT_HORIZON,
    naive_days: Annotated[
        list[int] | None,
        typer.Option(help="Naive rule: warn when due within N working days (repeatable)"),
    ] = None,
    min_lead: Annotated[
        int, typer.Option(help="Working days before the due date a warning must come")
    ] = MIN_LEAD_WORKING_DAYS,
) -> None:
    """Replay the nights FROM..TO of the warehouse's data: which dossiers each rule warned of,
    which really went late (from the data after), precision, recall and lead time."""
    from cchc import warehouse
    from cchc.config import load_settings

    from .choose import Rule
    from .compare import compare
    from .replay import build_replay, read_replay

    if last < first:
        typer.secho("error: --to must not be before --from", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    settings = load_settings()
    pg = warehouse.params(settings)
    build_replay(pg, first.date(), last.date())  # the rules apply to its probabilities
    nights, outcomes, data_end = read_replay(pg)
    rule = Rule(threshold, horizon, last_chance, too_late)
    comparison = compare(
        rule, nights, outcomes, last.date(), data_end, naive_days or [1, 2, 3, 5], min_lead
    )
    model = comparison.model
    results = [model] + [point.result for point in comparison.naive]
    typer.echo(
        f"nights {first:%Y-%m-%d} .. {last:%Y-%m-%d} ({len({n.as_of for n in nights})} nights,"
        f" {len(nights)} dossier-nights); outcomes known from the data up to {data_end}"
    )
    typer.echo(
        f"dossiers judged: {model.dossiers}, went late: {model.late}"
        f" ({model.late / model.dossiers:.1%})"
        if model.dossiers
        else "dossiers judged: 0"
    )
    typer.echo(
        f"{'rule':<30} {'precision':>9} {'recall':>7} {f'recall >={min_lead}d':>12}"
        f" {'lead med/avg':>12} {'warned':>7} {'TP':>6} {'in time/warnable':>16}"
    )
    for result in results:
        typer.echo(format_score(result))
    met = model.recall_in_time >= TARGET_RECALL_IN_TIME and model.precision >= TARGET_PRECISION
    typer.echo(
        f"targets (recall >={min_lead}d >= {TARGET_RECALL_IN_TIME}, precision >="
        f" {TARGET_PRECISION}): {'met' if met else 'NOT met'}"
    )
    for other in comparison.naive:
        typer.echo(
            f"vs {other.result.rule}: precision"
            f" {'better' if model.precision > other.result.precision else 'NOT better'},"
            f" recall >={min_lead}d"
            f" {'better' if model.recall_in_time > other.result.recall_in_time else 'NOT better'}"
        )
    typer.echo(comparison.text())
