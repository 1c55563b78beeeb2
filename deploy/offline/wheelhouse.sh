#!/usr/bin/env bash
# Fills wheelhouse/ with wheels of every pinned dependency of the Airflow image, built on a
# machine that reaches the package index, so the image builds on one that does not.
# The wheels are kept in a cache outside the checkout (CCHC_WHEELHOUSE_CACHE) and reused
# while requirements.lock (which pins every dependency of pyproject.toml) and this script
# are unchanged.
# Python 3.11 on Linux x86-64, like the image.
set -euo pipefail
script="$(realpath "$0")"
cd "$(dirname "$script")/../.."
airflow_version="$(sed -n 's/^apache-airflow==//p' requirements.lock)"
cache="${CCHC_WHEELHOUSE_CACHE:-$HOME/.cache/cchc/wheelhouse}"
key="$(cat requirements.lock "$script" | sha256sum | cut -c1-16)"
if [[ ! -f "$cache/.complete-$key" ]]; then
    rm -rf "$cache"
    mkdir -p "$cache"
    # The build backend too: the image's editable install of the package needs it offline.
    # async-timeout: redis needs it on Python before 3.11.3, such as Debian bookworm's 3.11.2.
    "${PYTHON:-python3.11}" -m pip wheel --quiet --disable-pip-version-check \
        --wheel-dir "$cache" -c requirements.lock \
        "apache-airflow[celery,postgres]==${airflow_version}" "setuptools>=68" async-timeout .
    # The package itself is copied into the image, not installed from a wheel.
    rm -rf "$cache"/cchc-*.whl build
    touch "$cache/.complete-$key"
fi
# Hard links where the cache is on the same disk; a copy otherwise.
find wheelhouse -name '*.whl' -delete
cp -l "$cache"/*.whl wheelhouse/ 2>/dev/null || cp "$cache"/*.whl wheelhouse/
echo "wheelhouse/: $(find wheelhouse -name '*.whl' | wc -l) wheels"
