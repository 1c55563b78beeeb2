# syntax=docker/dockerfile:1
# One image for every Airflow component and for the source simulators, so what the
# scheduler runs is exactly what the DAG processor parsed.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11

# Re-declared: an ARG before FROM is not visible after it.
ARG AIRFLOW_VERSION=3.3.2
# Set to false only to diagnose a build; a conflict it reports means the lock and the
# providers shipped in the base image disagree and some task will fail at run time.
ARG PIP_CHECK=true

# A government system must not phone home: dbt, Great Expectations and Cosmos all send
# usage statistics unless told not to.
ENV DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    GX_ANALYTICS_ENABLED=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False

# The repository is laid out under AIRFLOW_HOME exactly as in git, so dags/ is Airflow's
# default DAG folder and the package finds dbt_project/ and expectations/ beside it.
WORKDIR /opt/airflow

# The base image refuses pip as root; everything below runs as its `airflow` user.
USER airflow

# Dependencies first, in their own layer: editing a DAG or a model must not reinstall them.
COPY --chown=airflow:0 pyproject.toml requirements.lock README.md ./
COPY --chown=airflow:0 include/ include/

# - `-c requirements.lock`: the lock is a constraint file, not a requirements file, so it
#   only fixes versions of what the project needs and never installs extra packages into
#   the image.
# - `apache-airflow==${AIRFLOW_VERSION}` on the same line (the base image's documented
#   practice) keeps pip from moving the Airflow that the image was built around.
# - `-e`: an editable install keeps the package in include/ next to dbt_project/ and
#   expectations/; a copy in site-packages would lose the repository root that the
#   package's settings resolve paths against.
RUN pip install --no-cache-dir \
        "apache-airflow==${AIRFLOW_VERSION}" \
        -c requirements.lock \
        -e . \
    && if [ "${PIP_CHECK}" = "true" ]; then pip check; fi \
    && python -c "import importlib.metadata as m, sys; \
v = m.version('apache-airflow'); sys.exit(0 if v == '${AIRFLOW_VERSION}' else f'airflow moved to {v}')"

# DAGs, the dbt project and the expectation suites. .dockerignore lets through only these
# folders (and whichever of them exist), so local state never reaches the image.
COPY --chown=airflow:0 . .

# The dbt manifest the per-model nightly DAG (CCHC_DBT_TASKS=per_model) is drawn from: the DAG
# processor reads it instead of running dbt. `dbt parse` needs no warehouse.
RUN cchc dbt manifest

# Mount points for named volumes must exist and belong to `airflow` in the image;
# otherwise Docker creates them owned by root and tasks cannot write there.
RUN mkdir -p /opt/airflow/exports /opt/airflow/auth /opt/airflow/data
