"""`python -m cchc.security [bootstrap|purge-raw]` against the configured warehouse.

Used by compose's airflow-init (bootstrap) and by hand; the project CLI may wrap the same
functions.
"""

from __future__ import annotations

import argparse
import logging
import sys

from cchc import warehouse
from cchc.config import load_settings
from cchc.security.retention import purge_raw, purge_raw_from_config
from cchc.security.roles import SaltError, bootstrap_warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cchc.security")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("bootstrap", help="schemas, roles, grants, PII hash function (default)")
    purge = commands.add_parser("purge-raw", help="strip personal data from old raw versions")
    purge.add_argument("--months", type=int, help="default: CCHC_RAW_RETENTION_MONTHS")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    settings = load_settings()
    with warehouse.connect(settings, autocommit=True) as conn:
        if args.command == "purge-raw":
            report = purge_raw(conn, args.months) if args.months else purge_raw_from_config(conn)
            print(report.summary() if report else "raw retention is off")
            return 0
        warehouse.ensure_schemas(conn)
        try:
            report = bootstrap_warehouse(conn, settings)
        except SaltError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"warehouse bootstrap: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
