from rest_framework import serializers

from accounts.models import User
from config.fields import StrictCharField, api_datetime


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "provider", "email", "display_name", "created_at"]
        read_only_fields = fields


def user_data(user: User) -> dict:
    """What ``UserSerializer`` gives, built directly (``GET me`` is a hot path); the schema
    still comes from ``UserSerializer`` and a test keeps the two equal."""
    return {
        "id": str(user.id),
        "provider": user.provider,
        "email": user.email,
        "display_name": user.display_name,
        "created_at": api_datetime(user.created_at),
    }


class LoginSerializer(serializers.Serializer):
    provider = StrictCharField(max_length=32)
    id_token = StrictCharField(max_length=16384, trim_whitespace=True)
    fingerprint = StrictCharField(max_length=255, required=False, allow_blank=True)
