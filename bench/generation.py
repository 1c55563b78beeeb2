"""Generation throughput: `python -m bench.generation --scale S --days N`.

Generates N days at scale S (streaming to disk, with a progress bar), prints dossiers/s,
versions/s, peak RSS and store size, and extrapolates to a province-year (scale 1.0, 365 days).
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.progress import Progress

from cchc.simulators.store import SimStore
from cchc.synthetic import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generation", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        task = progress.add_task("simulating days", total=args.days)
        started = time.perf_counter()
        store = generate(
            Path(tmp), args.start, args.start + timedelta(days=args.days), scale=args.scale,
            progress=lambda n: progress.advance(task, n),
        )  # fmt: skip
        seconds = time.perf_counter() - started
        meta = SimStore(store).meta()
        with (Path(tmp) / "truth" / "indicators.csv").open() as file:
            dossiers = sum(int(row["dossiers_received"]) for row in csv.DictReader(file))
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    versions = sum(int(v) for k, v in meta.items() if k.startswith("count:"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    factor = (365 / args.days) * (1.0 / args.scale)
    print(f"scale {args.scale}, {args.days} days: {dossiers:,} dossiers, {versions:,} versions")
    print(
        f"time {seconds:.1f} s: {dossiers / seconds:,.0f} dossiers/s, {versions / seconds:,.0f} versions/s"
    )
    print(
        f"peak RSS {rss_mb:,.0f} MB; store + truth {size / 1e6:,.1f} MB ({size / versions:,.0f} B/version)"
    )
    print(
        f"province-year (x{factor:,.0f}): ~{dossiers * factor / 1e6:,.2f} M dossiers, "
        f"~{seconds * factor / 3600:,.1f} h, ~{size * factor / 1e9:,.1f} GB"
    )


if __name__ == "__main__":
    main()
