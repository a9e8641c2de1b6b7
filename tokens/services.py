"""Writes of tokens and sessions: sign-in, rotation, revocation, purge."""

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import identity
from accounts.models import User
from accounts.services import upsert_user
from ops.batches import delete_in_batches
from tokens.access import AccessClaims, encode_access_token, new_jti
from tokens.exceptions import (
    InvalidRefreshToken,
    ProviderUnavailable,
    SessionNotFound,
    SignInRefused,
    UnknownProvider,
)
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


def _refresh_expiry(session: Session, now: datetime) -> datetime:
    """A new refresh token lives ``REFRESH_TOKEN_TTL_DAYS``, never past its session's end."""
    return min(now + timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS), session.ends_at)


def _new_pair(*, session: Session, now: datetime) -> TokenPair:
    """The next current refresh token of ``session`` (only its hash is stored) and the access
    token issued with it (its JTI kept beside the hash)."""
    raw_refresh = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    jti = new_jti()
    RefreshToken.objects.create(
        session=session, token_hash=hash_refresh_token(raw_refresh), access_jti=jti, created_at=now
    )
    return TokenPair(
        access=encode_access_token(user_id=session.user_id, session_id=session.id, jti=jti),
        refresh=raw_refresh,
        expires_in=settings.ACCESS_TOKEN_TTL_SECONDS,
        session=session,
    )


def start_session(*, user: User, fingerprint: str = "") -> TokenPair:
    """Start a login session for ``user``: its first refresh token and an access token."""
    now = timezone.now()
    session = Session(user=user, fingerprint=fingerprint, created_at=now, last_used_at=now)
    session.expires_at = _refresh_expiry(session, now)
    with transaction.atomic():
        session.save(force_insert=True)
        return _new_pair(session=session, now=now)


def sign_in(*, provider: str, id_token: str, fingerprint: str = "") -> tuple[User, TokenPair]:
    """Verify an ID token, upsert its user and start a session."""
    try:
        verified = identity.verify_id_token(provider=provider, id_token=id_token)
    except identity.UnknownProvider as exc:
        raise UnknownProvider(exc.reason) from None
    except identity.ProviderUnavailable as exc:
        raise ProviderUnavailable(exc.reason) from None
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
        return user, start_session(user=user, fingerprint=fingerprint)


def rotate_refresh_token(*, raw_token: str, fingerprint: str | None = None) -> TokenPair:
    """Exchange a current refresh token for a new pair in the same session.

    Presenting a token that was already rotated is taken as theft (RFC 9700, 4.14) and the
    whole session is revoked, except a retry within ``REFRESH_TOKEN_RETRY_GRACE_SECONDS``
    (see ``_retry_within_grace``). A fingerprint other than the session's revokes it too. Of
    two rotations racing on one token, the conditional update lets exactly one win; the
    other is refused without revoking anything.
    """
    now = timezone.now()
    fingerprint = fingerprint or ""
    revoked_for = None
    with transaction.atomic():
        token = find_refresh_token(raw_token=raw_token)
        if token is None:
            raise InvalidRefreshToken()
        session = token.session
        if session.revoked_at is not None:
            raise InvalidRefreshToken("Refresh token has been revoked.")
        if session.has_ended(now):
            raise InvalidRefreshToken("Refresh token has expired.")
        if not session.user.is_active:
            raise InvalidRefreshToken("Account is disabled.")
        if session.fingerprint and session.fingerprint != fingerprint:
            revoked_for = "presented with another fingerprint"
        elif token.rotated_at is None:
            # The row count decides a race: of two rotations of one token, one updates it.
            won = RefreshToken.objects.filter(pk=token.pk, rotated_at__isnull=True).update(
                rotated_at=now
            )
            if not won:
                raise InvalidRefreshToken("Refresh token has already been used.")
            return _renew(session=session, now=now)
        else:
            pair = _retry_within_grace(token=token, session=session, now=now)
            if pair is not None:
                return pair
            revoked_for = "reused"
        _revoke_sessions(Session.objects.filter(pk=session.pk))
    # Outside the transaction: the revocation is committed before the refusal is raised.
    logger.warning(
        "refresh token %s: session %s of user %s revoked", revoked_for, session.pk, session.user_id
    )
    raise InvalidRefreshToken(f"Refresh token {revoked_for}; its session has been revoked.")


def _renew(*, session: Session, now: datetime) -> TokenPair:
    session.last_used_at = now
    session.expires_at = _refresh_expiry(session, now)
    Session.objects.filter(pk=session.pk).update(last_used_at=now, expires_at=session.expires_at)
    return _new_pair(session=session, now=now)


