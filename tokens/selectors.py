"""Reads of tokens and sessions."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from tokens.access import AccessClaims
from tokens.models import RefreshToken, RevokedJti, Session


def hash_refresh_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()


def session_is_live(now: datetime, *, via: str = "") -> Q:
    """The filter of a session that has not ended (``via``: the path to it, as ``session__``),
    the rule of ``Session.has_ended`` in SQL."""
    return Q(
        **{
            f"{via}revoked_at__isnull": True,
            f"{via}expires_at__gt": now,
            f"{via}created_at__gt": now - timedelta(days=settings.SESSION_MAX_AGE_DAYS),
        }
    )


def _tokens_with_value(raw_token: str) -> QuerySet[RefreshToken]:
    """The token with this value (at most one: the hash is unique), its session and the
    session's user joined in the same query."""
    return RefreshToken.objects.select_related("session__user").filter(
        token_hash=hash_refresh_token(raw_token)
    )


def find_refresh_token(*, raw_token: str) -> RefreshToken | None:
    """The token with this value whatever its state (rotation needs to see reuse), with its
    session and the session's user loaded."""
    return _tokens_with_value(raw_token).first()


@dataclass(frozen=True)
class AccessTokenUser:
    """The user of an access token whose session is live, and whether that token itself was
    revoked (``RevokedJti``)."""

    user: User
    access_revoked: bool


def find_user_of_access_token(*, claims: AccessClaims) -> AccessTokenUser | None:
    """The user of an access token whose session is live (``Session.has_ended``), and whether
    that token itself was revoked; None once the session has ended. One query per request,
    by primary key, on the primary (a session ended anywhere ends its access tokens on their
    next request); a second one, for the token's JTI, only while an access token of the user
    may have been revoked on its own (``Session.access_revoked_until``)."""
    try:
        session = (
            Session.objects.using(DEFAULT_DB_ALIAS).select_related("user").get(pk=claims.session_id)
        )
    except Session.DoesNotExist:
        return None
    now = timezone.now()
    if session.user_id != claims.user_id or session.has_ended(now):
        return None
    revoked_until = session.access_revoked_until
    access_revoked = (
        revoked_until is not None and revoked_until > now and is_jti_revoked(jti=claims.jti)
    )
    return AccessTokenUser(user=session.user, access_revoked=access_revoked)


def is_jti_revoked(*, jti: str) -> bool:
    """Whether the access token was revoked. Read from the primary: a logout must kill its
    token at once, not after replica lag."""
    return RevokedJti.objects.using(DEFAULT_DB_ALIAS).filter(pk=jti).exists()


def list_sessions(*, user: User) -> list[Session]:
    """The user's live logins, most recently used first."""
    return list(
        Session.objects.filter(session_is_live(timezone.now()), user=user).order_by(
            "-last_used_at", "-created_at"
        )
    )
