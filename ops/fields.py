from django.core.validators import RegexValidator
from rest_framework import serializers

# What a trimmed string that may not be blank must hold: a character that is not whitespace.
NOT_ONLY_WHITESPACE = r"\S"


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers instead of turning them into text: a client that
    sends the wrong JSON type gets a 400, not a surprising success.

    Trimmed and not allowed blank, a value of only whitespace is refused as blank: the field
    declares that as its pattern too, so the OpenAPI schema does not promise it is accepted."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.trim_whitespace and not self.allow_blank:
            self.validators.append(
                RegexValidator(NOT_ONLY_WHITESPACE, message="This field may not be blank.")
            )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)
