"""What durability costs: the raw loader and one night's stages on an embedded warehouse that
fsyncs (the default, `CCHC_PG_DURABILITY=durable`) against the same on one that does not
(`fast`, the test-only mode), each on a fresh server and data folder, in the same run.

`python -m bench` calls it after its own stages (so dbt's and GX's caches are warm for both
modes); alone: `python -m bench.durability --scale 0.1 --days 30`.
"""

from __future__ import annotations

import dataclasses
import socket
from datetime import date, timedelta
from pathlib import Path

from bench import loader, stages
from cchc import warehouse
from cchc.config import Settings
from cchc.simulators.server import SimulatorProcess

MODES = ("durable", "fast")
# The stages compared: what a night writes (the history load is its own line).
COMPARED = (
    "initial load (history)",
    "extract one night (10 entities)",
    "GX raw checkpoint (night check)",
    "dbt build (nightly: no unit tests)",
    "GX marts checkpoint",
    "one night, stages called directly",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mode_settings(settings: Settings, mode: str, port: int) -> Settings:
    return dataclasses.replace(
        settings,
        data_dir=settings.data_dir / f"durability-{mode}",
        embedded_port=port,
        pg_durability=mode,
    )


def run(settings: Settings, store: Path, first_night: date, history_start: date, days: int) -> dict:
    results: dict[str, dict] = {}
    for mode in MODES:
        config = _mode_settings(settings, mode, _free_port())
        try:
            pg = warehouse.params(config)
            figures = {
                "loader_rows_per_s": loader.run(store, history_start, days, pg.url())[
                    "ours_rows_per_s"
                ]
            }
            with SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token):
                timings = stages.run_direct(config, first_night)
            figures.update({name: timings[name] for name in COMPARED})
            results[mode] = figures
        finally:
            warehouse.stop_embedded(config)
    durable, fast = results["durable"], results["fast"]
    results["cost"] = {
        "loader": round(fast["loader_rows_per_s"] / durable["loader_rows_per_s"], 2),
        **{name: round(durable[name] - fast[name], 2) for name in COMPARED},
    }
    return results


def main() -> None:  # pragma: no cover - a benchmark driver
    import argparse
    import json
    import os
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cchc-bench-"))
    os.environ.update({"CCHC_DATA_DIR": str(work / "data"), "CCHC_EXPORT_DIR": str(work / "exports"),
                       "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_BENCH_PG_PORT", "54339"),
                       "CCHC_SIM_PORT": os.environ.get("CCHC_BENCH_SIM_PORT", "8789")})  # fmt: skip
    from bench.__main__ import print_durability
    from cchc.config import load_settings
    from cchc.synthetic import generate

    settings = load_settings()
    first_night = date(2024, 4, 1)
    history_start = first_night - timedelta(days=args.days)
    store = generate(settings.data_dir / "sim", history_start, first_night + timedelta(days=2),
                     seed=42, scale=args.scale)  # fmt: skip
    results = run(settings, store, first_night, history_start, args.days)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "durability.json").write_text(json.dumps(results, indent=2))
    print_durability(results)


if __name__ == "__main__":  # pragma: no cover
    main()
