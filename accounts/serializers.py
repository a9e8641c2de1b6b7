from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    # Not an EmailField: an identity provider may give no email (or staff may clear it), and
    # then it is "", which a schema's `format: email` would call invalid. Clients get a
    # string either way; "" means none.
    email = serializers.CharField(
        read_only=True,
        help_text="The email the identity provider gave, or an empty string if it gave none.",
    )

    class Meta:
        model = User
        fields = ["id", "provider", "email", "display_name", "created_at"]
        read_only_fields = fields
