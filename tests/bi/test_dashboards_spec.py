"""The dashboards kept as code: every chart names a known dataset, every table is a mart the
BI login may read, and the form data Superset receives carries the filters and metrics."""

from __future__ import annotations

import json

from cchc.bi.provision import SCHEMA, form_data, load_spec, position
from cchc.config import REPO_ROOT

MARTS = {p.stem for p in (REPO_ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")}


def test_four_office_dashboards_on_known_datasets():
    spec = load_spec()
    datasets = {d["table"]: d for d in spec["datasets"]}
    assert len(spec["dashboards"]) == 4
    assert len({b["slug"] for b in spec["dashboards"]}) == 4
    names = [c["name"] for b in spec["dashboards"] for c in b["charts"]]
    assert len(names) == len(set(names)), "chart names identify charts: they must be unique"
    for board in spec["dashboards"]:
        assert len(board["charts"]) >= 2, board["slug"]
        for chart in board["charts"]:
            assert chart["dataset"] in datasets, chart["name"]
    for name, dataset in datasets.items():
        if "sql" in dataset:
            # A query reads marts only: the BI login could not read anything else anyway.
            schemas = {w.split(".")[0] for w in dataset["sql"].split() if "." in w and
                       w.split(".")[0].isidentifier() and w.split(".")[0] in
                       ("marts", "raw", "staging", "intermediate", "dq", "audit")}  # fmt: skip
            assert schemas == {SCHEMA}, name
        else:
            assert name in MARTS, f"{name} is not a mart"


def test_form_data_carries_metrics_and_filter():
    chart = {
        "name": "x",
        "viz_type": "table",
        "where": "scope_kind = 'agency'",
        "params": {"query_mode": "aggregate", "groupby": ["scope_name"],
                   "metrics": [{"label": "Tổng điểm", "sql": "max(total_points)"}]},
    }  # fmt: skip
    data = form_data(chart, 7)
    assert data["datasource"] == "7__table"
    assert data["metrics"][0]["sqlExpression"] == "max(total_points)"
    assert data["metrics"][0]["label"] == "Tổng điểm"
    assert data["adhoc_filters"] == [
        {"expressionType": "SQL", "clause": "WHERE", "sqlExpression": "scope_kind = 'agency'",
         "filterOptionName": "where"}
    ]  # fmt: skip
    json.dumps(data)  # Superset stores it as JSON


def test_layout_places_every_chart_once():
    layout = position("t", [(1, "a"), (2, "b"), (3, "c")])
    charts = [
        v["meta"]["chartId"]
        for v in layout.values()
        if isinstance(v, dict) and v["type"] == "CHART"
    ]
    assert sorted(charts) == [1, 2, 3]
    assert len(layout["GRID_ID"]["children"]) == 2
