# Outpost: `make run` serves the API with demo data; `make test` runs the whole test suite.
# Both create .venv with python3 and install what they need (again only when pyproject.toml
# changes). The database defaults to outpost.db here; set OUTPOST_DATABASE_URL to change it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
# the suite runs on every core (pytest-xdist); PYTEST_WORKERS="-n 0" runs it in one process
PYTEST_ARGS ?=
PYTEST_WORKERS ?= -n auto
PG_UP = $(BIN)/python -c "import socket; socket.create_connection(('$(PG_HOST)', $(PG_PORT)), 2).close()" 2>/dev/null

.PHONY: run test bench migration revision

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(RUN_STAMP)

## run: install, migrate the database, seed the demo data (once), serve on 127.0.0.1:8000
##      with the scheduler inside (reminders are logged: no Firebase credentials needed)
##      (with --insecure-dev-secret: a development server may sign with the default key;
##      `outpost serve` alone refuses it)
run: $(RUN_STAMP)
	$(BIN)/outpost migrate
	$(BIN)/outpost seed-demo
	OUTPOST_SCHEDULER_ENABLED=$${OUTPOST_SCHEDULER_ENABLED:-true} $(BIN)/outpost serve --insecure-dev-secret

## test: install the test dependencies, make sure PostgreSQL is up, run every test
test: $(TEST_STAMP)
	@if ! $(PG_UP); then \
	  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then \
	    echo "PostgreSQL is down on $(PG_HOST):$(PG_PORT); starting it"; \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -n 1) main start || true; \
	    for i in 1 2 3 4 5 6 7 8 9 10; do $(PG_UP) && break; sleep 1; done; \
	  fi; \
	fi; \
	if $(PG_UP); then \
	  $(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "error: PostgreSQL is not reachable on $(PG_HOST):$(PG_PORT) (required in CI)" >&2; \
	  exit 1; \
	else \
	  echo "warning: PostgreSQL is not reachable on $(PG_HOST):$(PG_PORT); testing on SQLite only" >&2; \
	  $(BIN)/pytest $(PYTEST_WORKERS) --backend sqlite $(PYTEST_ARGS); \
	fi

## bench: the sync benchmark on SQLite and PostgreSQL, writes docs/benchmarks.md
##        (make bench BENCH_ARGS=--quick for a smoke pass; --help lists the flags)
bench: $(TEST_STAMP)
	$(BIN)/python bench/sync_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/fleet_bench.py $(filter --quick,$(BENCH_ARGS))

## migration: regenerate THE initial revision from the models (before the first release)
migration: $(TEST_STAMP)
	$(BIN)/python -m migrations.autogen --initial
	$(BIN)/ruff check --quiet --fix --select I,F401 migrations/versions
	$(BIN)/ruff format --quiet migrations/versions

## revision m="what changed": add a revision on top of head (after the first release)
revision: $(TEST_STAMP)
	@test -n "$(m)" || { echo 'usage: make revision m="what changed"' >&2; exit 2; }
	$(BIN)/python -m migrations.autogen -m "$(m)"
	$(BIN)/ruff check --quiet --fix --select I,F401 migrations/versions
	$(BIN)/ruff format --quiet migrations/versions
