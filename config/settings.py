"""Settings: every value comes from the environment (see README's configuration table)."""

import hashlib
import os
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS

from config.database import POSTGRES_ENGINE, database_config, instrumented, replica_configs
from config.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_int,
    env_json_object,
    env_list,
    env_rate,
    env_redis_url,
    env_str,
    env_url_prefix,
    load_env_file,
    parse_auth_providers,
)
from config.target import database_target, target_path
from ops.databases import POOLERS
from ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
# Before anything else is read: the checkout's .env (make run and make serve create it).
ENV_FILE = load_env_file(BASE_DIR)

DEBUG = env_bool("DEBUG", False)

# With DEBUG off, secrets shorter than these are refused at start-up (a guessable key signs
# sessions, CSRF tokens and, unless JWT_SIGNING_KEY is set, access tokens).
MIN_SECRET_KEY_CHARS = 50
MIN_JWT_SIGNING_KEY_BYTES = 32
MIN_WEBHOOK_SECRET_CHARS = 16

SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ConfigError(
            "SECRET_KEY is required when DEBUG is off (set it in the environment or in .env, "
            "which make run and make serve create; or DEBUG=1)"
        )
    SECRET_KEY = "django-insecure-development-key-only-used-with-debug-on"
elif not DEBUG and len(SECRET_KEY) < MIN_SECRET_KEY_CHARS:
    raise ConfigError(
        f"SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters when DEBUG is off "
        f"(it has {len(SECRET_KEY)})"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "ops.apps.OpsAdminConfig",  # django.contrib.admin with the project's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "ops.apps.OpsConfig",
    "accounts",
    "idempotency",
    "tokens",
    "journal",
    "subscriptions",
    "dbcopy",
]

MIDDLEWARE = [
    # First and last: django-prometheus times and counts everything in between.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ops.middleware.RequestBodyLimitMiddleware",
    "ops.middleware.UnreadableRequestMiddleware",
    "ops.routers.DatabaseRoutingMiddleware",
    "ops.maintenance.MaintenanceModeMiddleware",
    "ops.middleware.UndefinedBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Databases.
SQLITE_PATH = Path(env_str("SQLITE_PATH", "data/db.sqlite3"))
if not SQLITE_PATH.is_absolute():
    SQLITE_PATH = BASE_DIR / SQLITE_PATH
DB_POOL_MAX = env_int("DB_POOL_MAX", 10, minimum=1)
# gunicorn's workers (config/gunicorn.conf.py reads the same variable, with the same default):
# the copy's check weighs the connection budget with them.
GUNICORN_WORKERS = env_int("GUNICORN_WORKERS", 2 * len(os.sched_getaffinity(0)) + 1, minimum=1)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 5000)
DB_POOL_TIMEOUT_SECONDS = env_int("DB_POOL_TIMEOUT_SECONDS", 10, minimum=1)
# "pgbouncer": DATABASE_URL is PgBouncer in transaction mode (config/database.py).
DB_POOLER = env_choice("DB_POOLER", POOLERS)
# DATABASE_URL set wins; else the database target file (config/target.py) when it exists, as
# `copy_from_sqlite --cutover --switch` and `copy_to_sqlite --switch` leave it; else SQLite.
DATABASE_TARGET_PATH = target_path(env_str("DATABASE_TARGET_PATH"), base_dir=BASE_DIR)
DATABASE_TARGET = database_target(
    env_str("DATABASE_URL"),
    target_path=DATABASE_TARGET_PATH,
    sqlite_path=SQLITE_PATH,
    base_dir=BASE_DIR,
)
# gunicorn's master writes its pid here (config/gunicorn.conf.py); the --switch commands
# send it SIGHUP.
GUNICORN_PID_FILE = Path(env_str("GUNICORN_PID_FILE", "data/gunicorn.pid"))
if not GUNICORN_PID_FILE.is_absolute():
    GUNICORN_PID_FILE = BASE_DIR / GUNICORN_PID_FILE
# Off for management commands (manage.py sets DB_POOL=0): a command is one sequential process,
# and its connections fail at once with the server's reason instead of after the pool's wait.
DB_POOL = env_bool("DB_POOL", True)
_default_db = database_config(
    DATABASE_TARGET.url,
    sqlite_path=DATABASE_TARGET.sqlite_path,
    pool_max=DB_POOL_MAX,
    statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS,
    pool_timeout=DB_POOL_TIMEOUT_SECONDS,
    pooler=DB_POOLER,
    pooled=DB_POOL,
)
_replica_urls = env_list("DATABASE_REPLICA_URLS")
if _replica_urls and _default_db["ENGINE"] != POSTGRES_ENGINE:
    raise ConfigError("DATABASE_REPLICA_URLS needs DATABASE_URL to be PostgreSQL")
_replicas = replica_configs(
    _replica_urls,
    pool_max=DB_POOL_MAX,
    statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS,
    pooled=DB_POOL,
)
# Every alias through django-prometheus's backend wrappers (query and connection metrics).
DATABASES = {
    alias: instrumented(cfg) for alias, cfg in {DEFAULT_DB_ALIAS: _default_db, **_replicas}.items()
}
# The aliases the router may send reads to (ops/routers.py).
DATABASE_REPLICAS = list(_replicas)
# After a request of a user wrote, that user's reads stay on default this long (a replica's
# lag should stay well under it); 0: only within the request.
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 5)
MAINTENANCE_FLAG_PATH = Path(env_str("MAINTENANCE_FLAG_PATH", "data/maintenance.flag"))
if not MAINTENANCE_FLAG_PATH.is_absolute():
    MAINTENANCE_FLAG_PATH = BASE_DIR / MAINTENANCE_FLAG_PATH
# During a `--switch` move, how long a request waits for the app to move before it is refused
# with 503 `maintenance` (ops/maintenance.py).
CUTOVER_HOLD_SECONDS = env_int("CUTOVER_HOLD_SECONDS", 5)
DATABASE_ROUTERS = ["ops.routers.DatabaseRouter", "dbcopy.routers.CopyRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", "staticfiles"))
if not STATIC_ROOT.is_absolute():
    STATIC_ROOT = BASE_DIR / STATIC_ROOT
# The admin's and the API docs' files, served by the app itself (WhiteNoise) from
# STATIC_ROOT, filled by `manage.py collectstatic` (make serve runs it), pre-compressed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The Django admin, for staff accounts only, at a configurable path.
ADMIN_URL = env_url_prefix("ADMIN_URL", "admin/")

# Served over HTTPS behind a proxy that terminates TLS and sets X-Forwarded-Proto.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Probes and the scraper may speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Throttle counts (ops/throttling.py): in Redis when REDIS_URL is set, shared by every app
# host that uses it (REDIS_KEY_PREFIX keeps deployments sharing one Redis apart); else a
# SQLite file in CACHE_DIR shared by the processes of a host (gunicorn.conf.py sets one up for
# its workers); else one process's memory (runserver, the tests). Nothing uses Django's cache.
CACHE_DIR = env_str("CACHE_DIR")
REDIS_URL = env_redis_url("REDIS_URL")
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "journal:")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tokens.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ops.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "ops.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Proxies in front of the app that append to X-Forwarded-For: the client address is the
    # one they saw. 0: the address of the connection itself (X-Forwarded-For is ignored).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

