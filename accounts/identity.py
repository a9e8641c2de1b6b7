"""Verifying ID tokens from external identity providers (Google, Apple, ...).

PyJWT does the cryptography and the key-set caching (a TTL on the set, a cooldown between
re-fetches for an unknown ``kid``). ``ProviderKeys`` adds what it lacks: ``file://`` key sets,
and keeping the last good key set through whatever a provider answers instead of a usable one.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import jwt
from django.conf import settings
from django.db import models
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError, PyJWKSet
from jwt.exceptions import PyJWKSetError

from accounts.models import User
from ops.text import is_storable_text, without_unstorable

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
    """A provider's key set, fetched over http(s) by PyJWT or read from a file://, and
    cached by PyJWT for a lifespan. An answer becomes the last good set only once it parsed
    into at least one signing key. Any other answer (an error status, a body that is not a
    key set, a connection cut mid-body, an unreadable file) leaves the last good set in use
    for another lifespan; with none yet, the keys are unavailable, and the provider is not
    asked again before a cooldown has passed."""

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
        self._last_good: PyJWKSet | None = None

    def fetch_data(self) -> PyJWKSet:
        # PyJWT calls this under its client lock: the cached set is stale, or a kid unknown.
        if self._last_good is None and self._cooling_down():
            raise PyJWKClientConnectionError(f"no usable key set at {self.source_uri} yet")
        # PyJWT starts the cooldown on a good fetch only; ours starts on every attempt, so a
        # provider answering badly is not asked again for each token.
        self._last_successful_fetch = time.monotonic()
        try:
            data = self._read_file() if self.is_file else super().fetch_data()
            jwk_set = PyJWKSet.from_dict(self._as_jwk_set_payload(data))
            self._get_signing_keys_from_jwk_set(jwk_set)
        # ValueError: not JSON (PyJWT parses the body outside its own try). OSError: a file
        # that cannot be read, a connection reset mid-body (urllib wraps only errors before
        # the body). TypeError: PyJWK hashes a key's "alg" unchecked (PyJWT 2.15).
        except (PyJWKClientError, PyJWKSetError, ValueError, OSError, TypeError) as exc:
            return self._fall_back(exc)
        self._last_good = jwk_set
        return jwk_set

    def _cooling_down(self) -> bool:
        last = self._last_successful_fetch
        return last is not None and time.monotonic() - last < self.cooldown_duration

    def _fall_back(self, error: Exception) -> PyJWKSet:
        logger.warning("key set at %s unusable: %s", self.source_uri, error)
        if self._last_good is None:
            if self.jwk_set_cache is not None:  # PyJWT may have cached a set without signing keys
                self.jwk_set_cache.put(None)
            raise PyJWKClientConnectionError(
                f"no usable key set at {self.source_uri}: {error}"
            ) from error
        # get_jwk_set caches what this returns: the provider is tried again after a lifespan.
        return self._last_good

    def _read_file(self):
        with open(unquote(urlparse(self.source_uri).path), encoding="utf-8") as fh:
            return json.load(fh)


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

    # PyJWT only checks that iat is not in the future, and takes anything int() takes ("12").
    issued_at = claims["iat"]
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise InvalidIdToken("ID token has no usable issue time")
    oldest = time.time() - settings.AUTH_ID_TOKEN_MAX_AGE_SECONDS - CLOCK_LEEWAY_SECONDS
    if issued_at < oldest:
        raise InvalidIdToken("ID token was issued too long ago")

    subject = claims["sub"]
    # The subject is the user's key: it is stored exactly as sent, or the token is refused.
    if (
        not isinstance(subject, str)
        or not subject
        or len(subject) > _column_length("provider_subject")
        or not is_storable_text(subject)
    ):
        raise InvalidIdToken("ID token has no usable subject")
    return VerifiedIdentity(
        provider=provider,
        subject=subject,
        email=_claimed_email(claims.get("email")),
        display_name=_claimed_name(claims.get("name")),
    )


def _column_length(field: str) -> int:
    column = User._meta.get_field(field)
    if not isinstance(column, models.CharField) or column.max_length is None:
        raise TypeError(f"User.{field} is not a text column of bounded length")
    return column.max_length


def _claimed_email(email) -> str:
    """The ``email`` claim, or "" when it cannot be stored as it is: an address is never
    altered, since removing a character from one may make it another person's."""
    if isinstance(email, str) and len(email) <= _column_length("email") and is_storable_text(email):
        return email
    return ""


def _claimed_name(name) -> str:
    """The ``name`` claim, without the characters the databases cannot store, cut to fit."""
    if not isinstance(name, str):
        return ""
    return without_unstorable(name)[: _column_length("display_name")]
