"""Reading configuration from the environment: the one place that touches os.environ.

A bad value stops start-up with a one-line reason (``ConfigError`` is a ``SystemExit``, so
neither ``manage.py`` nor a WSGI server prints a traceback for it).
"""

import json
import os
import re
from pathlib import Path
from typing import overload
from urllib.parse import urlparse

import dotenv
from redis.connection import parse_url


class ConfigError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"configuration error: {message}")


def load_env_file(base_dir: Path) -> Path | None:
    """Read the checkout's settings file (``ENV_FILE``, default ``.env``, relative to
    ``base_dir``) into the environment, so that every entry point (``manage.py`` by hand,
    ``make run``, ``make serve``, gunicorn) finds the same settings without anyone exporting
    them. A variable already in the environment wins over the file. Returns the file read."""
    name = env_str("ENV_FILE", ".env")
    path = Path(name)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        return None
    try:
        dotenv.load_dotenv(path, override=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"ENV_FILE {path} cannot be read: {exc}") from None
    return path


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_setdefault(name: str, make_default) -> str:
    """The variable's value; if unset, ``make_default()`` is stored there first, for the child
    processes (gunicorn's workers) to inherit."""
    value = env_str(name)
    if value is None:
        value = make_default()
        os.environ[name] = value
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1, got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    value = env_str(name, default) or ""
    return [item.strip() for item in value.split(",") if item.strip()]


def env_json_object(name: str, default: str = "{}") -> dict:
    value = env_str(name, default)
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{name} must be a JSON object")
    return parsed


# DRF's rate syntax: requests per second, minute, hour or day (only the unit's first letter counts).
_RATE = re.compile(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str:
    value = env_str(name, default)
    if not _RATE.fullmatch(value):
        raise ConfigError(
            f"{name} must be a rate like 20/min (per s, min, hour or day), got {value!r}"
        )
    return value


# A URL prefix of path segments, like "admin/" or "staff/console/".
_URL_PREFIX = re.compile(r"([A-Za-z0-9_-]+/)+")


def env_url_prefix(name: str, default: str) -> str:
    value = env_str(name, default)
    if not _URL_PREFIX.fullmatch(value):
        raise ConfigError(
            f"{name} must be path segments each ending in /, like admin/, got {value!r}"
        )
    return value


# AUTH_PROVIDERS: provider name -> issuer(s), audience(s) and JWKS location.
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _string_list(name: str, key: str, value) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise ConfigError(f"AUTH_PROVIDERS[{name!r}].{key} must be a string or a list of strings")
    return values


def check_jwks_uri(name: str, uri) -> str:
    if not isinstance(uri, str):
        raise ConfigError(f"AUTH_PROVIDERS[{name!r}].jwks_uri must be a string")
    parsed = urlparse(uri)
    if parsed.scheme == "https" and parsed.netloc:
        return uri
    if parsed.scheme == "file" and parsed.path:
        return uri
    # Plain http only to this machine: a local identity provider in development and tests.
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
        return uri
    raise ConfigError(f"AUTH_PROVIDERS[{name!r}].jwks_uri must be https:// or file://, got {uri!r}")


def parse_auth_providers(raw: dict) -> dict[str, dict]:
    """Normalise every provider to ``{"issuer": [..], "audience": [..], "jwks_uri": str}``."""
    providers = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"AUTH_PROVIDERS[{name!r}] must be an object")
        missing = [k for k in ("issuer", "audience", "jwks_uri") if k not in entry]
        if missing:
            raise ConfigError(f"AUTH_PROVIDERS[{name!r}] lacks {', '.join(missing)}")
        providers[name] = {
            "issuer": _string_list(name, "issuer", entry["issuer"]),
            "audience": _string_list(name, "audience", entry["audience"]),
            "jwks_uri": check_jwks_uri(name, entry["jwks_uri"]),
        }
    return providers


def env_redis_url(name: str) -> str | None:
    """A ``redis://``, ``rediss://`` or ``unix://`` URL, or None when unset."""
    value = env_str(name)
    if value is None:
        return None
    try:
        parse_url(value)
    except ValueError as exc:
        raise ConfigError(f"{name} is not a Redis URL: {exc}") from None
    return value


def env_choice(name: str, choices: tuple[str, ...], default: str = "") -> str:
    """One of ``choices`` (or ``default`` when unset)."""
    value = (env_str(name) or default).strip().lower()
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices if c) or "''"
        raise ConfigError(f"{name} must be {shown} or unset, got {value!r}")
    return value
