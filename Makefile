# `make run`: serve on SQLite for development. `make test`: lint, then the suite on SQLite and
# on PostgreSQL (TEST_DATABASE_URL, else DATABASE_URL, else the local server) when reachable.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_TEST_URL := $(or $(TEST_DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/journal)

.PHONY: install run test test-sqlite test-postgres lint format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p data
	DEBUG=1 $(PY) manage.py migrate
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint test-sqlite test-postgres

test-sqlite: install
	env -u DATABASE_URL $(PY) -m pytest -q

test-postgres: install
	@if $(PY) scripts/pg_reachable.py "$(PG_TEST_URL)"; then \
		echo "== PostgreSQL leg: $(PG_TEST_URL)"; \
		DATABASE_URL="$(PG_TEST_URL)" $(PY) -m pytest -q; \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable and REQUIRE_POSTGRES=1" >&2; exit 1; \
	else \
		echo "== PostgreSQL leg skipped: $(PG_TEST_URL) is unreachable (REQUIRE_POSTGRES=1 makes this a failure)"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
