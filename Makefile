# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
RTMP_PORT ?= 1935
MEDIA_HTTP_PORT ?= 8088
MEDIA_LOG ?= var/media-server/run.log
RTMP_MODULE := /usr/lib/nginx/modules/ngx_rtmp_module.so

.PHONY: run test lint format install lock migrate demo schema check-schema worker beat bench load fuzz clean

# Installs exactly what requirements.lock pins (hashes checked) and package-lock.json's browser assets.
$(STAMP): requirements.lock package-lock.json
	@echo "== installing Python packages from requirements.lock, browser assets from package-lock.json"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -qq --require-hashes --no-deps -r requirements.lock
	@command -v npm >/dev/null || { echo "npm not found: install Node.js with npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	@npm ci --silent --no-audit --no-fund
	@touch $(STAMP)

install: $(STAMP)

# After editing pyproject.toml's dependencies: pin them again (see CONTRIBUTING).
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --custom-compile-command "make lock" -q -o requirements.lock

migrate: install
	@echo "== migrating the database"
	@$(BIN)/python manage.py migrate --noinput -v 0

demo: migrate
	@$(BIN)/python manage.py load_demo_data

# GraphiQL's page opens its WebSocket from http://HOST:PORT, so that origin is allowed. The media
# server (live video: nginx with its RTMP module) runs beside it when installed, its output in
# MEDIA_LOG, and stops with it.
run: demo
	@if command -v nginx >/dev/null && test -f $(RTMP_MODULE); then \
		mkdir -p $(dir $(MEDIA_LOG)); \
		MEDIA_SERVER_BACKEND_URL=http://$(HOST):$(PORT) MEDIA_SERVER_RTMP_PORT=$(RTMP_PORT) MEDIA_SERVER_HTTP_PORT=$(MEDIA_HTTP_PORT) \
			$(BIN)/python manage.py run_media_server >$(MEDIA_LOG) 2>&1 & media=$$!; \
		trap 'kill $$media 2>/dev/null' EXIT INT TERM; \
		video="  RTMP rtmp://127.0.0.1:$(RTMP_PORT)/live (media server log $(MEDIA_LOG))"; \
	else video="  (no live video: apt-get install nginx libnginx-mod-rtmp)"; fi; \
	echo "== serving  GraphiQL http://$(HOST):$(PORT)/graphql/  WebSocket ws://$(HOST):$(PORT)/graphql/  admin http://$(HOST):$(PORT)/admin/$$video"; \
	DEBUG=1 WEBSOCKET_ALLOWED_ORIGINS=$${WEBSOCKET_ALLOWED_ORIGINS:-http://$(HOST):$(PORT),http://localhost:$(PORT)} \
		MEDIA_SERVER_RTMP_PORT=$(RTMP_PORT) MEDIA_SERVER_HTTP_PORT=$(MEDIA_HTTP_PORT) \
		$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Ruff: lint, and the formatting it would write (`make format` writes it).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

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
	rm -rf $(VENV) node_modules db.sqlite3* media staticfiles
