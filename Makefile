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

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
