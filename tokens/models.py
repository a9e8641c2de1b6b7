import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


class Session(models.Model):
    """One login: the family of refresh tokens that its rotations issue. Revoking the session
    kills every token of the family at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions"
    )
    fingerprint = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    # The expiry of the family's current refresh token (each rotation extends it).
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Until when an access token of the user may have been revoked on its own (``RevokedJti``)
    # while this session lives on: the session check looks for the token's JTI only before
    # then, so it is one read by primary key the rest of the time.
    access_revoked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="session_user_expires_idx")]

    def __str__(self) -> str:
        return f"session {self.id}"

    @property
    def ends_at(self) -> datetime:
        """The absolute end of the session (``SESSION_MAX_AGE_DAYS`` after its login)."""
        return self.created_at + timedelta(days=settings.SESSION_MAX_AGE_DAYS)

    def has_ended(self, now: datetime) -> bool:
        """Revoked, its refresh token expired, or past its absolute end.
        ``tokens.selectors.session_is_live`` is the same in SQL."""
        return self.revoked_at is not None or self.expires_at <= now or self.ends_at <= now


class RefreshToken(models.Model):
    """One refresh token of a session. Only the SHA-256 of its 256 random bits is stored.
    A rotation marks it rotated and issues the next one; presenting it again is a reuse."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    # The JTI of the access token issued with it: a retry within the grace kills that pair.
    access_jti = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A session has one current token; a second concurrent rotation cannot add another.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(rotated_at__isnull=True),
                name="refresh_one_current_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk}"


class RevokedJti(models.Model):
    """An access token ended before its expiry while its session lives on: the one issued with
    the refresh token that a retry within the grace replaced. (However a session ends, its
    access tokens die through the session.) Purgeable once it would have expired."""

    jti = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="revoked_jtis"
    )
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "revoked JTI"
        verbose_name_plural = "revoked JTIs"

    def __str__(self) -> str:
        return self.jti
