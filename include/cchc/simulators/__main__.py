"""`python -m cchc.simulators --store STORE [--host H] [--port P] [--token T] [--faults SPEC]`"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cchc.simulators", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="store.sqlite from the generator")
    parser.add_argument("--host", default=os.environ.get("CCHC_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CCHC_SIM_PORT", "8780")))
    parser.add_argument("--token", default=os.environ.get("CCHC_SIM_TOKEN", "dev-token"))
    parser.add_argument(
        "--faults",
        default=os.environ.get("CCHC_SIM_FAULTS", ""),
        help='fault rates, e.g. "500:0.2,429:0.1,slow:0.05,delay=2" (default: $CCHC_SIM_FAULTS)',
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_app(args.store, args.token, args.faults)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
