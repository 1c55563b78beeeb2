"""Provision Superset from `dashboards.yml` through its REST API; idempotent.

Creates or updates, by name: the marts connection (as `cchc_bi`, its password read the way
`cchc.security.roles` keeps it), the datasets (with the dbt docs' column descriptions), the
charts and the dashboards with their layout. Running it again after a password rotation or a
change to the file updates everything in place; nothing is duplicated.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml

from cchc.config import Settings

SPEC = Path(__file__).with_name("dashboards.yml")
DATABASE_NAME = "CCHC marts"
SCHEMA = "marts"


class ProvisionError(RuntimeError):
    pass


def marts_uri(settings: Settings) -> str:
    """The BI login's connection: read-only `cchc_bi`, marts only."""
    from cchc import warehouse
    from cchc.security.roles import BI_LOGIN, login_passwords

    pg = warehouse.params(settings)
    password = login_passwords(settings)[BI_LOGIN] or ""
    from urllib.parse import quote

    return (
        f"postgresql+psycopg2://{BI_LOGIN}:{quote(password, safe='')}"
        f"@{pg.host}:{pg.port}/{pg.dbname}"
    )


def column_descriptions(settings: Settings) -> dict[str, dict[str, str]]:
    """Column descriptions per mart from the dbt manifest (the docs site's, else dbt's own)."""
    from cchc.transform.dbt import TARGET_DIR
    from cchc.transform.docs_site import docs_dir

    candidates = (
        docs_dir(settings) / "manifest.json",
        TARGET_DIR / "manifest.json",
        TARGET_DIR / "airflow" / "manifest.json",  # the Docker image's
    )
    for path in candidates:
        if path.exists():
            nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"].values()
            return {
                n["name"]: {c: v.get("description", "") for c, v in n["columns"].items()}
                for n in nodes
                if n.get("resource_type") == "model" and n.get("schema") == SCHEMA
            }
    return {}


class Superset:
    def __init__(self, url: str, username: str, password: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=120, headers={"Referer": url})
        login = self.http.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )
        if login.status_code != 200:
            raise ProvisionError(f"Superset refused the admin login: {login.text[:300]}")
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self._ok(self.http.get("/api/v1/security/csrf_token/"))
        self.http.headers["X-CSRFToken"] = csrf["result"]

    def _ok(self, response: httpx.Response) -> dict:
        if response.status_code >= 400:
            raise ProvisionError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:800]}"
            )
        return response.json() if response.content else {}

    def _list(self, resource: str, columns: list[str]) -> list[dict]:
        query = f"(columns:!({','.join(columns)}),page:0,page_size:100)"
        return self._ok(self.http.get(f"/api/v1/{resource}/", params={"q": query}))["result"]

    def _upsert(self, resource: str, existing: dict | None, body: dict) -> int:
        if existing:
            self._ok(self.http.put(f"/api/v1/{resource}/{existing['id']}", json=body))
            return existing["id"]
        return self._ok(self.http.post(f"/api/v1/{resource}/", json=body))["id"]

    def database(self, uri: str) -> int:
        found = [d for d in self._list("database", ["id", "database_name"])
                 if d["database_name"] == DATABASE_NAME]  # fmt: skip
        body = {
            "database_name": DATABASE_NAME,
            "sqlalchemy_uri": uri,
            "expose_in_sqllab": True,
            "allow_dml": False,
            "extra": json.dumps({"schemas_allowed_for_file_upload": []}),
        }
        return self._upsert("database", found[0] if found else None, body)

    def dataset(self, database_id: int, spec: dict, descriptions: dict[str, str]) -> int:
        name = spec["table"]
        found = [d for d in self._list("dataset", ["id", "table_name", "schema"])
                 if d["table_name"] == name and d["schema"] == SCHEMA]  # fmt: skip
        if found:
            dataset_id = found[0]["id"]
            if spec.get("sql"):
                self._ok(self.http.put(f"/api/v1/dataset/{dataset_id}", json={"sql": spec["sql"]}))
        else:
            body = {"database": database_id, "schema": SCHEMA, "table_name": name}
            if spec.get("sql"):
                body["sql"] = spec["sql"]
            dataset_id = self._ok(self.http.post("/api/v1/dataset/", json=body))["id"]
        self._ok(self.http.put(f"/api/v1/dataset/{dataset_id}/refresh"))
        columns = self._ok(self.http.get(f"/api/v1/dataset/{dataset_id}"))["result"]["columns"]
        described = []
        for column in columns:
            text = descriptions.get(column["column_name"]) or column.get("description") or ""
            described.append({
                "id": column["id"], "column_name": column["column_name"], "description": text,
                # The Vietnamese term before the dash ("Tổng điểm — ...") heads the column.
                "verbose_name": text.split(" — ")[0].strip() if " — " in text else None,
            })  # fmt: skip
        self._ok(self.http.put(f"/api/v1/dataset/{dataset_id}", json={"columns": described}))
        return dataset_id

    def dashboard(self, spec: dict) -> dict:
        found = [d for d in self._list("dashboard", ["id", "slug"]) if d["slug"] == spec["slug"]]
        body = {"dashboard_title": spec["title"], "slug": spec["slug"], "published": True}
        return {"id": self._upsert("dashboard", found[0] if found else None, body)}

    def chart(self, spec: dict, dataset_id: int, dashboard_id: int) -> int:
        found = [c for c in self._list("chart", ["id", "slice_name"])
                 if c["slice_name"] == spec["name"]]  # fmt: skip
        params = form_data(spec, dataset_id)
        body = {
            "slice_name": spec["name"],
            "viz_type": spec["viz_type"],
            "datasource_id": dataset_id,
            "datasource_type": "table",
            "params": json.dumps(params, ensure_ascii=False),
            "query_context": None,
            "dashboards": [dashboard_id],
        }
        return self._upsert("chart", found[0] if found else None, body)

    def layout(self, dashboard_id: int, title: str, charts: list[tuple[int, str]]) -> None:
        body = {
            "position_json": json.dumps(position(title, charts), ensure_ascii=False),
            "json_metadata": json.dumps({"color_scheme": "supersetColors", "refresh_frequency": 0,
                                         "native_filter_configuration": []}),
        }  # fmt: skip
        self._ok(self.http.put(f"/api/v1/dashboard/{dashboard_id}", json=body))


