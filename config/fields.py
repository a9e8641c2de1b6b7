from datetime import datetime, tzinfo

from django.utils import timezone
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers instead of turning them into text: a client that
    sends the wrong JSON type gets a 400, not a surprising success."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


def api_datetime(value: datetime | None, current: tzinfo | None = None) -> str | None:
    """A datetime as DRF's ``DateTimeField`` writes it (ISO 8601 in the current time zone,
    ``Z`` for UTC), without building a field for each value: the hot paths (entry and user
    output) serialize with plain functions that call this. A caller writing many values passes
    ``current`` (``timezone.get_current_timezone()``, looked up once: the lookup costs more
    than the formatting)."""
    if value is None:
        return None
    if current is None:
        current = timezone.get_current_timezone()
    if value.tzinfo is not current:
        value = value.astimezone(current)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
