"""gunicorn's settings: ``gunicorn -c config/gunicorn.conf.py config.wsgi`` (``make serve``).

Every value comes from the environment (docs/operations.md, "gunicorn"). Sync workers, one request
at a time each: the database pool of a worker (``DB_POOL_MAX``) can then be small, and the
total connections to PostgreSQL are workers x pool size.
"""

import os
import sys
import tempfile
from pathlib import Path

# gunicorn reads this file before it imports the app: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.env import env_int, env_setdefault, env_str  # noqa: E402

bind = env_str("GUNICORN_BIND", "127.0.0.1:8000")
# The CPUs this process may run on (a container's or taskset's share), not the machine's.
usable_cpus = len(os.sched_getaffinity(0))
workers = env_int("GUNICORN_WORKERS", 2 * usable_cpus + 1, minimum=1)
worker_class = "sync"
# A request that takes longer than this is killed (its worker restarts); keep it above
# DB_STATEMENT_TIMEOUT_MS so a slow query fails with an error first.
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
keepalive = env_int("GUNICORN_KEEPALIVE", 5, minimum=0)
# Recycle workers now and then, staggered, so a slow leak never takes a process down.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 1000, minimum=0)
max_requests_jitter = max_requests // 10
# Never load the app in the master: each worker must open its own database pools and read the
# settings (the database target, config/target.py) when it starts.
preload_app = False
# The master's pid, for `copy_from_sqlite --cutover --switch` and `copy_to_sqlite --switch`
# (SIGHUP: new workers read the settings afresh, the old ones finish their requests): only
# where GUNICORN_PID_FILE names it (`make serve` does), since a second server started from this
# checkout with the same file would refuse to start.
_pid_file = env_str("GUNICORN_PID_FILE")
if _pid_file is not None:
    pidfile = str(Path(__file__).resolve().parent.parent / _pid_file)  # an absolute path stays
# gunicorn's control socket (`gunicornc`: add or kill workers, reload, stop) only where
# GUNICORN_CONTROL_SOCKET names its path: the default path is one per user, not per server, so
# each server started on the host would take it over from the one before.
_control_socket = env_str("GUNICORN_CONTROL_SOCKET")
control_socket_disable = _control_socket is None
if _control_socket is not None:
    control_socket = _control_socket

# JSON lines: the access log on stdout, gunicorn's own messages on stderr.
accesslog = "-"
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "info").lower()
logger_class = "ops.logs.GunicornLogger"

# prometheus_client's multiprocess mode: every worker writes its metrics to files in this
# directory and /metrics merges them. It must be set before a worker imports
# prometheus_client, and must start empty.
_metrics_dir = Path(
    env_setdefault("PROMETHEUS_MULTIPROC_DIR", lambda: tempfile.mkdtemp(prefix="journal-metrics-"))
)

# Every worker must see the same throttle counts or a client gets workers x the rate: unless
# CACHE_DIR names a directory, this server gets a new one of its own for the counts file
# (ops/throttling.py), used when REDIS_URL is unset.
env_setdefault("CACHE_DIR", lambda: tempfile.mkdtemp(prefix="journal-cache-"))


# Libraries every worker imports, loaded once here so that a forked worker starts with them
# (a reload's new workers boot in about a third of the time, on a 2-CPU machine 0.55 s down
# to 0.17 s each): only modules that neither read the settings nor load an app.
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


def _preload_libraries():
    import importlib

    for module in PRELOADED:
        importlib.import_module(module)
    from django.conf import settings

    if settings.configured:  # the workers would inherit these settings and never reread them
        raise RuntimeError("a preloaded library read Django's settings in gunicorn's master")


_preload_libraries()


def _check_settings(server):
    """The settings, read once in an interpreter of their own before any worker starts: a
    configuration error stops the server with its one-line reason, instead of each worker
    meeting it in turn while the master boots new ones."""
    import subprocess

    settings = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")
    result = subprocess.run(  # noqa: S603 (this interpreter, a module name)
        [sys.executable, "-c", f"import {settings}"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        if server.pidfile is not None:  # written before on_starting; nothing else removes it
            server.pidfile.unlink()
        lines = result.stderr.strip().splitlines()
        raise SystemExit(lines[-1] if lines else f"the settings failed ({result.returncode})")


def on_starting(server):
    _check_settings(server)
    if server.cfg.pidfile is not None:
        from ops.gunicorn_control import clear_published

        clear_published(Path(server.cfg.pidfile))
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):  # a previous run's values
        stale.unlink()


def child_exit(server, worker):
    # Drops the exited worker's "live" gauges (pool sizes) from the merged values.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    if server.cfg.pidfile is not None:
        from ops.gunicorn_control import unpublish_settings

        unpublish_settings(Path(server.cfg.pidfile), worker.pid)


def worker_exit(server, worker):
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


def post_worker_init(worker):
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
