"""Run the dbt project in-process (``dbt.cli.main.dbtRunner``) against the warehouse.

The profile reads the connection from ``CCHC_PG_*`` variables; :func:`run_dbt` sets them from
:class:`~cchc.config.PgParams` for the duration of the call, logs one line per node and raises
:class:`DbtRunError` naming the failing nodes when anything fails. dbt's ``target/`` and
``logs/`` stay inside ``dbt_project/`` (git-ignored; ``CCHC_DBT_TARGET_DIR`` moves target/).

:func:`dbt_parse` writes the manifest the per-model nightly DAG is rendered from
(``CCHC_DBT_TASKS=per_model``, :mod:`cchc.transform.dbt_tasks`): ``dbt parse`` needs no warehouse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cchc.config import REPO_ROOT, PgParams

log = logging.getLogger(__name__)

PROJECT_DIR = REPO_ROOT / "dbt_project"
# dbt's target/ (manifests, compiled SQL, run results, the docs build): `CCHC_DBT_TARGET_DIR`
# moves it, so that processes building different warehouses at the same time (parallel test
# workers) never rewrite each other's files.
TARGET_DIR = Path(os.environ.get("CCHC_DBT_TARGET_DIR") or PROJECT_DIR / "target")
# The precompiled manifest of the per-model DAG. Kept apart from target/manifest.json, which every
# dbt command rewrites in place: a DAG parsed meanwhile could read half a file.
MANIFEST_PATH = TARGET_DIR / "airflow" / "manifest.json"
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# dbt reads its settings and the profile's env_var() from the process environment: calls that
# change it must not overlap.
_ENV_LOCK = threading.Lock()


@dataclass(frozen=True)
class NodeResult:
    """The outcome of one dbt node (model, seed, test, unit test, snapshot, source)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float
    message: str | None
    failures: int | None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


class DbtRunError(RuntimeError):
    """dbt failed: a node errored or failed, or the invocation itself did not complete."""

    def __init__(self, args: list[str], failed: list[NodeResult], detail: str | None = None):
        self.command = args
        self.failed = failed
        self.detail = detail
        lines = [f"dbt {' '.join(args)} failed"]
        lines += [f"  {n.resource_type} {n.name}: {n.status}: {n.message}" for n in failed]
        if detail:
            lines.append(f"  {detail}")
        super().__init__("\n".join(lines))


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def profile_environment(pg: PgParams) -> dict[str, str]:
    """What dbt_project/profiles.yml reads: the warehouse connection, and no telemetry."""
    return {**pg.libpq_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}


def _project_environment(project_dir: Path) -> dict[str, str]:
    return {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_TARGET_PATH": str(
            TARGET_DIR if project_dir == PROJECT_DIR else project_dir / "target"
        ),
        "DBT_LOG_PATH": str(project_dir / "logs"),
    }


def _dbt_environment(pg: PgParams, project_dir: Path) -> dict[str, str]:
    return {**profile_environment(pg), **_project_environment(project_dir)}


def _message(item: object) -> str | None:
    message = getattr(item, "message", None)
    if message is None and getattr(item, "age", None) is not None:  # source freshness
        message = f"latest load {item.max_loaded_at:%Y-%m-%d %H:%M %Z}, {item.age / 3600:.1f} h old"
    return _ANSI.sub("", message).strip() if message else message


def _node_results(result: object) -> list[NodeResult]:
    """NodeResults from a dbtRunnerResult.result; commands without node results give []."""
    nodes = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:
            continue
        status = getattr(item, "status", "")
        source_name = getattr(node, "source_name", None)
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=f"{source_name}.{node.name}" if source_name else node.name,
                resource_type=str(node.resource_type),
                status=str(getattr(status, "value", status)),
                execution_time=float(getattr(item, "execution_time", 0.0) or 0.0),
                message=_message(item),
                failures=getattr(item, "failures", None),
            )
        )
    return nodes


