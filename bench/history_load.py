"""`python -m bench.history_load`: the initial load alone (`load_history`, as a province's
backfill runs it) from a generated store through the HTTP simulator into a fresh database:
seconds, versions per second, peak RSS, and the CPU seconds of each of the three processes
that share the machine (ours, the simulator's, PostgreSQL's), which say where the load's time
goes better than wall seconds on a busy machine.

    python -m bench.history_load --store STORE --night 2024-04-16 --history-days 7

The warehouse is the embedded server of CCHC_DATA_DIR on CCHC_PG_PORT_EMBEDDED (a database of
its own, dropped afterwards; the server stopped), the simulator listens on CCHC_SIM_PORT.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _postgres_cpu(postmaster: int) -> float:
    """The CPU seconds of the postmaster and its children (the backends; those that ended are
    counted in the postmaster's cutime and cstime)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == postmaster:
            total += sum(int(f) for f in fields[11:15]) / _TICKS
        elif int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def _postmaster(settings) -> int:
    return int((settings.data_dir / "pg" / "postmaster.pid").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="a generated store")
    parser.add_argument("--night", type=date.fromisoformat, required=True)
    parser.add_argument("--history-days", type=int, default=7)
    args = parser.parse_args()
    store = args.store / "store.sqlite" if args.store.is_dir() else args.store

    from bench.night import backfill, fresh_warehouse
    from cchc import warehouse
    from cchc.config import load_settings
    from cchc.simulators.server import SimulatorProcess

    settings = load_settings()
    try:
        server = warehouse.params(settings)
        postmaster = _postmaster(settings)
        load = os.getloadavg()[0]
        with (
            fresh_warehouse(server, settings, "history") as (_, config),
            SimulatorProcess(store, port=settings.sim_port, token=settings.sim_token) as sim,
        ):
            simulator = sim._process.pid
            ours, theirs, pg = (
                time.process_time(),
                _cpu_seconds(simulator),
                _postgres_cpu(postmaster),
            )
            started = time.perf_counter()
            batches = backfill(config, args.night, args.history_days)
            seconds = time.perf_counter() - started
            ours = time.process_time() - ours
            theirs = _cpu_seconds(simulator) - theirs
            pg = _postgres_cpu(postmaster) - pg
    finally:
        warehouse.stop_embedded(settings)
    versions = sum(b.loaded for b in batches)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{args.history_days} days: {versions:,} versions in {seconds:.1f} s "
        f"({versions / seconds:,.0f} versions/s), {len(batches)} batches, peak RSS {rss} MB; "
        f"CPU s: ours {ours:.1f}, simulator {theirs:.1f}, PostgreSQL {pg:.1f}; "
        f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
