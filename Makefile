# Harbour's single entry point. `make demo` and `make test` work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_PORT ?= 54329
PG_URL := postgres://postgres@127.0.0.1:$(PG_PORT)/harbour
# Both cores: pytest-xdist gives each worker its own test database.
PYTEST_ARGS ?= -n 2

.PHONY: demo test lint typecheck migrations-check test-sqlite test-postgres bench system-deps clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/harbour migrate --no-input
	$(BIN)/harbour seed --demo
	@$(BIN)/harbour demo-logins
	$(BIN)/harbour runserver 127.0.0.1:8000

clean-demo:
	rm -f var/harbour.sqlite3 var/harbour.sqlite3-wal var/harbour.sqlite3-shm

system-deps:
	bash scripts/system-deps

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check harbour tests
	$(BIN)/ruff format --check harbour tests

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy harbour

migrations-check: $(VENV)/.installed-dev
	HARBOUR_ENV=test $(BIN)/harbour makemigrations --check --dry-run

test-sqlite: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	bash scripts/pg-test-server start $(PG_PORT)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	  bash scripts/pg-test-server stop $(PG_PORT); exit $$status

test: system-deps lint typecheck migrations-check
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

bench: $(VENV)/.installed-dev
	$(BIN)/python -m harbour.bench
