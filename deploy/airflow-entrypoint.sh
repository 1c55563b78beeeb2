#!/usr/bin/env bash
# The official Airflow image's entrypoint rules, for the image built on a plain Debian base:
# `bash`, `python` and `airflow` commands run as given, anything else is an `airflow`
# subcommand (`api-server`, `scheduler`, `celery worker`, ...).
set -euo pipefail
case "${1:-}" in
    "") exec bash ;;
    bash | sh | python | python3 | airflow) exec "$@" ;;
    *) exec airflow "$@" ;;
esac
