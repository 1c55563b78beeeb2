"""Benchmarks: `make bench` (or `python -m bench`). Each prints figures next to a baseline
measured in the same run; results are written to bench/results/ and summarised in
docs/benchmarks.md."""

import os
import tempfile
from pathlib import Path


def data_folder() -> tuple[Path, bool]:
    """The benchmark's data folder: CCHC_DATA_DIR if set, else a new temporary one (True:
    the caller deletes it); fast durability unless told otherwise."""
    temporary = not os.environ.get("CCHC_DATA_DIR")
    work = Path(os.environ.get("CCHC_DATA_DIR") or tempfile.mkdtemp(prefix="cchc-bench-"))
    os.environ["CCHC_DATA_DIR"] = str(work)
    os.environ.setdefault("CCHC_PG_DURABILITY", "fast")
    return work, temporary