def _metric(spec: dict) -> dict:
    return {"expressionType": "SQL", "sqlExpression": spec["sql"], "label": spec["label"],
            "hasCustomLabel": True, "optionName": f"metric_{abs(hash(spec['label']))}"}  # fmt: skip


def form_data(spec: dict, dataset_id: int) -> dict:
    """Superset's form data for a chart of the spec: metrics and filters as SQL."""
    params = dict(spec.get("params") or {})
    if "metrics" in params:
        params["metrics"] = [_metric(m) for m in params["metrics"]]
    if "timeseries_limit_metric" in params:
        params["timeseries_limit_metric"] = _metric(params["timeseries_limit_metric"])
    filters = []
    if spec.get("where"):
        filters.append({"expressionType": "SQL", "clause": "WHERE", "sqlExpression": spec["where"],
                        "filterOptionName": "where"})  # fmt: skip
    return {
        **params,
        "viz_type": spec["viz_type"],
        "datasource": f"{dataset_id}__table",
        "adhoc_filters": filters,
        "time_range": "No filter",
    }


def position(title: str, charts: list[tuple[int, str]]) -> dict:
    """A dashboard layout: two charts a row, each half the width."""
    layout: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
    }
    for start in range(0, len(charts), 2):
        row_id = f"ROW-{start // 2}"
        layout["GRID_ID"]["children"].append(row_id)
        layout[row_id] = {"type": "ROW", "id": row_id, "children": [],
                          "parents": ["ROOT_ID", "GRID_ID"],
                          "meta": {"background": "BACKGROUND_TRANSPARENT"}}  # fmt: skip
        for chart_id, name in charts[start : start + 2]:
            key = f"CHART-{chart_id}"
            layout[row_id]["children"].append(key)
            layout[key] = {"type": "CHART", "id": key, "children": [],
                           "parents": ["ROOT_ID", "GRID_ID", row_id],
                           "meta": {"chartId": chart_id, "width": 6, "height": 60,
                                    "sliceName": name}}  # fmt: skip
    return layout


def load_spec(path: Path = SPEC) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def provision(
    settings: Settings, url: str, username: str, password: str, uri: str | None = None
) -> dict[str, str]:
    """Create or update everything in the spec; returns each dashboard's title and address.
    `uri` is the marts connection (default: the BI login on the warehouse in use)."""
    spec = load_spec()
    client = Superset(url, username, password)
    database_id = client.database(uri or marts_uri(settings))
    descriptions = column_descriptions(settings)
    every_column: dict[str, str] = {}
    for columns in descriptions.values():
        for name, text in columns.items():
            every_column.setdefault(name, text)
    datasets = {}
    for dataset in spec["datasets"]:
        # A query's columns take the description of the mart column of the same name.
        known = descriptions.get(dataset["table"]) or every_column
        datasets[dataset["table"]] = client.dataset(database_id, dataset, known)
    addresses = {}
    for board in spec["dashboards"]:
        dashboard_id = client.dashboard(board)["id"]
        charts = [
            (client.chart(chart, datasets[chart["dataset"]], dashboard_id), chart["name"])
            for chart in board["charts"]
        ]
        client.layout(dashboard_id, board["title"], charts)
        addresses[board["title"]] = f"{url}/superset/dashboard/{board['slug']}/"
    return addresses


def main() -> int:
    """The compose `bi` profile's one-shot `superset-setup`: provision from the environment
    (SUPERSET_URL, SUPERSET_ADMIN_USERNAME, SUPERSET_ADMIN_PASSWORD, CCHC_BI_DB_HOST,
    CCHC_BI_DB_PORT, CCHC_BI_DB_NAME, CCHC_BI_READER_PASSWORD)."""
    import os
    import time
    from urllib.parse import quote

    from cchc.config import load_settings
    from cchc.security.roles import BI_LOGIN

    env = os.environ
    url = env.get("SUPERSET_URL", "http://superset:8088")
    uri = (
        f"postgresql+psycopg2://{BI_LOGIN}:{quote(env['CCHC_BI_READER_PASSWORD'], safe='')}"
        f"@{env.get('CCHC_BI_DB_HOST', 'warehouse')}:{env.get('CCHC_BI_DB_PORT', '5432')}"
        f"/{env.get('CCHC_BI_DB_NAME', 'cchc')}"
    )
    for _ in range(60):  # Superset may still be starting
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(5)
    boards = provision(
        load_settings(), url, env.get("SUPERSET_ADMIN_USERNAME", "admin"),
        env["SUPERSET_ADMIN_PASSWORD"], uri,
    )  # fmt: skip
    for title, address in boards.items():
        print(f"{title}: {address}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
