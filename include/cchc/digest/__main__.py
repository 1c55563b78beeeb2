"""`python -m cchc.digest --date 2024-04-08`: write the week's digests as files, by hand.

The same step as the DAG's `write_digests` (the week of the date, as of the last night the
early-warning mart was built for); it sends nothing: e-mail and alerts are the DAG's, so
the record of what was sent stays in one place.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from cchc.config import load_settings
from cchc.digest.run import write_digests

app = typer.Typer(add_completion=False)


@app.command()
def main(
    day: Annotated[date, typer.Option("--date", formats=["%Y-%m-%d"], help="Any day of the week")],
) -> None:
    """Write each agency's digest of the week containing DAY under exports/."""
    summary = write_digests(day, load_settings())
    typer.echo(f"{len(summary['agencies'])} digest(s) in {summary['folder']}"
               f" (as of {summary['as_of']})")  # fmt: skip
    for code, counts in summary["agencies"].items():
        typer.echo(f"  {code}: {counts['at_risk']} at risk, {counts['apologies']} apology"
                   f" letter(s) due, {counts['flags']} record(s) to correct")  # fmt: skip
    typer.echo(f"{len(summary['crossings'])} threshold crossing(s): see crossings.json")


if __name__ == "__main__":
    app()
