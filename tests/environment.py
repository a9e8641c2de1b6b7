"""Loaded by pytest before Django's settings (``-p tests.environment``): the environment the
suite runs in, whatever the shell has. ``DATABASE_URL`` is left alone: it picks the leg."""

import os
import tempfile

os.environ["DEBUG"] = "0"
# Not this checkout's .env (make run and make serve write one): the suite's own settings.
os.environ["ENV_FILE"] = os.devnull
# A flag an operator left in data/ (the runbook's `maintenance on`) must not turn the suite's
# writes into 503s: the suite keeps its own, in a directory of its own.
os.environ["MAINTENANCE_FLAG_PATH"] = os.path.join(
    tempfile.mkdtemp(prefix="journal-tests-"), "maintenance.flag"
)
# Nor may a database target left by a `--switch` in data/ move the suite off its leg's database.
os.environ["DATABASE_TARGET_PATH"] = os.path.join(
    os.path.dirname(os.environ["MAINTENANCE_FLAG_PATH"]), "database_target"
)
os.environ["SECRET_KEY"] = "test-secret-key-that-is-long-enough-for-hs256-signing"
os.environ["JWT_SIGNING_KEY"] = "test-jwt-signing-key-0123456789abcdef0123456789"
os.environ["AUTH_PROVIDERS"] = "{}"
for name in (
    "ACCESS_TOKEN_TTL_SECONDS",
    "REFRESH_TOKEN_TTL_DAYS",
    "SQLITE_PATH",
    "STATIC_ROOT",
    "DB_POOL_MAX",
    "JOURNAL_MAX_ENTRY_BYTES",
    "JOURNAL_QUOTA_FREE_BYTES",
    "JOURNAL_QUOTA_PREMIUM_BYTES",
    "SUBSCRIPTION_WEBHOOK_SECRET",
    "DATABASE_REPLICA_URLS",
    "HTTPS",
    "ADMIN_URL",
    "NUM_PROXIES",
    "CACHE_DIR",
    "THROTTLE_LOGIN_RATE",
    "THROTTLE_REFRESH_RATE",
    "THROTTLE_WEBHOOK_RATE",
    "THROTTLE_WRITE_RATE",
    "IDEMPOTENCY_KEY_RETENTION_HOURS",
    "METRICS_TOKEN",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "PROMETHEUS_MULTIPROC_DIR",
):
    os.environ.pop(name, None)
