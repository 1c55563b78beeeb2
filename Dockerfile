# One image for every Airflow component and for the source simulators, so what the
# scheduler runs is exactly what the DAG processor parsed.
#
# Two ways to build it (README, "Running the stack with Docker Compose"):
# - on the official Airflow image (the default BASE_IMAGE), with the package index;
# - on a closed network: BASE_IMAGE a Debian bookworm image with Python 3.11 (deploy/offline/
#   base.sh makes one), and the pinned wheels in wheelhouse/ (deploy/offline/wheelhouse.sh
#   fills it on a machine that reaches the index). With wheels there, pip never goes online.
# No `# syntax=` line: the builder built into the engine is used, so no frontend is pulled.
ARG AIRFLOW_VERSION=3.3.2
ARG BASE_IMAGE=apache/airflow:${AIRFLOW_VERSION}-python3.11
FROM ${BASE_IMAGE}

# Re-declared: an ARG before FROM is not visible after it.
ARG AIRFLOW_VERSION=3.3.2
# Set to false only to diagnose a build; a conflict it reports means the lock and the
# providers shipped in the base image disagree and some task will fail at run time.
ARG PIP_CHECK=true

# A government system must not phone home: dbt, Great Expectations and Cosmos all send
# usage statistics unless told not to. On a Debian base, Airflow lives in /opt/cchc-venv
# (absent, and so ignored, on the official image).
ENV DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    GX_ANALYTICS_ENABLED=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    AIRFLOW_HOME=/opt/airflow \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/cchc-venv/bin:$PATH

# The official image brings the `airflow` user (uid 50000, group 0) and its entrypoint; a
# plain Debian base gets the same user, a virtualenv, and an entrypoint with the same rules.
USER root
COPY deploy/airflow-entrypoint.sh /usr/local/bin/cchc-airflow-entrypoint
RUN if [ ! -e /entrypoint ]; then \
        useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home airflow \
        && python3.11 -m venv /opt/cchc-venv \
        && mkdir -p /opt/airflow \
        && chown -R airflow:0 /opt/cchc-venv /opt/airflow \
        && ln -s /usr/local/bin/cchc-airflow-entrypoint /entrypoint; \
    fi
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
CMD []

# The repository is laid out under AIRFLOW_HOME exactly as in git, so dags/ is Airflow's
# default DAG folder and the package finds dbt_project/ and expectations/ beside it.
WORKDIR /opt/airflow

# The official image refuses pip as root; everything below runs as `airflow`.
USER airflow

# Dependencies first, in their own layer: only the pins and the package's marker file go in,
# so editing the package, a DAG or a model never reinstalls them.
COPY --chown=airflow:0 pyproject.toml requirements.lock README.md ./
COPY --chown=airflow:0 include/cchc/__init__.py include/cchc/__init__.py

# - `-c requirements.lock`: the lock is a constraint file, not a requirements file, so it
#   only fixes versions of what the project needs and never installs extra packages.
# - `apache-airflow[celery,postgres]==${AIRFLOW_VERSION}` on the same line (the base image's
#   documented practice) keeps pip from moving Airflow; `celery` for the Celery profile,
#   `postgres` for the metadata database's async driver (both already in the official image).
# - `-e`: an editable install keeps the package in include/ next to dbt_project/ and
#   expectations/; a copy in site-packages would lose the repository root that the
#   package's settings resolve paths against.
# - wheelhouse/ is mounted, not copied: its wheels never end up in a layer.
RUN --mount=type=bind,source=wheelhouse,target=/tmp/wheelhouse \
    offline=""; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
        offline="--no-index --find-links /tmp/wheelhouse"; \
    fi; \
    pip install --no-cache-dir --disable-pip-version-check $offline \
        "apache-airflow[celery,postgres]==${AIRFLOW_VERSION}" \
        -c requirements.lock \
        -e . \
    && if [ "${PIP_CHECK}" = "true" ]; then pip check; fi \
    && python -c "import importlib.metadata as m, sys; \
v = m.version('apache-airflow'); sys.exit(0 if v == '${AIRFLOW_VERSION}' else f'airflow moved to {v}')"

# DAGs, the package, the dbt project and the expectation suites (not wheelhouse/).
COPY --chown=airflow:0 dags/ dags/
COPY --chown=airflow:0 include/ include/
COPY --chown=airflow:0 dbt_project/ dbt_project/
COPY --chown=airflow:0 expectations/ expectations/

# The dbt manifest the per-model nightly DAG (CCHC_DBT_TASKS=per_model) is drawn from: the DAG
# processor reads it instead of running dbt. `dbt parse` needs no warehouse.
RUN cchc dbt manifest

# Mount points for named volumes must exist and belong to `airflow` in the image;
# otherwise Docker creates them owned by root and tasks cannot write there.
RUN mkdir -p /opt/airflow/exports /opt/airflow/auth /opt/airflow/data /opt/airflow/logs
