"""The nightly dbt build as one Airflow task per model (astronomer-cosmos): `CCHC_DBT_TASKS=per_model`.

The task group is drawn at DAG parse time from the precompiled manifest
(:data:`cchc.transform.dbt.MANIFEST_PATH`, written by `cchc dbt manifest`; the image builds it):
parsing reads one JSON file and never runs dbt, opens no connection and calls no network. Each
task runs ``dbt build --select <model>`` in-process (dbtRunner) in a temporary copy of the
project: the model, then its data tests, so a failing test stops what is built on the model,
as in one ``dbt build``. Tests on two models (relationships) run as their own task after both.
Unit tests stay in CI, as in the single-task mode. The warehouse connection is looked up when a
task starts, never at parse time, and reaches dbt through the environment that
``dbt_project/profiles.yml`` reads, never through a templated (rendered, stored) field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cchc.transform import dbt

GROUP_ID = "dbt"
PROFILE_NAME = "cchc"
TARGET_NAME = "dev"  # dbt_project/profiles.yml
# Nightly like dbt_build(unit_tests=False): unit tests check the SQL on fixed inputs, in CI.
NIGHTLY_EXCLUDE = "test_type:unit"


class ManifestMissingError(RuntimeError):
    """The per-model DAG cannot be drawn: the precompiled manifest is missing."""


def _connect_to_warehouse(context: Any, operator: Any) -> None:
    """Cosmos interceptor, run when a dbt task starts: the profile's connection variables.

    Set in the task's process environment (which cosmos hands to dbt) rather than in the
    operator's templated ``env``, so the password is never rendered into the task's fields.
    """
    from cchc import warehouse
    from cchc.security import mask_connection_secrets

    # The transformer login; starts the embedded server when it is the warehouse in use.
    pg = warehouse.login_params("transformer")
    mask_connection_secrets(pg.password)  # not the URL: its user name (`cchc`) is everywhere
    os.environ.update(dbt.profile_environment(pg))


def dbt_task_group(*, pool: str, manifest_path: Path | None = None, group_id: str = GROUP_ID):
    """A cosmos ``DbtTaskGroup`` building every model of the project, each task in ``pool``.

    Call it inside a DAG: its tasks take the DAG's default_args (retries, alerts). A full
    rebuild is the DAG's ``full_refresh`` param, passed to every model and seed task.
    """
    manifest_path = manifest_path or dbt.MANIFEST_PATH
    if not manifest_path.is_file():
        raise ManifestMissingError(
            f"CCHC_DBT_TASKS=per_model draws the dbt tasks from the manifest {manifest_path}, "
            "which does not exist: run `cchc dbt manifest` (the Docker image and "
            "`cchc night run` write it), or set CCHC_DBT_TASKS=single"
        )

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=dbt.PROJECT_DIR,
            manifest_path=manifest_path,
            project_name=PROFILE_NAME,
            # The project installs no packages: no `dbt deps` before each task.
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name=PROFILE_NAME,
            target_name=TARGET_NAME,
            profiles_yml_filepath=dbt.PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # Exposures document who reads the marts (exports, BI); there is nothing to run.
            exclude=["resource_type:exposure"],
            # `dbt build --select <model>`: the model, then its tests, in one task.
            test_behavior=TestBehavior.BUILD,
            # A test on two models runs once both are built, not with the first one.
            should_detach_multiple_parents_tests=True,
            # Assets of the marts would carry the warehouse's host; the DAG publishes raw ones.
            emit_datasets=False,
            # Every task is the data platform's, as the DAG's default_args say.
            enable_owner_inheritance=False,
        ),
        operator_args={
            "pool": pool,
            "exclude": NIGHTLY_EXCLUDE,
            "full_refresh": "{{ params.full_refresh }}",
            "interceptors": [_connect_to_warehouse],
        },
    )
