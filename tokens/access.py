"""The API's own access tokens: short-lived HS256 JWTs signed with ``JWT_SIGNING_KEY``."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "sid", "jti", "iat", "exp"]
# How far in the future ``iat`` (and ``nbf``, if present) may be: app hosts' clocks differ a
# little, and a token issued on a host one second ahead must work on the others. ``exp`` has
# no leeway: a token is refused from its expiry on, whichever host issued it.
CLOCK_SKEW_LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    jti: str
    expires_at: datetime
    session_id: uuid.UUID


class InvalidAccessToken(Exception):
    pass


def new_jti() -> str:
    return uuid.uuid4().hex


def encode_access_token(*, user_id: uuid.UUID, session_id: uuid.UUID, jti: str) -> str:
    """An access token of ``session_id`` (``sid``): it dies with its session."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.ACCESS_TOKEN_TTL_SECONDS)).timestamp()),
    }
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def decode_access_token(token: str) -> AccessClaims:
    """Check the signature, the times (``CLOCK_SKEW_LEEWAY_SECONDS`` on ``iat`` and ``nbf``,
    none on ``exp``) and the claims' shapes; the session (and the revocation list) is checked
    by the caller."""
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
            leeway=CLOCK_SKEW_LEEWAY_SECONDS,
        )
        # PyJWT's leeway is one for every time claim: the expiry is checked again, exactly.
        if int(claims["exp"]) <= time.time():
            raise jwt.ExpiredSignatureError()
        user_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= 64:
            raise InvalidAccessToken("Access token is invalid.")
    except jwt.ExpiredSignatureError:
        raise InvalidAccessToken("Access token has expired.") from None
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        raise InvalidAccessToken("Access token is invalid.") from None
    return AccessClaims(
        user_id=user_id,
        jti=jti,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        session_id=session_id,
    )
