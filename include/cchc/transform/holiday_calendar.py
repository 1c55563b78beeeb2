"""Generate the dbt seed of Vietnamese public holidays (days off), Tết included.

Run ``python -m cchc.transform.holiday_calendar`` after upgrading the ``holidays`` package and
commit the result: the output depends only on the package version and the year range, so
it is deterministic. Names are in Vietnamese, as the package publishes them.

Make-up working Saturdays (a weekend day worked to bridge a holiday) are not in the package's
list of days off and are therefore not in the seed.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import holidays

from cchc.config import REPO_ROOT

FIRST_YEAR = 2020
LAST_YEAR = 2030
SEED_PATH = REPO_ROOT / "dbt_project" / "seeds" / "vn_public_holidays.csv"


def holiday_rows(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[tuple[str, str]]:
    """(ISO date, name) of every Vietnamese public holiday in the years, sorted by date."""
    calendar = holidays.country_holidays(
        "VN", years=range(first_year, last_year + 1), language="vi"
    )
    return [(day.isoformat(), name) for day, name in sorted(calendar.items())]


def render_csv(rows: list[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "name"])
    writer.writerows(rows)
    return buffer.getvalue()


def write_seed(
    path: Path = SEED_PATH, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> int:
    rows = holiday_rows(first_year, last_year)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_csv(rows), encoding="utf-8")
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=SEED_PATH)
    parser.add_argument("--first-year", type=int, default=FIRST_YEAR)
    parser.add_argument("--last-year", type=int, default=LAST_YEAR)
    args = parser.parse_args(argv)
    count = write_seed(args.output, args.first_year, args.last_year)
    print(f"wrote {count} holidays {args.first_year}-{args.last_year} to {args.output}")


if __name__ == "__main__":
    main()
