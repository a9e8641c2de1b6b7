"""Verifying ID tokens from external identity providers (Google, Apple, ...).

PyJWT does the cryptography and the key-set caching (a TTL on the set, a cooldown between
re-fetches for an unknown ``kid``). ``ProviderKeys`` adds what it lacks: ``file://`` key sets
and keeping the last good key set when the provider cannot be reached.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import jwt
from django.conf import settings
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError

logger = logging.getLogger(__name__)

# Only asymmetric algorithms: a provider signs with a private key we never hold.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
CLOCK_LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]


class IdentityError(Exception):
    """Base of the sign-in failures; ``reason`` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownProvider(IdentityError):
    pass


class InvalidIdToken(IdentityError):
    pass


class ProviderUnavailable(IdentityError):
    pass


@dataclass(frozen=True)
class VerifiedIdentity:
    provider: str
    subject: str
    email: str
    display_name: str


class ProviderKeys(PyJWKClient):
    """A provider's key set, fetched over https (PyJWT) or read from a file://, cached by
    PyJWT, and kept through an outage: once a fetch fails, the last good set is served
    until the next lifespan runs out, when the provider is tried again."""

    def __init__(self, uri: str, *, lifespan: float, cooldown: float, timeout: float) -> None:
        self.source_uri = uri
        self.is_file = urlparse(uri).scheme == "file"
        # PyJWKClient refuses non-http schemes; file:// sets are read by fetch_data below.
        super().__init__(
            "https://file.invalid/" if self.is_file else uri,
            cache_jwk_set=True,
            lifespan=lifespan,
            cooldown_duration=cooldown,
            timeout=timeout,
        )
        self._last_good: dict | None = None

    def fetch_data(self):
        try:
            if self.is_file:
                data = self._read_file()
                self._last_successful_fetch = time.monotonic()
            else:
                data = super().fetch_data()
        except ValueError as exc:  # a body that is not JSON: a captive portal, a wrong page
            return self._fall_back(PyJWKClientConnectionError(f"key set is not JSON: {exc}"))
        except PyJWKClientConnectionError as exc:
            return self._fall_back(exc)
        self._last_good = data
        return data

    def _fall_back(self, error: PyJWKClientConnectionError):
        if self._last_good is None:
            raise error
        logger.warning(
            "key set at %s unusable, keeping the last good one: %s", self.source_uri, error
        )
        # get_jwk_set caches what this returns: the provider is tried again after a lifespan.
        return self._last_good

    def _read_file(self) -> dict:
        path = unquote(urlparse(self.source_uri).path)
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise PyJWKClientConnectionError(f"cannot read key set {path}: {exc}") from exc
        return self._as_jwk_set_payload(data)


_clients: dict[tuple, ProviderKeys] = {}
_clients_lock = threading.Lock()


def provider_keys(name: str, jwks_uri: str) -> ProviderKeys:
    """The process-wide key client of a provider (one per provider and configuration)."""
    key = (
        name,
        jwks_uri,
        settings.AUTH_JWKS_LIFESPAN_SECONDS,
        settings.AUTH_JWKS_COOLDOWN_SECONDS,
        settings.AUTH_JWKS_TIMEOUT_SECONDS,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = ProviderKeys(
                jwks_uri,
                lifespan=settings.AUTH_JWKS_LIFESPAN_SECONDS,
                cooldown=settings.AUTH_JWKS_COOLDOWN_SECONDS,
                timeout=settings.AUTH_JWKS_TIMEOUT_SECONDS,
            )
            _clients[key] = client
        return client


def forget_provider_keys() -> None:
    """Drop every cached key client (tests, and after a configuration change)."""
    with _clients_lock:
        _clients.clear()


def verify_id_token(*, provider: str, id_token: str) -> VerifiedIdentity:
    """Check an ID token's signature, issuer, audience and times; return who it names."""
    config = settings.AUTH_PROVIDERS.get(provider)
    if config is None:
        raise UnknownProvider(f"unknown provider {provider!r}")
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise InvalidIdToken("malformed ID token") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ASYMMETRIC_ALGORITHMS:
        raise InvalidIdToken("ID token algorithm not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidIdToken("ID token has no key id")

    keys = provider_keys(provider, config["jwks_uri"])
    try:
        signing_key = keys.get_signing_key(kid)
    except PyJWKClientConnectionError:
        raise ProviderUnavailable(f"keys of provider {provider!r} are unreachable") from None
    except (PyJWKClientError, jwt.PyJWTError):
        raise InvalidIdToken("ID token signed with an unknown key") from None
    # The key decides the algorithm, never the token's header alone.
    if signing_key.algorithm_name != algorithm:
        raise InvalidIdToken("ID token algorithm does not match its key")

    try:
        claims = jwt.decode(
            id_token,
            key=signing_key,
            algorithms=[signing_key.algorithm_name],
            audience=config["audience"],
            issuer=config["issuer"],
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidIdToken("ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise InvalidIdToken("ID token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidIdToken("ID token is from another issuer") from None
    except jwt.PyJWTError:
        raise InvalidIdToken("ID token is invalid") from None

    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise InvalidIdToken("ID token has no usable subject")
    email = claims.get("email")
    name = claims.get("name")
    return VerifiedIdentity(
        provider=provider,
        subject=subject,
        email=email if isinstance(email, str) and len(email) <= 254 else "",
        display_name=name[:255] if isinstance(name, str) else "",
    )