def run_dbt(
    args: list[str], pg: PgParams | None = None, *, project_dir: Path = PROJECT_DIR
) -> list[NodeResult]:
    """Run ``dbt <args>`` in-process; return one NodeResult per node or raise DbtRunError.

    ``pg`` defaults to the warehouse in use (the embedded server is started when needed).
    """
    from dbt.cli.main import dbtRunner

    if pg is None:
        from cchc import warehouse

        pg = warehouse.params()
    started = time.perf_counter()
    with _ENV_LOCK, _environment(_dbt_environment(pg, project_dir)):
        outcome = dbtRunner().invoke(list(args))
    elapsed = time.perf_counter() - started
    nodes = _node_results(outcome.result)
    for node in nodes:
        log.info("dbt %s %s: %s in %.2fs", node.resource_type, node.name, node.status,
                 node.execution_time)  # fmt: skip
    log.info("dbt %s: %s, %d nodes in %.1fs", " ".join(args),
             "ok" if outcome.success else "FAILED", len(nodes), elapsed)  # fmt: skip
    if not outcome.success:
        failed = [n for n in nodes if n.failed]
        detail = str(outcome.exception) if outcome.exception is not None else None
        if not failed and detail is None:
            detail = "dbt reported failure without a failing node (see dbt_project/logs)"
        raise DbtRunError(list(args), failed, detail)
    return nodes


def dbt_build(
    pg: PgParams | None = None, *, full_refresh: bool = False, unit_tests: bool = True
) -> list[NodeResult]:
    """Load the seeds and build every model with its tests, in dependency order.

    ``dbt build`` runs seeds, models, unit tests and data tests of the whole DAG in one go
    (seeds before the models that read them), so no separate ``dbt seed`` call is needed.
    The nightly run passes ``unit_tests=False``: unit tests check the SQL's logic on fixed
    inputs, not the night's data, so they belong to CI (tests/dbt), not to every night.
    """
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        args += ["--exclude", "test_type:unit"]
    return run_dbt(args, pg)


def ensure_seeds(pg: PgParams | None = None) -> bool:
    """Load the seeds when the warehouse has none yet (a first night): the raw data-quality
    checks count working days with the holiday calendar before `dbt build` runs. Returns
    whether it loaded them."""
    import psycopg

    from cchc import warehouse

    pg = pg or warehouse.params()
    with psycopg.connect(pg.url()) as conn:
        if conn.execute("select to_regclass('staging.vn_public_holidays')").fetchone()[0]:
            return False
    run_dbt(["seed"], pg)
    return True


def dbt_parse(manifest_path: Path | None = None, *, project_dir: Path = PROJECT_DIR) -> Path:
    """Write the project's manifest (``dbt parse``) to ``manifest_path`` and return the path.

    The per-model nightly DAG is rendered from it at parse time (cosmos ``LoadMode.DBT_MANIFEST``),
    so the scheduler never runs dbt to draw the graph. No warehouse is needed: the profile's
    connection falls back to its defaults, and nothing connects. The file is replaced atomically,
    so a DAG parsed meanwhile reads the old manifest or the new one, never half of one; the
    previous ``partial_parse.msgpack`` beside it makes an unchanged project parse in seconds.
    """
    from dbt.cli.main import dbtRunner

    manifest_path = manifest_path or MANIFEST_PATH
    target = manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as scratch:
        scratch_dir = Path(scratch)
        partial = target / "partial_parse.msgpack"
        if partial.exists():
            shutil.copy2(partial, scratch_dir / partial.name)
        env = {**_project_environment(project_dir), "DBT_TARGET_PATH": scratch}
        started = time.perf_counter()
        with _ENV_LOCK, _environment(env):
            outcome = dbtRunner().invoke(["parse"])
        if not outcome.success:
            detail = str(outcome.exception) if outcome.exception is not None else None
            raise DbtRunError(["parse"], [], detail or "see dbt_project/logs/dbt.log")
        if (scratch_dir / partial.name).exists():
            os.replace(scratch_dir / partial.name, partial)
        os.replace(scratch_dir / "manifest.json", manifest_path)
    log.info("dbt parse: manifest written to %s in %.1fs", manifest_path,
             time.perf_counter() - started)  # fmt: skip
    return manifest_path
