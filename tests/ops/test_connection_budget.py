"""gunicorn's worker count follows the CPUs the process may use, and a server whose workers
could open more connections than PostgreSQL allows says so when it starts."""

import subprocess
import sys

import pytest
from django.db import connection

from ops.budget import budget_problem, server_allowance
from tests.ops.test_serving import ROOT, Server, free_port
from tests.resilience.server import database_url_for_tests

WORKERS = "import runpy; print(runpy.run_path('config/gunicorn.conf.py')['workers'])"


def default_workers(*taskset) -> int:
    result = subprocess.run(
        [*taskset, sys.executable, "-c", WORKERS],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout)


def test_the_default_worker_count_follows_the_cpus_the_process_may_use():
    assert default_workers("taskset", "-c", "0") == 3  # 2 x 1 CPU + 1


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_allowance_is_max_connections_minus_the_reserved_slots():
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
        cursor.execute("SHOW superuser_reserved_connections")
        reserved = int(cursor.fetchone()[0])

    assert server_allowance() == max_connections - reserved


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_workers_times_the_pool_past_the_allowance_is_a_problem(settings):
    allowance = server_allowance()
    settings.DB_POOL_MAX = 10
    settings.DB_POOLER = ""  # straight to the server

    fits = budget_problem(allowance // 10)
    too_many = budget_problem(allowance // 10 + 1)

    assert fits is None
    assert too_many.startswith(f"connection budget: {allowance // 10 + 1} workers x DB_POOL_MAX=10")
    assert f"the server allows {allowance}" in too_many


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_behind_pgbouncer_the_workers_budget_is_the_poolers(settings):
    settings.DB_POOL_MAX = 10
    settings.DB_POOLER = "pgbouncer"

    assert budget_problem(server_allowance()) is None


@pytest.mark.sqlite_only
def test_sqlite_has_no_connection_budget():
    assert budget_problem(1000) is None


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_gunicorn_warns_at_start_when_its_workers_may_exceed_the_server(tmp_path, settings):
    allowance = server_allowance()
    url = database_url_for_tests()
    pooler = {"DB_POOLER": settings.DB_POOLER} if settings.DB_POOLER else {}
    (tmp_path / "over").mkdir()
    (tmp_path / "within").mkdir()

    with Server(
        tmp_path / "over",
        DATABASE_URL=url,
        GUNICORN_WORKERS="2",
        DB_POOL_MAX=str(allowance // 2 + 1),
        **pooler,
    ) as over:
        pass
    with Server(
        tmp_path / "within", DATABASE_URL=url, GUNICORN_WORKERS="2", DB_POOL_MAX="2", **pooler
    ) as within:
        pass

    # Behind PgBouncer the workers' connections end at the pooler: nothing to warn about.
    assert ("connection budget: 2 workers" in over.stderr.read_text()) is not bool(pooler)
    assert "connection budget" not in within.stderr.read_text()


@pytest.mark.postgres_only
def test_an_unreachable_server_does_not_hold_a_workers_start_for_the_pools_timeout():
    # Asked through the pool, the check would wait DB_POOL_TIMEOUT_SECONDS (here 300 s, past
    # the subprocess's limit) before giving up on a server that refuses connections.
    check = (
        "import django; django.setup(); from ops.budget import budget_problem;"
        " print(budget_problem(4))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/journal",
            "DB_POOL_TIMEOUT_SECONDS": "300",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
