#!/usr/bin/env bash
# First start: initdb with the superuser and password from the environment, password
# (scram) logins from the network, the database POSTGRES_DB; later starts: the server only.
set -euo pipefail
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    pwfile="$(mktemp)"
    printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
    # initdb takes the server's timezone from TZ, as the official image does.
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 \
        --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait start
    if [[ "$db" != postgres ]]; then
        createdb --username="$user" "$db"
    fi
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop
fi
exec "$@"
