"""Parsing ``AUTH_PROVIDERS``: provider name -> issuer(s), audience(s) and JWKS location."""

from urllib.parse import urlparse

from config.env import ConfigError

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
