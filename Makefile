# `make run`: serve on SQLite for development. `make serve`: the production setup (DEBUG off,
# collectstatic, migrate, gunicorn) on this machine. `make test`: lint, then the suite on SQLite
# and on PostgreSQL (TEST_DATABASE_URL, else DATABASE_URL, else the local server) when reachable,
# and through PgBouncer when PGBOUNCER_TEST_URL is set.

# The interpreter the venv is made with: any of 3.11 and later (requires-python); CI uses 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The loopback port `make run` and `make serve` listen on: `make run PORT=8002`.
PORT ?= 8000
PG_TEST_URL := $(or $(TEST_DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/journal)
# Every version comes from uv.lock, installed by uv, itself from PyPI at the version the dev
# extra pins (so the lock keeps it too).
UV := $(VENV)/bin/uv
UV_VERSION := $(shell sed -n 's/^ *"uv==\([^"]*\)".*/\1/p' pyproject.toml)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run serve replica-demo failover-demo test test-sqlite test-postgres test-pgbouncer lint format clean

$(UV):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'

# --locked: a uv.lock that no longer matches pyproject.toml stops the install. The sync is
# exact: whatever the lock does not list is removed from the venv. The project itself is
# installed editable, as uv does by default. --compile-bytecode: uv leaves the libraries'
# bytecode to be written at first import, which never happens where PYTHONDONTWRITEBYTECODE is
# set; every command and gunicorn worker would then compile Django and the rest from source
# at each start (about 2 s of a command's 3.4 s start-up on a 2-CPU machine).
$(STAMP): pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --quiet --locked --compile-bytecode --python $(PY) --extra dev --extra bench || { \
		echo "make install failed; if uv.lock is out of date with pyproject.toml: make lock" >&2; \
		exit 1; }
	touch $(STAMP)

install: $(STAMP)

# After a change to the dependencies in pyproject.toml: resolve them again into uv.lock. Kept
# versions stay; `make lock UPGRADE=1` moves every package to its newest allowed version.
.PHONY: lock
lock: | $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)

run: install
	mkdir -p data
	$(PY) scripts/local_env.py
	DEBUG=1 $(PY) manage.py migrate
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# DEBUG off needs a SECRET_KEY: yours, else the one in this checkout's .env.
serve: install
	mkdir -p data
	$(PY) scripts/local_env.py
	export DEBUG=0 \
		CACHE_DIR="$${CACHE_DIR:-data/cache}" \
		GUNICORN_PID_FILE="$${GUNICORN_PID_FILE:-data/gunicorn.pid}" \
		GUNICORN_BIND="$${GUNICORN_BIND:-127.0.0.1:$(PORT)}" && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) manage.py migrate --no-input && \
	exec $(VENV)/bin/gunicorn -c config/gunicorn.conf.py config.wsgi

# A real PostgreSQL streaming replica on loopback, and where the app's queries go (root only).
replica-demo: install
	scripts/replica_demo.sh

# pg_auto_failover on loopback, the primary killed mid-traffic, the app following (root only).
failover-demo: install
	scripts/failover_demo.sh

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The legs share nothing (each has a database of its own, test_journal and test_journal_pgb,
# and each test its own files, ports and Redis keys), so they run two at a time, each one's
# output printed whole when it ends: the PgBouncer leg starts as soon as the SQLite leg is done.
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres test-pgbouncer

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

# The whole suite again through PgBouncer in transaction mode (DB_POOLER=pgbouncer), when
# PGBOUNCER_TEST_URL names one (.ci/run starts one). Its test database is kept (--reuse-db):
# PgBouncer's server connections to it would stop Django from dropping it at the end.
test-pgbouncer: install
	@if [ -z "$(PGBOUNCER_TEST_URL)" ] && [ "$(REQUIRE_PGBOUNCER)" = "1" ]; then \
		echo "PGBOUNCER_TEST_URL is unset and REQUIRE_PGBOUNCER=1" >&2; exit 1; \
	elif [ -z "$(PGBOUNCER_TEST_URL)" ]; then \
		echo "== PgBouncer leg skipped: PGBOUNCER_TEST_URL is unset (.ci/run starts a PgBouncer)"; \
	elif $(PY) scripts/pg_reachable.py "$(PGBOUNCER_TEST_URL)"; then \
		echo "== PgBouncer leg: $(PGBOUNCER_TEST_URL)"; \
		DB_POOLER=pgbouncer DATABASE_URL="$(PGBOUNCER_TEST_URL)" $(PY) -m pytest -q --reuse-db; \
	else \
		echo "PgBouncer at $(PGBOUNCER_TEST_URL) is unreachable" >&2; exit 1; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
