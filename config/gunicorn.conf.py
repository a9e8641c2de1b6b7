"""gunicorn's settings: ``gunicorn -c config/gunicorn.conf.py config.wsgi`` (``make serve``).
Its hooks (the environment the workers share, preloading, clean exits) are in
``ops/gunicorn_hooks.py``.

Every value comes from the environment (docs/operations.md, "gunicorn"). Sync workers, one request
at a time each: the database pool of a worker (``DB_POOL_MAX``) can then be small, and the
total connections to PostgreSQL are workers x pool size.
"""

import os
import sys
from pathlib import Path

# gunicorn reads this file before it imports the app: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.env import env_int, env_str  # noqa: E402
from ops.gunicorn_hooks import (  # noqa: E402, F401 (gunicorn finds its hooks here)
    child_exit,
    post_worker_init,
    starting,
    worker_exit,
)

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

# The directories every worker shares: prometheus_client's multiprocess files (/metrics merges
# them; they must start empty) and the throttle counts file (used when REDIS_URL is unset).
# Unset, on_starting makes one of each for this server, before any worker starts.
on_starting = starting(
    metrics_dir=env_str("PROMETHEUS_MULTIPROC_DIR"), cache_dir=env_str("CACHE_DIR")
)
