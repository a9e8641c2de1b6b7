"""Writes of tokens and sessions: sign-in, rotation, revocation, purge."""

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from accounts import identity
from accounts.models import User
from accounts.services import upsert_user
from ops.exceptions import ServiceUnavailable
from tokens.access import AccessClaims, encode_access_token
from tokens.exceptions import InvalidRefreshToken, SessionNotFound, SignInRefused
from tokens.models import RefreshToken, RevokedJti, Session
from tokens.selectors import find_refresh_token, hash_refresh_token

logger = logging.getLogger(__name__)

REFRESH_TOKEN_BYTES = 32  # 256 random bits


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    session: Session
    token_type: str = "Bearer"


def _refresh_expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS)


def _new_refresh_token(*, session: Session, now: datetime) -> str:
    """The next current token of ``session``; only its hash is stored."""
    raw_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    RefreshToken.objects.create(
        session=session, token_hash=hash_refresh_token(raw_token), created_at=now
    )
    return raw_token


def _pair(session: Session, raw_refresh: str) -> TokenPair:
    return TokenPair(
        access=encode_access_token(user_id=session.user_id, session_id=session.id),
        refresh=raw_refresh,
        expires_in=settings.ACCESS_TOKEN_TTL_SECONDS,
        session=session,
    )


def issue_refresh_token(*, user, fingerprint: str = "") -> TokenPair:
    """Start a login session for ``user``: its first refresh token and an access token."""
    now = timezone.now()
    with transaction.atomic():
        session = Session.objects.create(
            user=user,
            fingerprint=fingerprint,
            created_at=now,
            last_used_at=now,
            expires_at=_refresh_expiry(now),
        )
        raw_refresh = _new_refresh_token(session=session, now=now)
    return _pair(session, raw_refresh)


def sign_in(*, provider: str, id_token: str, fingerprint: str = "") -> tuple[User, TokenPair]:
    """Verify an ID token, upsert its user and start a session."""
    try:
        verified = identity.verify_id_token(provider=provider, id_token=id_token)
    except identity.UnknownProvider as exc:
        raise exceptions.ValidationError({"provider": [exc.reason]}) from None
    except identity.ProviderUnavailable as exc:
        raise ServiceUnavailable(exc.reason) from None
    except identity.InvalidIdToken as exc:
        raise SignInRefused(exc.reason) from None
    with transaction.atomic():
        user = upsert_user(
            provider=verified.provider,
            provider_subject=verified.subject,
            email=verified.email,
            display_name=verified.display_name,
        )
        if not user.is_active:
            raise SignInRefused("Account is disabled.")
        return user, issue_refresh_token(user=user, fingerprint=fingerprint)


def rotate_refresh_token(*, raw_token: str, fingerprint: str | None = None) -> TokenPair:
    """Exchange a current refresh token for a new pair in the same session.

    Presenting a token that was already rotated is taken as theft (RFC 9700, 4.14): the whole
    session is revoked. Of two rotations racing on one token, the conditional update lets
    exactly one win; the other is refused without revoking anything.
    """
    now = timezone.now()
    reused = None
    with transaction.atomic():
        token = find_refresh_token(raw_token=raw_token)
        if token is None:
            raise InvalidRefreshToken()
        session = token.session
        if session.revoked_at is not None:
            raise InvalidRefreshToken("Refresh token has been revoked.")
        if token.rotated_at is not None:
            Session.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=now)
            reused = session
        else:
            if session.expires_at <= now:
                raise InvalidRefreshToken("Refresh token has expired.")
            if session.fingerprint and session.fingerprint != (fingerprint or ""):
                raise InvalidRefreshToken("Refresh token is bound to another client.")
            if not session.user.is_active:
                raise InvalidRefreshToken("Account is disabled.")
            # The row count decides a race: of two rotations of one token, one updates it.
            won = RefreshToken.objects.filter(pk=token.pk, rotated_at__isnull=True).update(
                rotated_at=now
            )
            if not won:
                raise InvalidRefreshToken("Refresh token has already been used.")
            session.last_used_at = now
            session.expires_at = _refresh_expiry(now)
            Session.objects.filter(pk=session.pk).update(
                last_used_at=now, expires_at=session.expires_at
            )
            raw_refresh = _new_refresh_token(session=session, now=now)
    if reused is not None:
        logger.warning(
            "refresh token reused: session %s of user %s revoked", reused.pk, reused.user_id
        )
        raise InvalidRefreshToken("Refresh token was already used; its session has been revoked.")
    return _pair(session, raw_refresh)


def revoke_refresh_token(*, user, raw_token: str) -> bool:
    """End the session a refresh token belongs to, if it is the user's. True if it was."""
    token = find_refresh_token(raw_token=raw_token)
    if token is None or token.session.user_id != user.pk:
        return False
    return _revoke_sessions(Session.objects.filter(pk=token.session_id)) > 0


def revoke_session(*, user, session_id: uuid.UUID) -> None:
    """End one of the user's sessions; another user's session is not found."""
    if not _revoke_sessions(Session.objects.filter(pk=session_id, user=user)):
        raise SessionNotFound()


def revoke_sessions(*, session_ids) -> int:
    """End these sessions whoever they belong to (staff action)."""
    return _revoke_sessions(Session.objects.filter(pk__in=list(session_ids)))


def revoke_all_refresh_tokens_for_user(*, user) -> int:
    """End every session of the user; returns how many were live."""
    return _revoke_sessions(Session.objects.filter(user=user))


def _revoke_sessions(queryset) -> int:
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_jti(*, jti: str, user, expires_at: datetime) -> None:
    """Kill one access token now; revoking it twice is harmless."""
    RevokedJti.objects.bulk_create(
        [RevokedJti(jti=jti, user=user, expires_at=expires_at)], ignore_conflicts=True
    )


def logout(*, user, claims: AccessClaims, raw_refresh: str | None = None) -> None:
    """End this access token and its session (and the session of ``raw_refresh`` if given)."""
    with transaction.atomic():
        revoke_jti(jti=claims.jti, user=user, expires_at=claims.expires_at)
        if claims.session_id is not None:
            _revoke_sessions(Session.objects.filter(pk=claims.session_id, user=user))
        if raw_refresh:
            revoke_refresh_token(user=user, raw_token=raw_refresh)


def logout_all(*, user, claims: AccessClaims) -> None:
    """End this access token and every session of the user."""
    with transaction.atomic():
        revoke_jti(jti=claims.jti, user=user, expires_at=claims.expires_at)
        revoke_all_refresh_tokens_for_user(user=user)


def purge_expired_tokens(
    *, batch_size: int = 1000, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Delete expired sessions (with their refresh tokens) and revoked JTIs past their expiry,
    ``batch_size`` rows per transaction so no lock is held for long."""
    now = timezone.now()
    return {
        "sessions": _delete_in_batches(
            Session.objects.filter(expires_at__lte=now), batch_size, "sessions", progress
        ),
        "revoked_jtis": _delete_in_batches(
            RevokedJti.objects.filter(expires_at__lte=now), batch_size, "revoked_jtis", progress
        ),
    }


def _delete_in_batches(queryset, batch_size, label, progress) -> int:
    total = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not pks:
                return total
            queryset.model.objects.filter(pk__in=pks).delete()
        total += len(pks)
        if progress is not None:
            progress(label, total)
