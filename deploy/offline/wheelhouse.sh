#!/usr/bin/env bash
# Fills wheelhouse/ with wheels of every pinned dependency of the Airflow image, and
# wheelhouse-superset/ with those of the offline Superset image (the BI profile), built on a
# machine that reaches the package index, so the images build on one that does not.
# The wheels are kept in caches outside the checkout (CCHC_WHEELHOUSE_CACHE,
# CCHC_SUPERSET_WHEELHOUSE_CACHE), each reused while its lock and this script are unchanged:
# requirements.lock pins every dependency of pyproject.toml, and
# include/cchc/bi/superset-requirements.lock every package of the BI tool.
# Python 3.11 on Linux x86-64, like the images.
set -euo pipefail
script="$(realpath "$0")"
cd "$(dirname "$script")/../.."
python="${PYTHON:-python3.11}"
bi=include/cchc/bi

# fill CACHE LOCK DEST PIP-WHEEL-ARGS...: the wheels of the lock, from the cache while it is
# complete for these pins; hard links into DEST where the cache is on the same disk.
fill() {
    local cache="$1" lock="$2" dest="$3" key
    shift 3
    key="$(cat "$lock" "$script" | sha256sum | cut -c1-16)"
    if [[ ! -f "$cache/.complete-$key" ]]; then
        rm -rf "$cache"
        mkdir -p "$cache"
        "$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$cache" \
            -c "$lock" "$@"
        touch "$cache/.complete-$key"
    fi
    mkdir -p "$dest"
    find "$dest" -maxdepth 1 -name '*.whl' -delete
    cp -l "$cache"/*.whl "$dest"/ 2>/dev/null || cp "$cache"/*.whl "$dest"/
    echo "$dest/: $(find "$dest" -maxdepth 1 -name '*.whl' | wc -l) wheels"
}

airflow_version="$(sed -n 's/^apache-airflow==//p' requirements.lock)"
# The build backend too: the image's editable install of the package needs it offline.
# async-timeout (both images): redis needs it on Python before 3.11.3, such as Debian
# bookworm's 3.11.2, and the locks, frozen on a newer Python, do not pin it.
fill "${CCHC_WHEELHOUSE_CACHE:-$HOME/.cache/cchc/wheelhouse}" requirements.lock wheelhouse \
    "apache-airflow[celery,postgres]==${airflow_version}" "setuptools>=68" async-timeout .
# The package itself is copied into the image, not installed from a wheel.
rm -rf wheelhouse/cchc_warehouse-*.whl build
fill "${CCHC_SUPERSET_WHEELHOUSE_CACHE:-$HOME/.cache/cchc/superset-wheelhouse}" \
    "$bi/superset-requirements.lock" wheelhouse-superset \
    -r "$bi/superset-requirements.txt" async-timeout
