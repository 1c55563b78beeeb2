"""`python -m bench.night_kit`: one night at real scale, rerun as often as profiling needs.

`bench.night` pays the backfill (minutes at scale 1.0) before every night it measures. The kit
pays it once: `make` loads the history before a night into a warehouse of its own (an embedded
server in the kit's folder), runs the full raw checks and the full dbt build, and keeps two
copies of its data folder:

- `before/`: the warehouse as the night finds it;
- `extracted/`: the same after the night's extract and its raw checks (night mode), so that the
  nightly dbt build alone can be rerun.

`night` copies one of them to a scratch folder, starts its server and the simulator, runs the
asked stages with their seconds (and the dbt build's slowest nodes), then deletes the copy
(`--keep` leaves it, with its server stopped; `--from` that kept data folder starts from it).
When the models changed since the kit was made, `--rebuild` gives the copy a full dbt build with
this code first (not timed), and `--stages ""` with `--keep` keeps that rebuilt copy as a new
starting point. Each kit or run uses the ports in
CCHC_PG_PORT_EMBEDDED and CCHC_SIM_PORT, so several can run side by side.

    python -m bench.night_kit make --store STORE --night 2024-04-16 --history-days 42 --kit KIT
    python -m bench.night_kit night --kit KIT --store STORE --night 2024-04-16
    python -m bench.night_kit night --kit KIT --store STORE --night 2024-04-16 --from extracted \\
        --stages dbt
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

STAGES = ("extract", "raw", "dbt", "marts", "export")


def _environment(data_dir: Path, work: Path) -> None:
    """Settings for a warehouse in `data_dir` (read by `load_settings`)."""
    os.environ.update({"CCHC_DATA_DIR": str(data_dir), "CCHC_EXPORT_DIR": str(work / "exports"),
                       "CCHC_PG_PORT_EMBEDDED": os.environ.get("CCHC_PG_PORT_EMBEDDED", "55497"),
                       "CCHC_SIM_PORT": os.environ.get("CCHC_SIM_PORT", "8897"),
                       "CCHC_DBT_TARGET_DIR": str(work / "dbt-target"),
                       "GX_ANALYTICS_ENABLED": "False", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"})  # fmt: skip
    os.environ.pop("CCHC_WAREHOUSE_URL", None)
    os.environ.pop("AIRFLOW_CONN_CCHC_WAREHOUSE", None)


def _store_file(store: Path) -> Path:
    return store / "store.sqlite" if store.is_dir() else store


def _copy(source: Path, target: Path) -> None:
    """A data folder copied whole (the server stopped), permissions kept."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)


class _Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, work):
        started = time.perf_counter()
        result = work()
        self.seconds[name] = round(time.perf_counter() - started, 2)
        print(f"{name}: {self.seconds[name]:.2f} s", flush=True)
        return result


def _night_stages(config, night: date, stages, project: Path, timer: _Timer) -> dict:
    """The asked stages of the night of `night` (01:00 to 01:00 local), as the nightly DAG
    runs them; returns the dbt build's slowest nodes when it ran."""
    from bench.night import node_times
    from cchc import warehouse
    from cchc.exports.progress import export_progress
    from cchc.extract.run import extract
    from cchc.extract.window import local_midnight
    from cchc.quality import run_checks
    from cchc.transform.dbt import dbt_build

    pg = warehouse.login_params("transformer", config)
    start = local_midnight(night) + timedelta(hours=1)
    found: dict = {}
    if "extract" in stages:
        batches = timer(
            "extract", lambda: extract(start, start + timedelta(days=1), settings=config)
        )
        found["night_versions"] = sum(b.loaded for b in batches)
    if "raw" in stages:
        timer("raw", lambda: run_checks(pg, f"kit-{night}", stage="raw", project_dir=project, mode="night"))  # fmt: skip
    if "dbt" in stages:
        nodes = timer("dbt", lambda: dbt_build(pg, unit_tests=False))
        found["dbt_nodes"] = node_times(nodes, top=25)
    if "marts" in stages:
        timer("marts", lambda: run_checks(pg, f"kit-{night}", stage="marts", project_dir=project))
    if "export" in stages:
        timer("export", lambda: export_progress(start + timedelta(days=1), config))
    return found


