from django.conf import settings
from rest_framework import serializers

from accounts.serializers import UserSerializer
from ops.fields import StrictCharField
from ops.serializers import InputSerializer


class ProviderField(serializers.ChoiceField):
    """The name of a configured identity provider (``AUTH_PROVIDERS``). The choices are read
    each time a serializer is made (DRF deep-copies declared fields, which builds them anew),
    so the OpenAPI schema declares as an enum exactly the providers sign-in accepts."""

    default_error_messages = {"invalid_choice": "Unknown provider {input!r}."}

    def __init__(self, **kwargs):
        super().__init__(choices=sorted(settings.AUTH_PROVIDERS), **kwargs)
        if not self.choices:
            self.help_text = "No identity provider is configured here: every value is refused."

    def to_internal_value(self, data):
        if not isinstance(data, str):  # a ChoiceField would match 1 to "1"
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class LoginSerializer(InputSerializer):
    provider = ProviderField(help_text="One of the identity providers this server accepts.")
    id_token = StrictCharField(max_length=16384, trim_whitespace=True)
    fingerprint = StrictCharField(max_length=255, required=False, allow_blank=True)


class TokenPairSerializer(serializers.Serializer):
    """A ``tokens.services.TokenPair``, as login and refresh answer it."""

    access = serializers.CharField(help_text="Access token (JWT) for `Authorization: Bearer`.")
    refresh = serializers.CharField(
        help_text="The next refresh token: present it once to auth/refresh."
    )
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds the access token lives.")


class LoginResponseSerializer(TokenPairSerializer):
    user = UserSerializer(source="session.user")


class RefreshSerializer(InputSerializer):
    refresh = StrictCharField(max_length=512)
    fingerprint = StrictCharField(max_length=255, required=False, allow_blank=True)


class LogoutSerializer(InputSerializer):
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
