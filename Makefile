# Samverkan. Quick start: `make run` (demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt messages makemessages migrate demo worker schema check bench clean

help:
	@echo "make run    – install, migrate, load demo data, serve http://$(HOST):$(PORT) (with a Celery worker and beat)"
	@echo "make test   – install and run the whole test suite"
	@echo "make lint   – ruff"
	@echo "make schema – write the OpenAPI schema to docs/openapi.yaml"

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

messages: $(STAMP)
	$(BIN)/pybabel compile -d locale -D django --statistics 2>&1 | tail -n 3

makemessages: export DEBUG ?= 1
makemessages: $(STAMP)
	$(PY) manage.py makemessages -l sv -l en --ignore='.venv/*' --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l sv -l en --ignore='.venv/*' --ignore='staticfiles/*' --no-obsolete || true

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# The demo runs Celery with beat on an embedded SQLite broker, so periodic tasks run without a server.
run: export DEBUG ?= 1
run: export CELERY_BROKER_URL ?= sqla+sqlite:///var/celery-broker.sqlite3
run: $(STAMP) messages
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py run_demo --host $(HOST) --port $(PORT)

worker: $(STAMP)
	$(BIN)/celery -A config worker -B --loglevel INFO

test: $(STAMP) messages
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

fmt: $(STAMP)
	$(BIN)/ruff check --fix .

schema: export DEBUG ?= 1
schema: $(STAMP)
	$(PY) manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

check: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# --- Benchmarks and load test (issue #7; PostgreSQL only, after generate_data) ------------------------------
# SCALES picks the databases by scale (national → samverkan_bench, region → samverkan_bench_region, small →
# samverkan_bench_small); BENCH_DATABASES overrides with name=scale pairs.
SCALES ?= national small
BENCH_DB_national ?= samverkan_bench
BENCH_DB_region ?= samverkan_bench_region
BENCH_DB_small ?= samverkan_bench_small
BENCH_DATABASES ?= $(foreach s,$(SCALES),$(BENCH_DB_$(s))=$(s))
BENCH_REQUESTS ?= 60
BENCH_SMOKE_DB ?= samverkan_bench_ci
LOAD_DATABASE ?= $(BENCH_DB_national)
LOAD_USERS ?= 5,10,20,30,35,40,50
LOAD_SECONDS ?= 30
LOAD_WORKERS ?= 4
LOAD_THREADS ?= 1
.PHONY: bench-smoke loadtest

bench: $(STAMP)
	@case "$${DATABASE_URL:-postgres://}" in postgres*) ;; *) echo "make bench: PostgreSQL only (DATABASE_URL is not PostgreSQL)"; exit 2;; esac
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "make bench: PostgreSQL only — nothing answers on 127.0.0.1:5432"; exit 2; }
	$(PY) -m bench.run $(foreach d,$(BENCH_DATABASES),--database $(d)) --requests $(BENCH_REQUESTS)

# CI smoke: a fresh small database, generated, then every scenario a few times: completes, query counts hold.
bench-smoke: export DEBUG ?= 1
bench-smoke: $(STAMP)
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "make bench-smoke: PostgreSQL only — nothing answers on 127.0.0.1:5432"; exit 2; }
	dropdb -h 127.0.0.1 -U postgres --if-exists $(BENCH_SMOKE_DB)
	createdb -h 127.0.0.1 -U postgres $(BENCH_SMOKE_DB)
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_SMOKE_DB) $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_SMOKE_DB) $(PY) manage.py generate_data --scale small
	$(PY) -m bench.run --smoke --database $(BENCH_SMOKE_DB)=small

loadtest: $(STAMP)
	@$(BIN)/locust --version >/dev/null 2>&1 || $(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench.loadtest --database $(LOAD_DATABASE) --users $(LOAD_USERS) --seconds $(LOAD_SECONDS) --workers $(LOAD_WORKERS) --threads $(LOAD_THREADS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