def make(args) -> None:
    from bench.night import _warm_up, backfill
    from cchc import warehouse
    from cchc.config import REPO_ROOT, load_settings
    from cchc.quality import run_checks
    from cchc.simulators.server import SimulatorProcess
    from cchc.transform.dbt import dbt_build, ensure_seeds

    kit = args.kit.resolve()
    kit.mkdir(parents=True, exist_ok=True)
    data = kit / "data"
    _environment(data, kit)
    settings = load_settings()
    project = REPO_ROOT / "expectations"
    timer = _Timer()
    _warm_up()
    try:
        warehouse.params(settings)  # initialises, starts and bootstraps the embedded server
        pg = warehouse.login_params("transformer", settings)
        ensure_seeds(pg)
        with SimulatorProcess(_store_file(args.store), port=settings.sim_port, token=settings.sim_token):  # fmt: skip
            batches = timer("load", lambda: backfill(settings, args.night, args.history_days))
            timer("raw_checks_full", lambda: run_checks(pg, "kit-history", stage="raw", project_dir=project, mode="full"))  # fmt: skip
            timer("dbt_build_full", lambda: dbt_build(pg, full_refresh=True, unit_tests=False))
            timer("marts_checks", lambda: run_checks(pg, "kit-history", stage="marts", project_dir=project))  # fmt: skip
            warehouse.stop_embedded(settings)
            _copy(data, kit / "before")
            warehouse.params(settings)
            _night_stages(settings, args.night, ("extract", "raw"), project, timer)
    finally:
        warehouse.stop_embedded(settings)
    _copy(data, kit / "extracted")
    shutil.rmtree(data)
    (kit / "kit.json").write_text(json.dumps({
        "store": str(args.store), "night": str(args.night), "history_days": args.history_days,
        "versions": sum(b.loaded for b in batches), "seconds": timer.seconds,
    }, indent=2) + "\n")  # fmt: skip
    print(f"kit ready in {kit}: before/ and extracted/")


def night(args) -> None:
    from bench.night import _warm_up
    from cchc import warehouse
    from cchc.config import REPO_ROOT, load_settings
    from cchc.simulators.server import SimulatorProcess

    stages = [stage for stage in args.stages.split(",") if stage]
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise SystemExit(f"unknown stages {sorted(unknown)}; among {', '.join(STAGES)}")
    work = Path(tempfile.mkdtemp(prefix="cchc-kit-night-", dir=args.scratch))
    data = work / "data"
    source = Path(args.source)
    _copy(source if source.is_absolute() else args.kit.resolve() / source, data)
    _environment(data, work)
    settings = load_settings()
    project = REPO_ROOT / "expectations"
    timer = _Timer()
    _warm_up()
    load_before = os.getloadavg()[0]
    try:
        warehouse.params(settings)
        if args.rebuild:
            from cchc.transform.dbt import dbt_build

            pg = warehouse.login_params("transformer", settings)
            timer("rebuild (not the night's)", lambda: dbt_build(pg, full_refresh=True, unit_tests=False))  # fmt: skip
        with SimulatorProcess(_store_file(args.store), port=settings.sim_port, token=settings.sim_token):  # fmt: skip
            found = _night_stages(settings, args.night, stages, project, timer)
    finally:
        warehouse.stop_embedded(settings)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    night_seconds = {name: s for name, s in timer.seconds.items() if name in STAGES}
    report = {"stages": timer.seconds, "total": round(sum(night_seconds.values()), 2),
              "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)], **found}  # fmt: skip
    print(json.dumps(report, indent=2))
    if args.keep:
        print(f"kept: {work} (CCHC_DATA_DIR={data})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("make", "night"):
        command = commands.add_parser(name)
        command.add_argument("--kit", type=Path, required=True, help="the kit's folder")
        command.add_argument("--store", type=Path, required=True, help="a generated store")
        command.add_argument("--night", type=date.fromisoformat, required=True)
    commands.choices["make"].add_argument("--history-days", type=int, default=42)
    run = commands.choices["night"]
    run.add_argument("--from", dest="source", default="before",
                     help="before, extracted (the kit's copies) or the absolute path of a data folder kept by --keep")  # fmt: skip
    run.add_argument("--rebuild", action="store_true",
                     help="a full dbt build with this code first, not timed as the night's (models changed since the kit)")  # fmt: skip
    run.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated: {','.join(STAGES)}")  # fmt: skip
    run.add_argument("--scratch", type=Path, help="where the copy goes (default: the temp folder)")
    run.add_argument("--keep", action="store_true", help="keep the copy (its server stopped)")
    args = parser.parse_args()
    make(args) if args.command == "make" else night(args)


if __name__ == "__main__":
    main()
