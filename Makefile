# The two commands a newcomer needs: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test lint format bench clean airflow airflow-stop bi bi-stop docs

# Reinstall only when the dependency pins change.
$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(INSTALLED)

install: $(INSTALLED)

demo: install
	$(BIN)/cchc demo

# Look at it: the Airflow UI, the dashboards, the dbt docs (see README, "Look at it").
airflow: install
	$(BIN)/cchc airflow start

airflow-stop: install
	$(BIN)/cchc airflow stop

bi: install
	$(BIN)/cchc bi start

bi-stop: install
	$(BIN)/cchc bi stop

docs: install
	$(BIN)/cchc dbt docs

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser tests need the BI tool's own virtualenv (cached while its pins hold).
test: lint
	$(BIN)/cchc bi install
	$(BIN)/pytest

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

clean:
	-$(BIN)/cchc bi stop
	-$(BIN)/cchc airflow stop
	-$(BIN)/cchc warehouse stop
	rm -rf .data exports dbt_project/target dbt_project/logs expectations/uncommitted
