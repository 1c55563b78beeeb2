"""dbt in the nightly DAG: one task (CCHC_DBT_TASKS=single) or one task per model (per_model).

The per-model DAG is drawn from a manifest written here by `dbt parse` (no warehouse), and
parsed with every network connection refused: drawing it must not reach the warehouse.
"""

from __future__ import annotations

import json
import os
import socket

import pytest
from airflow.dag_processing.dagbag import DagBag

from cchc.config import REPO_ROOT, PgParams
from cchc.transform import dbt

POOL = "cchc_warehouse_build"
BUILT = ("model", "seed")


def _task_id(node: dict) -> str:
    return f"dbt.{node['name']}_{node['resource_type']}_build"


def _refuse_connections(*args, **kwargs):
    raise AssertionError("the DAG connected somewhere while being parsed")


def _per_model_bag(monkeypatch, manifest_path, provinces: str = "H40") -> DagBag:
    monkeypatch.setenv("CCHC_DBT_TASKS", "per_model")
    monkeypatch.setenv("CCHC_PROVINCES", provinces)
    for source in ("ONESTOP", "PORTAL", "IOFFICE"):
        monkeypatch.setenv(f"AIRFLOW_CONN_CCHC_H45_{source}", f"http://:t@qt.example/{source}")
    monkeypatch.setattr(dbt, "MANIFEST_PATH", manifest_path)
    with pytest.MonkeyPatch.context() as guard:
        guard.setattr(socket.socket, "connect", _refuse_connections)
        guard.setattr(socket, "create_connection", _refuse_connections)
        guard.setattr("cchc.warehouse.params", _refuse_connections)
        return DagBag(dag_folder=str(REPO_ROOT / "dags"))


@pytest.fixture(scope="module")
def manifest_path(tmp_path_factory):
    return dbt.dbt_parse(tmp_path_factory.mktemp("dbt-manifest") / "manifest.json")


@pytest.fixture(scope="module")
def manifest(manifest_path) -> dict:
    return json.loads(manifest_path.read_text())


@pytest.fixture(scope="module")
def per_model(manifest_path):
    with pytest.MonkeyPatch.context() as monkeypatch:
        bag = _per_model_bag(monkeypatch, manifest_path, provinces="H40,H45")
    assert bag.import_errors == {}
    return bag


def built_nodes(manifest: dict) -> dict[str, dict]:
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in BUILT}


def two_model_tests(manifest: dict) -> dict[str, dict]:
    """Tests on more than one node (relationships): cosmos runs them as their own task."""
    return {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "test" and len(set(n["depends_on"]["nodes"])) > 1
    }


def dbt_tasks(dag) -> dict:
    return {t.task_id: t for t in dag.tasks if t.task_id.startswith("dbt.")}


def test_one_task_per_model_and_seed(per_model, manifest):
    dag = per_model.dags["cchc_nightly"]
    expected = {_task_id(n) for n in built_nodes(manifest).values()}
    expected |= {f"dbt.{n['name']}_test" for n in two_model_tests(manifest).values()}
    assert set(dbt_tasks(dag)) == expected
    assert "build_marts" not in dag.task_ids
    assert len([t for t in expected if t.endswith("_model_build")]) >= 40


def test_upstreams_follow_the_manifest_between_the_checks(per_model, manifest):
    dag = per_model.dags["cchc_nightly"]
    nodes = built_nodes(manifest)
    for node in nodes.values():
        parents = {_task_id(nodes[p]) for p in node["depends_on"].get("nodes", []) if p in nodes}
        task = dag.get_task(_task_id(node))
        # A model on the raw layer only (sources) starts once the raw data passed its checks.
        assert task.upstream_task_ids == (parents or {"check_raw"}), task.task_id
    for test in two_model_tests(manifest).values():
        parents = {_task_id(nodes[p]) for p in test["depends_on"]["nodes"] if p in nodes}
        assert dag.get_task(f"dbt.{test['name']}_test").upstream_task_ids == parents
    leaves = {
        t.task_id for t in dbt_tasks(dag).values() if not t.downstream_task_ids - {"check_marts"}
    }
    assert dag.get_task("check_marts").upstream_task_ids == leaves
    assert dag.get_task("check_raw").downstream_task_ids <= set(dbt_tasks(dag))


