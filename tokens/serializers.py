from rest_framework import serializers

from config.fields import StrictCharField
from tokens.services import TokenPair


def token_pair_data(pair: TokenPair) -> dict:
    return {
        "access": pair.access,
        "refresh": pair.refresh,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField(max_length=512)
    fingerprint = StrictCharField(max_length=255, required=False, allow_blank=True)


class LogoutSerializer(serializers.Serializer):
    refresh = StrictCharField(max_length=512, required=False, allow_blank=True)


class SessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    fingerprint = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    current = serializers.SerializerMethodField()

    def get_current(self, session) -> bool:
        return session.id == self.context.get("current_session_id")
