# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo schema check-schema worker beat bench load fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_data

run: demo
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql/   WebSocket: ws://$(HOST):$(PORT)/graphql/   admin: /admin/"
	DEBUG=1 $(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerate the committed schema file after changing the API.
schema: install
	$(BIN)/python manage.py graphql_schema --out schema.graphql

# Every benchmark of bench/ with its same-run baseline; results in bench/results/latest.md.
bench: migrate
	$(BIN)/python -m bench $(BENCH)

# The load benchmark alone, longer: LOAD_SECONDS (default here 300) of baseline, then of mixed traffic,
# at LOAD_RATE req/s (default 10).
load: migrate
	LOAD_SECONDS=$${LOAD_SECONDS:-300} $(BIN)/python -m bench load

# The long fuzz run by hand: FUZZ_EXAMPLES generated operations per root field in process, and
# FUZZ_EXAMPLES_OVER_HTTP against daphne (that part needs DATABASE_URL on PostgreSQL); new seeds each run.
FUZZ_EXAMPLES ?= 100
FUZZ_EXAMPLES_OVER_HTTP ?= 20
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_EXAMPLES_OVER_HTTP=$(FUZZ_EXAMPLES_OVER_HTTP) \
		$(BIN)/python -m pytest tests/hardening/test_fuzz.py -q $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker --loglevel=info

beat: install
	$(BIN)/celery -A config beat --loglevel=info

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles
