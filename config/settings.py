"""Settings: every value comes from the environment (see README's configuration table)."""

import hashlib
from pathlib import Path

from config.auth_providers import parse_auth_providers
from config.database import DB_DEFAULT, database_config
from config.env import ConfigError, env_bool, env_int, env_json_object, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ConfigError("SECRET_KEY is required when DEBUG is off (set SECRET_KEY or DEBUG=1)")
    SECRET_KEY = "django-insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "accounts",
    "tokens",
    "journal",
    "subscriptions",
    "dbcopy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dbcopy.maintenance.MaintenanceModeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DATABASES = {
    DB_DEFAULT: database_config(
        env_str("DATABASE_URL"),
        sqlite_path=SQLITE_PATH,
        pool_max=env_int("DB_POOL_MAX", 10, minimum=1),
        statement_timeout_ms=env_int("DB_STATEMENT_TIMEOUT_MS", 5000),
    )
}
MAINTENANCE_FLAG_PATH = Path(env_str("MAINTENANCE_FLAG_PATH", "data/maintenance.flag"))
if not MAINTENANCE_FLAG_PATH.is_absolute():
    MAINTENANCE_FLAG_PATH = BASE_DIR / MAINTENANCE_FLAG_PATH
DATABASE_ROUTERS = ["config.routers.DatabaseRouter"]
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
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tokens.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
}

# Sign-in through identity providers.
AUTH_PROVIDERS = parse_auth_providers(env_json_object("AUTH_PROVIDERS"))
AUTH_JWKS_LIFESPAN_SECONDS = env_int("AUTH_JWKS_LIFESPAN_SECONDS", 300, minimum=1)
AUTH_JWKS_COOLDOWN_SECONDS = env_int("AUTH_JWKS_COOLDOWN_SECONDS", 30)
AUTH_JWKS_TIMEOUT_SECONDS = env_int("AUTH_JWKS_TIMEOUT_SECONDS", 5, minimum=1)

# The API's own tokens.
JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY")
if JWT_SIGNING_KEY is None:
    JWT_SIGNING_KEY = hashlib.sha256(f"access-token-signing:{SECRET_KEY}".encode()).hexdigest()
elif len(JWT_SIGNING_KEY.encode()) < 32:
    raise ConfigError("JWT_SIGNING_KEY must be at least 32 bytes long")
ACCESS_TOKEN_TTL_SECONDS = env_int("ACCESS_TOKEN_TTL_SECONDS", 900, minimum=1)
REFRESH_TOKEN_TTL_DAYS = env_int("REFRESH_TOKEN_TTL_DAYS", 30, minimum=1)

# Journal quotas (bytes of UTF-8 content).
JOURNAL_MAX_ENTRY_BYTES = env_int("JOURNAL_MAX_ENTRY_BYTES", 65536, minimum=1)
JOURNAL_QUOTA_FREE_BYTES = env_int("JOURNAL_QUOTA_FREE_BYTES", 1048576)
JOURNAL_QUOTA_PREMIUM_BYTES = env_int("JOURNAL_QUOTA_PREMIUM_BYTES", 104857600)

# The payment provider's webhook: several secrets are accepted while one is rotated.
SUBSCRIPTION_WEBHOOK_SECRETS = env_list("SUBSCRIPTION_WEBHOOK_SECRET")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