# Requests per client address on the endpoints anyone can call, and journal writes per user
# (ops/throttling.py).
THROTTLE_RATES = {
    "login": env_rate("THROTTLE_LOGIN_RATE", "20/min"),
    "refresh": env_rate("THROTTLE_REFRESH_RATE", "60/min"),
    "webhook": env_rate("THROTTLE_WEBHOOK_RATE", "600/min"),
    "write": env_rate("THROTTLE_WRITE_RATE", "120/min"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Journal API",
    "DESCRIPTION": (
        "The JSON API of the journaling app. Sign in with an identity provider's ID token, "
        "then send `Authorization: Bearer <access>`. Every error is "
        '`{"detail": "...", "code": "..."}`.'
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # The API's one PATCH (an entry) replaces `content`, which it requires: no "Patched…"
    # variant whose every field is optional.
    "COMPONENT_SPLIT_PATCH": False,
    # Swagger UI from the installed drf-spectacular-sidecar: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "subscriptions.models.SubscriptionStatus",
        "WebhookOutcomeEnum": "subscriptions.models.WebhookOutcome",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ops.openapi.add_site_wide_behaviour",
    ],
}

# Sign-in through identity providers.
AUTH_PROVIDERS = parse_auth_providers(env_json_object("AUTH_PROVIDERS"))
AUTH_JWKS_LIFESPAN_SECONDS = env_int("AUTH_JWKS_LIFESPAN_SECONDS", 300, minimum=1)
AUTH_JWKS_COOLDOWN_SECONDS = env_int("AUTH_JWKS_COOLDOWN_SECONDS", 30)
AUTH_JWKS_TIMEOUT_SECONDS = env_int("AUTH_JWKS_TIMEOUT_SECONDS", 5, minimum=1)
# An ID token issued longer ago than this is refused, whatever its ``exp``.
AUTH_ID_TOKEN_MAX_AGE_SECONDS = env_int("AUTH_ID_TOKEN_MAX_AGE_SECONDS", 86400, minimum=1)

# The API's own tokens.
# Unset: derived from SECRET_KEY (64 hex digits).
JWT_SIGNING_KEY = (
    env_str("JWT_SIGNING_KEY")
    or hashlib.sha256(f"access-token-signing:{SECRET_KEY}".encode()).hexdigest()
)
if len(JWT_SIGNING_KEY.encode()) < MIN_JWT_SIGNING_KEY_BYTES:
    raise ConfigError(f"JWT_SIGNING_KEY must be at least {MIN_JWT_SIGNING_KEY_BYTES} bytes long")
ACCESS_TOKEN_TTL_SECONDS = env_int("ACCESS_TOKEN_TTL_SECONDS", 900, minimum=1)
REFRESH_TOKEN_TTL_DAYS = env_int("REFRESH_TOKEN_TTL_DAYS", 30, minimum=1)
# A session's absolute lifetime: rotation renews a refresh token's expiry, never past it.
SESSION_MAX_AGE_DAYS = env_int("SESSION_MAX_AGE_DAYS", 90, minimum=1)
# How long after a rotation the token it spent may be retried (a lost response); 0: never.
REFRESH_TOKEN_RETRY_GRACE_SECONDS = env_int("REFRESH_TOKEN_RETRY_GRACE_SECONDS", 0)
if REFRESH_TOKEN_RETRY_GRACE_SECONDS > 60:
    raise ConfigError("REFRESH_TOKEN_RETRY_GRACE_SECONDS must be at most 60")

# How long an Idempotency-Key and its answer are kept (purge_idempotency_keys deletes older).
IDEMPOTENCY_KEY_RETENTION_HOURS = env_int("IDEMPOTENCY_KEY_RETENTION_HOURS", 168, minimum=1)

# Journal quotas (bytes of UTF-8 content).
JOURNAL_MAX_ENTRY_BYTES = env_int("JOURNAL_MAX_ENTRY_BYTES", 65536, minimum=1)
# The largest legitimate body is an entry at the limit, JSON-escaped: a control character
# becomes \u00XX (6 bytes for 1), so 6 times the entry plus room for the rest. Larger bodies
# are refused with 413 before they are read (ops.middleware.RequestBodyLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * JOURNAL_MAX_ENTRY_BYTES + 64 * 1024
JOURNAL_QUOTA_FREE_BYTES = env_int("JOURNAL_QUOTA_FREE_BYTES", 1048576)
JOURNAL_QUOTA_PREMIUM_BYTES = env_int("JOURNAL_QUOTA_PREMIUM_BYTES", 104857600)

# The payment provider's webhook: several secrets are accepted while one is rotated.
SUBSCRIPTION_WEBHOOK_SECRETS = env_list("SUBSCRIPTION_WEBHOOK_SECRET")
if not DEBUG and any(len(s) < MIN_WEBHOOK_SECRET_CHARS for s in SUBSCRIPTION_WEBHOOK_SECRETS):
    raise ConfigError(
        f"each SUBSCRIPTION_WEBHOOK_SECRET must be at least {MIN_WEBHOOK_SECRET_CHARS} "
        "characters when DEBUG is off"
    )

# Set: GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env_str("METRICS_TOKEN")

# JSON lines on stderr, each with the request id (config/logs.py).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ConfigError(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}"
    )
LOGGING = logging_config(LOG_LEVEL)
