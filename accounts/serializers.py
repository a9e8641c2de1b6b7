from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "provider", "email", "display_name", "created_at"]
        read_only_fields = fields