def _retry_within_grace(
    *, token: RefreshToken, session: Session, now: datetime
) -> TokenPair | None:
    """A new pair for a client that lost the answer to its refresh and retries with the token
    it sent, or None (theft). Allowed only within the grace after that token's rotation, and
    only while the token that rotation issued (its direct successor) is the session's current
    one, unused: a token two rotations old, or one whose successor was used, is no retry.
    The unused successor and its access token die, so only the newest pair is valid."""
    grace = settings.REFRESH_TOKEN_RETRY_GRACE_SECONDS
    if not grace or token.rotated_at is None or now - token.rotated_at > timedelta(seconds=grace):
        return None
    successor = RefreshToken.objects.filter(session=session, pk__gt=token.pk).order_by("pk").first()
    if successor is None or successor.rotated_at is not None:
        return None
    # The row count decides a race with another retry or a rotation of the successor.
    deleted, _ = RefreshToken.objects.filter(pk=successor.pk, rotated_at__isnull=True).delete()
    if not deleted:
        raise InvalidRefreshToken("Refresh token has already been used.")
    if successor.access_jti:
        revoke_jti(
            jti=successor.access_jti,
            user=session.user,
            expires_at=successor.created_at + timedelta(seconds=settings.ACCESS_TOKEN_TTL_SECONDS),
        )
    logger.info("refresh retried within the grace: session %s keeps going", session.pk)
    return _renew(session=session, now=now)


def revoke_refresh_token(*, user: User, raw_token: str) -> bool:
    """End the session a refresh token belongs to, if it is the user's. True if it was."""
    token = find_refresh_token(raw_token=raw_token)
    if token is None or token.session.user_id != user.pk:
        return False
    return _revoke_sessions(Session.objects.filter(pk=token.session_id)) > 0


def revoke_session(*, user: User, session_id: uuid.UUID) -> None:
    """End one of the user's sessions; another user's session is not found."""
    if not _revoke_sessions(Session.objects.filter(pk=session_id, user=user)):
        raise SessionNotFound()


def revoke_sessions(*, session_ids: Iterable[uuid.UUID]) -> int:
    """End these sessions whoever they belong to (staff action)."""
    return _revoke_sessions(Session.objects.filter(pk__in=list(session_ids)))


def revoke_sessions_of_user(*, user: User) -> int:
    """End every session of the user; returns how many were live."""
    return _revoke_sessions(Session.objects.filter(user=user))


def _revoke_sessions(queryset: QuerySet[Session]) -> int:
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_jti(*, jti: str, user: User, expires_at: datetime) -> None:
    """Kill one access token now; revoking it twice is harmless. The user's live sessions
    are marked until that token would have expired, so their session check looks for it."""
    with transaction.atomic():
        RevokedJti.objects.bulk_create(
            [RevokedJti(jti=jti, user=user, expires_at=expires_at)], ignore_conflicts=True
        )
        Session.objects.filter(
            Q(access_revoked_until__isnull=True) | Q(access_revoked_until__lt=expires_at),
            user=user,
            revoked_at__isnull=True,
        ).update(access_revoked_until=expires_at)


def logout(*, user: User, claims: AccessClaims, raw_refresh: str | None = None) -> None:
    """End this access token's session, and so every access token of it (and the session
    of ``raw_refresh`` if given)."""
    with transaction.atomic():
        _revoke_sessions(Session.objects.filter(pk=claims.session_id, user=user))
        if raw_refresh:
            revoke_refresh_token(user=user, raw_token=raw_refresh)


def logout_all(*, user: User, claims: AccessClaims) -> None:
    """End every session of the user, and so every access token of theirs."""
    revoke_sessions_of_user(user=user)


def purge_expired_tokens(
    *, batch_size: int = 1000, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Delete expired sessions (with their refresh tokens), refresh tokens rotated longer ago
    than a refresh token lives (they would have expired anyway: presented again, they are
    unknown instead of reused), and revoked JTIs past their expiry, ``batch_size`` rows per
    transaction so no lock is held for long."""
    now = timezone.now()
    rotated_before = now - timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS)
    return {
        "sessions": _delete(
            Session.objects.filter(expires_at__lte=now), batch_size, "sessions", progress
        ),
        "rotated_refresh_tokens": _delete(
            RefreshToken.objects.filter(rotated_at__lte=rotated_before),
            batch_size,
            "rotated_refresh_tokens",
            progress,
        ),
        "revoked_jtis": _delete(
            RevokedJti.objects.filter(expires_at__lte=now), batch_size, "revoked_jtis", progress
        ),
    }


def _delete(
    queryset: QuerySet[Any],
    batch_size: int,
    label: str,
    progress: Callable[[str, int], None] | None,
) -> int:
    counted = None if progress is None else (lambda total: progress(label, total))
    return delete_in_batches(queryset, batch_size, counted)
