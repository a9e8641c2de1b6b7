"""Reads of tokens and sessions."""

import hashlib

from django.utils import timezone

from config.database import DB_DEFAULT
from tokens.models import RefreshToken, RevokedJti, Session


def hash_refresh_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()


def _tokens_with_value(raw_token: str):
    """The token with this value (at most one: the hash is unique), its session and the
    session's user joined in the same query."""
    return RefreshToken.objects.select_related("session__user").filter(
        token_hash=hash_refresh_token(raw_token)
    )


def find_refresh_token(*, raw_token: str) -> RefreshToken | None:
    """The token with this value whatever its state (rotation needs to see reuse), with its
    session and the session's user loaded."""
    return _tokens_with_value(raw_token).first()


def find_valid_refresh_token(*, raw_token: str) -> RefreshToken | None:
    """The current token with this value, of a live session (not revoked, not expired)."""
    return (
        _tokens_with_value(raw_token)
        .filter(
            rotated_at__isnull=True,
            session__revoked_at__isnull=True,
            session__expires_at__gt=timezone.now(),
        )
        .first()
    )


def is_jti_revoked(*, jti: str) -> bool:
    """Whether the access token was revoked. Read from the primary: a logout must kill its
    token at once, not after replica lag."""
    return RevokedJti.objects.using(DB_DEFAULT).filter(pk=jti).exists()


def list_sessions(*, user) -> list[Session]:
    """The user's live logins, most recently used first."""
    return list(
        Session.objects.filter(
            user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).order_by("-last_used_at", "-created_at")
    )
