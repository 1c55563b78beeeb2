"""``cchc qd766``: Decision 766 scoring tools (registered in the main CLI as a sub-app)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from cchc.qd766.recompute import (
    TOLERANCE,
    NotAnEvaluationResponse,
    ScoreRow,
    recompute_file,
    summarize,
)
from cchc.qd766.rules import load_rules

qd766_app = typer.Typer(
    help="Decision 766/QĐ-TTg index: scoring rules (dbt seed qd766_components).",
    no_args_is_help=True,
)


@qd766_app.callback()
def _qd766() -> None:
    """Decision 766/QĐ-TTg index: scoring rules (dbt seed qd766_components)."""


def _fmt(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _line(row: ScoreRow, tolerance: Decimal) -> str:
    difference = row.difference
    status = "estimate" if row.is_estimate else ("DIFFERS" if row.fails(tolerance) else "ok")
    if not row.is_estimate and row.official is None and row.recomputed is None:
        status = "not scored"
    elif not row.is_estimate and row.official is None:
        status = "no official score (see the group total)"
    diff = "-" if difference is None else f"{difference:+.3f}"
    note = f"  ({row.note})" if row.note else ""
    return (
        f"{row.endpoint:30} {row.department_code:10} {row.component_code:36} "
        f"{_fmt(row.official):>8} {_fmt(row.recomputed):>8} {diff:>8}  {status}{note}"
    )


@qd766_app.command("recompute")
def recompute(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Saved responses of the portal's evaluation API.", exists=True, dir_okay=False
        ),
    ],  # fmt: skip
    tolerance: Annotated[float, typer.Option(help="Allowed difference in points.")] = float(
        TOLERANCE
    ),  # fmt: skip
    summary_only: Annotated[
        bool, typer.Option("--summary-only", help="Print only the summary per endpoint.")
    ] = False,  # fmt: skip
) -> None:
    """Recompute each department's score from its published counts; print official,
    recomputed and difference per department and component. Exit 1 when a component with a
    known formula differs by more than the tolerance (estimated components never fail)."""
    rules = load_rules()
    limit = Decimal(str(tolerance))
    rows: list[ScoreRow] = []
    for path in files:
        try:
            file_rows = recompute_file(path, rules)
        except NotAnEvaluationResponse as error:
            typer.echo(f"{path}: skipped, not an evaluation response ({error})", err=True)
            continue
        rows += file_rows
        if not summary_only:
            typer.echo(f"# {path}")
            typer.echo(
                f"{'endpoint':30} {'department':10} {'component':36} "
                f"{'official':>8} {'ours':>8} {'diff':>8}  status"
            )
            for row in file_rows:
                typer.echo(_line(row, limit))
    typer.echo("")
    typer.echo(f"{'endpoint':30} {'rows':>6} {'compared':>9} {'estimated':>10} {'max diff':>9} {'failures':>9}")  # fmt: skip
    summaries = summarize(rows, limit)
    for s in summaries:
        typer.echo(
            f"{s.endpoint:30} {s.rows:>6} {s.compared:>9} {s.estimated:>10} "
            f"{s.max_difference:>9.4f} {s.failures:>9}"
        )
    failures = sum(s.failures for s in summaries)
    if failures:
        typer.secho(f"{failures} component(s) differ by more than {limit} points", fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(1)
    typer.echo(f"all components with a known formula agree within {limit} points")


def _points(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@qd766_app.command("bounds")
def bounds(
    truth: Annotated[
        Path,
        typer.Option(
            "--truth",
            help="Folder to generate the province into, with (dirty/) and without (clean/) "
            "its injected data-entry errors.",
            file_okay=False,
        ),
    ],
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")] = "2024-01-01",
    last: Annotated[str, typer.Option("--to", help="Last day, inclusive.")] = "2024-03-31",
    scale: Annotated[float, typer.Option(help="Province size (1.0 = large).")] = 0.02,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    province: Annotated[str, typer.Option(help="Synthetic province code.")] = "H40",
    min_coverage: Annotated[
        float, typer.Option(help="Exit 1 when the coverage is below this.")
    ] = 0.95,
    summary_only: Annotated[
        bool, typer.Option("--summary-only", help="Print only the summary.")
    ] = False,
) -> None:
    """Check the bounds against the truth: generate the province with and without its
    injected errors, score every agency × quarter × component reached by a flagged record
    from the clean data, bound it from the dirty data, and print whether the clean score
    lies within the bounds; then the coverage and the median width (vs 0 to max)."""
    from datetime import timedelta

    from cchc.qd766.truth import check, generate_pair

    start = date.fromisoformat(first)
    end = date.fromisoformat(last) + timedelta(days=1)
    clean, dirty = generate_pair(truth, start, end, seed, scale, province)
    report = check(clean, dirty)
    if not summary_only:
        typer.echo(
            f"{'agency':12} {'quarter':8} {'component':32} {'flagged':>7} {'clean':>6} "
            f"{'low':>6} {'high':>6} {'width':>6} {'estimate':>8}  within"
        )
        for row in report.rows:
            b = row.bounds
            typer.echo(
                f"{row.agency:12} {row.quarter:8} {row.component:32} {b.flagged:>7} "
                f"{_points(row.clean):>6} {_points(b.low):>6} {_points(b.high):>6} "
                f"{_points(b.at_stake):>6} {_points(b.estimate):>8}  "
                f"{'yes' if row.covered else 'NO'}"
            )
        typer.echo("")
    typer.echo(f"{'component':32} {'bounded':>8} {'coverage':>9} {'median width':>13} {'max':>5}")
    for code, part in report.by_component().items():
        typer.echo(
            f"{code:32} {len(part.rows):>8} {part.coverage:>9.3f} {part.median_width:>13.2f} "
            f"{part.median_trivial_width:>5.1f}"
        )
    typer.echo(
        f"scale {scale}, {first} to {last}, seed {seed}: {report.scopes} agency × quarter "
        f"with flagged records, {len(report.rows)} components bounded"
    )
    typer.echo(f"coverage: {report.coverage:.3f} (clean score within the bounds)")
    typer.echo(
        f"median width: {report.median_width:.2f} points "
        f"(0 to max: median {report.median_trivial_width:.2f} points)"
    )
    typer.echo(
        f"mean distance to the clean score: as computed {report.mean_error('score'):.3f}, "
        f"estimate {report.mean_error('estimate'):.3f} points"
    )
    if report.coverage < min_coverage:
        typer.secho(
            f"coverage {report.coverage:.3f} is below {min_coverage}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(1)
