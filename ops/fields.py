from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers instead of turning them into text: a client that
    sends the wrong JSON type gets a 400, not a surprising success."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)
