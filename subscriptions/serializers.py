from datetime import UTC

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from ops.fields import StrictCharField
from ops.serializers import InputSerializer
from subscriptions.models import Subscription, SubscriptionStatus, WebhookOutcome

# 9999-12-31T23:59:59Z: the last second a Python datetime (and so the ORM) can hold.
MAX_UNIX_SECONDS = 253402300799


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses strings, floats and booleans instead of converting them."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string (DRF's field would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class OffsetDateTimeField(serializers.Field):
    """An ISO 8601 time with a UTC offset: a naive time is ambiguous, so it is refused rather
    than read in whatever zone the server happens to use."""

    default_error_messages = {
        "invalid": "Must be an ISO 8601 date and time.",
        "naive": "Must include a UTC offset (for example Z or +00:00).",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(data)
        except ValueError:  # well-formed but impossible, like month 13
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None:
            self.fail("naive")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # past year 9999 once moved to UTC
            self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat()


class SubscriptionStateSerializer(InputSerializer):
    """The ``subscription`` object of a webhook event: its state at the provider. Fields it
    does not define are ignored: providers add fields to their events over time."""

    allow_unknown_fields = True

    id = StrictCharField(max_length=255, trim_whitespace=False)
    plan = StrictCharField(max_length=100, trim_whitespace=False)
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    # Required, but may be null: a refunded subscription can have no period left.
    current_period_end = OffsetDateTimeField(allow_null=True)


class WebhookEventSerializer(InputSerializer):
    """A webhook event body. Fields it does not define are ignored: providers add fields to
    their events over time. Identifiers are kept exactly as sent: trimming would make
    "evt_1 " the same event as "evt_1"."""

    allow_unknown_fields = True

    id = StrictCharField(max_length=255, trim_whitespace=False)
    type = StrictCharField(max_length=100, trim_whitespace=False)
    created = StrictIntegerField(min_value=0, max_value=MAX_UNIX_SECONDS)
    provider = StrictCharField(max_length=32, trim_whitespace=False)
    user_id = StrictUUIDField()
    subscription = SubscriptionStateSerializer()


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subscription
        fields = ["id", "provider", "plan", "status", "current_period_end", "updated_at"]
        read_only_fields = fields


class SubscriptionSummarySerializer(serializers.Serializer):
    active = SubscriptionSerializer(
        allow_null=True,
        help_text="Of those in `active` or `grace`, the one whose period ends last, if any.",
    )
    latest = SubscriptionSerializer(
        allow_null=True, help_text="The most recently updated one, whatever its status."
    )


class WebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookOutcome.choices)
