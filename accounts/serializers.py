from rest_framework import serializers

from accounts.models import User
from config.fields import StrictCharField


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "provider", "email", "display_name", "created_at"]
        read_only_fields = fields


class LoginSerializer(serializers.Serializer):
    provider = StrictCharField(max_length=32)
    id_token = StrictCharField(max_length=16384, trim_whitespace=True)
    fingerprint = StrictCharField(max_length=255, required=False, allow_blank=True)