def test_each_task_builds_its_model_with_its_tests_but_no_unit_tests(per_model, manifest):
    dag = per_model.dags["cchc_nightly"]
    for node in built_nodes(manifest).values():
        task = dag.get_task(_task_id(node))
        assert type(task).__name__ == "DbtBuildLocalOperator", task.task_id
        assert task.select == f"fqn:{'.'.join(node['fqn'])}"
        assert "test_type:unit" in task.exclude.split()
    # A test on two models is not run with the first of them, only after both.
    tests = two_model_tests(manifest).values()
    assert tests, "the project has relationships tests; the manifest scan found none"
    for test in tests:
        for parent in set(test["depends_on"]["nodes"]) & set(built_nodes(manifest)):
            parent_task = dag.get_task(_task_id(manifest["nodes"][parent]))
            assert test["name"] in parent_task.exclude.split(), parent_task.task_id


def test_retries_pool_owner_and_alerts(per_model):
    from cchc.alerts import on_failure_callback

    for dag_id in ("cchc_nightly", "cchc_nightly_h45"):
        tasks = dbt_tasks(per_model.dags[dag_id]).values()
        assert tasks
        for task in tasks:
            assert task.retries >= 2, task.task_id
            # One slot, shared by every province's DAG: never two dbt commands at once.
            assert task.pool == POOL, task.task_id
            assert task.owner == "cchc-data-platform", task.task_id
            assert on_failure_callback in (task.on_failure_callback or []), task.task_id
    pools = json.loads((REPO_ROOT / "include/cchc/orchestration/pools.json").read_text())
    assert pools[POOL]["slots"] == 1


def test_full_refresh_on_demand(per_model):
    dag = per_model.dags["cchc_nightly"]
    assert dag.params["full_refresh"] is False  # scheduled nights are incremental
    for task in dbt_tasks(dag).values():
        if task.task_id.endswith("_build"):
            assert task.full_refresh == "{{ params.full_refresh }}", task.task_id
    task = next(t for t in dbt_tasks(dag).values() if t.task_id.endswith("_model_build"))
    task.full_refresh = "True"  # as rendered from {"full_refresh": true}
    assert "--full-refresh" in task.add_cmd_flags()
    task.full_refresh = "False"
    assert "--full-refresh" not in task.add_cmd_flags()


def test_the_warehouse_is_looked_up_when_a_task_starts(monkeypatch):
    from cchc.transform import dbt_tasks as module

    pg = PgParams("db.example", 5433, "cchc_dbt", "s3cret-pass", "cchc")
    logins = []
    monkeypatch.setattr("cchc.warehouse.login_params", lambda login: logins.append(login) or pg)
    for name in pg.libpq_env():
        monkeypatch.setenv(name, "unset")  # restored (to absent) after the test
    module._connect_to_warehouse({}, operator=None)
    assert os.environ["CCHC_PG_HOST"] == "db.example"
    assert os.environ["CCHC_PG_PASSWORD"] == "s3cret-pass"
    assert logins == ["transformer"]  # dbt connects as the transformer login, not the owner


def test_a_missing_manifest_is_a_clear_import_error(monkeypatch, tmp_path):
    bag = _per_model_bag(monkeypatch, tmp_path / "nowhere" / "manifest.json")
    (error,) = bag.import_errors.values()
    assert "cchc dbt manifest" in error and "CCHC_DBT_TASKS" in error
    assert "cchc_nightly" not in bag.dags


def test_an_unknown_mode_is_a_clear_import_error(monkeypatch):
    monkeypatch.setenv("CCHC_DBT_TASKS", "per-model")
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert any(
        "CCHC_DBT_TASKS must be one of single, per_model" in e for e in bag.import_errors.values()
    )


def test_single_mode_is_one_build_task(monkeypatch):
    monkeypatch.delenv("CCHC_DBT_TASKS", raising=False)
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["cchc_nightly"]
    assert not dbt_tasks(dag)
    build = dag.get_task("build_marts")
    assert build.pool == POOL and build.retries >= 2
    assert build.upstream_task_ids == {"check_raw"}
    assert build.downstream_task_ids == {"check_marts"}

    calls = []
    monkeypatch.setattr(dbt, "dbt_build", lambda **kwargs: calls.append(kwargs))
    # dbt runs as the transformer login, never as the warehouse's owner
    monkeypatch.setattr("cchc.warehouse.login_params", lambda login: f"{login} login")
    for full_refresh in (False, True):
        build.python_callable(params={"full_refresh": full_refresh})
    assert calls == [
        {"pg": "transformer login", "full_refresh": False, "unit_tests": False},
        {"pg": "transformer login", "full_refresh": True, "unit_tests": False},
    ]
