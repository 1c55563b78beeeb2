"""Connect Metabase to the marts as the read-only BI login (compose `bi` profile).

`python -m cchc.security.metabase`, idempotent: on a fresh Metabase it completes the setup
(admin user, no usage tracking) with the warehouse connection; afterwards it logs in as the
admin and creates or updates that connection (a rotated `CCHC_BI_READER_PASSWORD` is applied
by running it again). Only the `marts` schema is synced; the role could not read more anyway.

Settings: METABASE_URL, METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD, CCHC_BI_DB_HOST,
CCHC_BI_DB_PORT, CCHC_BI_DB_NAME, CCHC_BI_DB_USER, CCHC_BI_READER_PASSWORD.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping

import httpx

log = logging.getLogger(__name__)

DATABASE_NAME = "CCHC marts"


def database_details(env: Mapping[str, str]) -> dict:
    return {
        "host": env.get("CCHC_BI_DB_HOST", "warehouse"),
        "port": int(env.get("CCHC_BI_DB_PORT", "5432")),
        "dbname": env.get("CCHC_BI_DB_NAME", "cchc"),
        "user": env.get("CCHC_BI_DB_USER", "cchc_bi"),
        "password": env["CCHC_BI_READER_PASSWORD"],
        "ssl": False,  # inside the compose network
        "schema-filters-type": "inclusion",
        "schema-filters-patterns": "marts",
    }


def _wait_ready(client: httpx.Client, attempts: int = 60) -> None:
    for _ in range(attempts):
        try:
            if client.get("/api/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(5)
    raise RuntimeError("Metabase did not become healthy")


def configure(client: httpx.Client, env: Mapping[str, str]) -> str:
    """Set up Metabase or update its marts connection; returns what was done."""
    _wait_ready(client)
    database = {"engine": "postgres", "name": DATABASE_NAME, "details": database_details(env)}
    admin = {"email": env["METABASE_ADMIN_EMAIL"], "password": env["METABASE_ADMIN_PASSWORD"]}
    properties = client.get("/api/session/properties").json()
    if not properties.get("has-user-setup"):
        response = client.post(
            "/api/setup",
            json={
                "token": properties["setup-token"],
                "user": {**admin, "first_name": "CCHC", "last_name": "Admin",
                         "site_name": "CCHC"},
                "prefs": {"site_name": "CCHC", "site_locale": "vi", "allow_tracking": False},
                "database": database,
            },
        )  # fmt: skip
        response.raise_for_status()
        return "set up with the marts connection"
    session = client.post(
        "/api/session", json={"username": admin["email"], "password": admin["password"]}
    )
    session.raise_for_status()
    client.headers["X-Metabase-Session"] = session.json()["id"]
    listed = client.get("/api/database").json()
    existing = [d for d in listed.get("data", listed) if d.get("name") == DATABASE_NAME]
    if existing:
        client.put(f"/api/database/{existing[0]['id']}", json=database).raise_for_status()
        return "marts connection updated"
    client.post("/api/database", json=database).raise_for_status()
    return "marts connection added"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = os.environ.get("METABASE_URL", "http://metabase:3000")
    with httpx.Client(base_url=url, timeout=60) as client:
        outcome = configure(client, os.environ)
    print(f"metabase: {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
