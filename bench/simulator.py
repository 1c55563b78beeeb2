"""`python -m bench.simulator [--scale S] [--days N]`: how fast the simulator's store serves a
window page by page, by window length, against two baselines in the same run.

- keyset (ours): `SimStore.page` for pages 1, 2, …, each starting where the last one ended;
- OFFSET (baseline, the previous paging): each page re-counts the window and skips
  (page - 1) × size rows;
- one query (the limit): the whole window in one ordered scan (`SimStore.list`).

Reads the store in-process (no HTTP, no warehouse), so the figures are the store's own cost:
what a backfill's extraction waits for on the simulator's side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from cchc.simulators.store import _WINDOW_WHERE, SimStore
from cchc.synthetic.recordstore import decode_payload

PAGE_SIZE = 1000
RESULTS = Path(__file__).with_name("results")


def _offset_pages(store: SimStore, entity: str, start, end) -> int:
    """The previous paging: count the window, then LIMIT/OFFSET, for every page."""
    params = store._params(entity, start, end)
    served, page = 0, 1
    with store._connect() as conn:
        while True:
            total = conn.execute(f"SELECT count(*) {_WINDOW_WHERE}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT r.payload {_WINDOW_WHERE} ORDER BY r.version_at, r.record_key"
                " LIMIT :limit OFFSET :offset",
                {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
            ).fetchall()
            served += len([decode_payload(p) for (p,) in rows])
            if page * PAGE_SIZE >= total:
                return served
            page += 1


def _keyset_pages(store_path: Path, entity: str, start, end) -> int:
    store = SimStore(store_path)  # a fresh store: nothing remembered from another run
    served, page = 0, 1
    while True:
        result = store.page(entity, start, end, page, PAGE_SIZE)
        served += len(result.items)
        if page * PAGE_SIZE >= result.total:
            return served
        page += 1


def _one_query(store: SimStore, entity: str, start, end) -> int:
    return len(store.list(entity, start, end))


def _timed(function, *args) -> tuple[float, int]:
    started = time.perf_counter()
    rows = function(*args)
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, nargs="+", default=[1, 7, 28])
    parser.add_argument("--store", type=Path, help="an existing store (default: generate one)")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2024, 3, 4))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cchc-bench-sim-"))
    try:
        store_path = args.store
        if store_path is None:
            from cchc.synthetic import generate

            store_path = generate(
                work, args.first, args.first + timedelta(days=max(args.days)), scale=args.scale
            )
        store = SimStore(store_path)
        from cchc.extract.window import local_midnight

        print(f"dossier windows, pages of {PAGE_SIZE}; load average {os.getloadavg()[0]:.2f}")
        print(f"{'window':>7} {'versions':>9} {'keyset s':>9} {'OFFSET s':>9} {'one query s':>12}"
              f" {'OFFSET÷keyset':>14} {'keyset÷limit':>13}")  # fmt: skip
        results = []
        for days in args.days:
            window = (local_midnight(args.first), local_midnight(args.first + timedelta(days=days)))
            limit, rows = _timed(_one_query, store, "dossiers", *window)
            keyset, keyset_rows = _timed(_keyset_pages, store_path, "dossiers", *window)
            offset, offset_rows = _timed(_offset_pages, store, "dossiers", *window)
            assert rows == keyset_rows == offset_rows, (rows, keyset_rows, offset_rows)
            results.append({"days": days, "versions": rows, "keyset_s": round(keyset, 2),
                            "offset_s": round(offset, 2), "one_query_s": round(limit, 2),
                            "load_average": os.getloadavg()[0]})  # fmt: skip
            print(f"{days:>5} d {rows:>9,} {keyset:>9.2f} {offset:>9.2f} {limit:>12.2f}"
                  f" {offset / keyset:>13.1f}× {keyset / limit:>12.2f}×")  # fmt: skip
        RESULTS.mkdir(exist_ok=True)
        payload = {"scale": args.scale, "windows": results}
        (RESULTS / "simulator.json").write_text(json.dumps(payload, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
