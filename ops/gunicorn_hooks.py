"""gunicorn's server hooks (``config/gunicorn.conf.py`` names them; that file holds only
settings). They run in the master, or in a worker before the app is loaded, so this module
imports nothing of Django at its top: the master must never read the settings (its workers
would inherit them and never read the database target again).

- ``on_starting`` (the master, once; ``starting`` makes it): the environment every worker
  shares, the settings checked in an interpreter of their own, the libraries preloaded,
  stale metrics removed.
- ``post_worker_init`` (each worker): what it serves is published for the ``--switch``
  commands; the first worker warns about the connection budget and the statement timeout.
- ``worker_exit`` (each worker leaving cleanly): out at once, without the interpreter's
  teardown.
- ``child_exit`` (the master, a worker gone): its metrics and its published settings dropped.
"""

import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Libraries every worker imports, loaded once in the master so that a forked worker starts
# with them (a reload's new workers boot in about a third of the time, on a 2-CPU machine
# 0.55 s down to 0.17 s each): only modules that neither read the settings nor load an app.
PRELOADED = (
    "django.core.handlers.wsgi",
    "django.contrib.admin",
    "django.contrib.postgres.fields",
    "django.db.backends.postgresql.base",
    "django.db.backends.sqlite3.base",
    "rest_framework.serializers",
    "psycopg_pool",
    "jwt",
    "redis",
    "yaml",
)


def share_environment(*, metrics_dir: str | None, cache_dir: str | None) -> Path:
    """What every worker must share, set in the environment before any of them starts (a
    directory of this server's own for each one the settings leave unset); returns the
    metrics directory.

    - prometheus_client's multiprocess mode: every worker writes its metrics to files in
      ``PROMETHEUS_MULTIPROC_DIR`` and /metrics merges them; it must be set before a worker
      imports prometheus_client.
    - The throttle counts: every worker must see the same ones, or a client gets workers x
      the rate. Unless ``CACHE_DIR`` names a directory, this server gets a new one of its own
      for the counts file (``ops.shared_state``), used when ``REDIS_URL`` is unset.
    """
    os.environ["CACHE_DIR"] = cache_dir or tempfile.mkdtemp(prefix="journal-cache-")
    metrics = metrics_dir or tempfile.mkdtemp(prefix="journal-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics
    return Path(metrics)


def check_settings(server) -> None:
    """The settings, read once in an interpreter of their own before any worker starts: a
    configuration error stops the server with its one-line reason, instead of each worker
    meeting it in turn while the master boots new ones."""
    settings = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")
    result = subprocess.run(  # noqa: S603 (this interpreter, a module name)
        [sys.executable, "-c", f"import {settings}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        if server.pidfile is not None:  # written before on_starting; nothing else removes it
            server.pidfile.unlink()
        lines = result.stderr.strip().splitlines()
        raise SystemExit(lines[-1] if lines else f"the settings failed ({result.returncode})")


def preload_libraries() -> None:
    for module in PRELOADED:
        importlib.import_module(module)
    from django.conf import settings

    if settings.configured:  # the workers would inherit these settings and never reread them
        raise RuntimeError("a preloaded library read Django's settings in gunicorn's master")


def starting(*, metrics_dir: str | None, cache_dir: str | None) -> Callable[[Any], None]:
    """The ``on_starting`` hook, given the directories the configuration names (or none)."""

    def on_starting(server) -> None:
        metrics = share_environment(metrics_dir=metrics_dir, cache_dir=cache_dir)
        check_settings(server)
        preload_libraries()
        if server.cfg.pidfile is not None:
            from ops.gunicorn_control import clear_published

            clear_published(Path(server.cfg.pidfile))
        metrics.mkdir(parents=True, exist_ok=True)
        for stale in metrics.glob("*.db"):  # a previous run's values
            stale.unlink()

    return on_starting


def child_exit(server, worker) -> None:
    # Drops the exited worker's "live" gauges (pool sizes) from the merged values.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    if server.cfg.pidfile is not None:
        from ops.gunicorn_control import unpublish_settings

        unpublish_settings(Path(server.cfg.pidfile), worker.pid)


def worker_exit(server, worker) -> None:
    # A booted worker leaving with exit code 0 (a reload, a stop, max_requests, and a
    # timeout, which gunicorn's sync worker also ends with sys.exit(0)) has no request left:
    # it ends at once instead of tearing the interpreter down, which costs about 0.3 s of CPU
    # alone and 2 s when the old workers of a reload leave while the new ones boot on 2 CPUs;
    # `--switch` holds requests until the old workers are gone. Its database
    # connections are closed first; metrics and logs are already written.
    leaving = sys.exc_info()[1]  # gunicorn calls this while the worker's SystemExit unwinds
    if not (worker.booted and isinstance(leaving, SystemExit) and leaving.code in (0, None)):
        return  # a boot failure or a crash: its exit code tells the master
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def post_worker_init(worker) -> None:
    # What this worker really serves and where it looks, for the `--switch` commands to
    # compare with their own settings before they pause anything (ops/gunicorn_control.py).
    if worker.cfg.pidfile is not None:
        from ops.gunicorn_control import publish_settings

        publish_settings(Path(worker.cfg.pidfile))
    # Once per server, in its first worker (the app is loaded there, the master stays free of
    # it): warn when the workers may open more connections than PostgreSQL allows, and when
    # behind PgBouncer the server's statement timeout is not DB_STATEMENT_TIMEOUT_MS.
    if worker.age != 1:
        return
    from ops.budget import budget_problem
    from ops.pooler import statement_timeout_problem

    for problem in (budget_problem(worker.cfg.workers), statement_timeout_problem()):
        if problem is not None:
            worker.log.warning(problem)
