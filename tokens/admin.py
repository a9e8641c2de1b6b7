from django.contrib import admin
from django.utils import timezone

from tokens import services
from tokens.models import RefreshToken, RevokedJti, Session


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tokens are made by sign-in and rotation only; staff look and revoke, through the
    revoke actions. Nobody deletes a row by hand: a deleted revoked JTI would bring its access
    token back to life, and a deleted rotated refresh token would make its later reuse look
    unknown instead of revoking the session (theft detection). Rows go with their account, or
    through ``purge_tokens`` once expired."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "fingerprint",
        "created_at",
        "last_used_at",
        "expires_at",
        "state",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("id", "user__email", "user__provider_subject", "fingerprint")
    list_select_related = ("user",)
    ordering = ("-last_used_at",)
    fields = (
        "id",
        "user",
        "fingerprint",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "state",
        "current_token",
        "rotated_tokens",
    )
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="current refresh token")
    def current_token(self, session):
        token = session.refresh_tokens.filter(rotated_at__isnull=True).first()
        return (
            "none"
            if token is None
            else f"#{token.pk}, issued {token.created_at:%Y-%m-%d %H:%M:%S} UTC"
        )

    @admin.display(description="rotated refresh tokens")
    def rotated_tokens(self, session):
        return session.refresh_tokens.filter(rotated_at__isnull=False).count()

    @admin.display(description="state")
    def state(self, session):
        if session.revoked_at:
            return "revoked"
        return "expired" if session.expires_at <= timezone.now() else "live"

    @admin.action(
        description="Revoke selected sessions (their refresh and access tokens die at once)"
    )
    def revoke(self, request, queryset):
        count = services.revoke_sessions(session_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {count} session(s).")


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyAdmin):
    # The hash is never shown: it is as good as the token for a lookup.
    fields = ("id", "session", "user", "created_at", "rotated_at")
    readonly_fields = fields
    list_display = ("id", "session", "user", "created_at", "rotated_at")
    list_filter = (("rotated_at", admin.EmptyFieldListFilter),)
    search_fields = ("session__id", "session__user__email", "session__user__provider_subject")
    list_select_related = ("session__user",)
    ordering = ("-created_at",)
    actions = ["revoke"]

    @admin.display(description="user")
    def user(self, token):
        return token.session.user

    @admin.action(description="Revoke the sessions of the selected tokens")
    def revoke(self, request, queryset):
        count = services.revoke_sessions(session_ids=queryset.values_list("session_id", flat=True))
        self.message_user(request, f"Revoked {count} session(s).")


@admin.register(RevokedJti)
class RevokedJtiAdmin(ReadOnlyAdmin):
    list_display = ("jti", "user", "revoked_at", "expires_at")
    search_fields = ("jti", "user__email", "user__provider_subject")
    list_select_related = ("user",)
    ordering = ("-revoked_at",)
