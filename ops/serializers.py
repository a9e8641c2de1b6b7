"""The base of every serializer that reads a request body."""

from collections.abc import Mapping

from rest_framework import serializers

UNKNOWN_FIELD = "This endpoint does not define this field."


class InputSerializer(serializers.Serializer):
    """A request body. A field it does not define is refused with 400, naming the field (a
    client's misspelt or misplaced field is not silently dropped), and the OpenAPI schema
    says so (``additionalProperties: false``, ``ops.openapi.InputSerializerSchema``), so the
    schema and the server agree on every body. A body whose sender adds fields over time (the
    payment provider's events) sets ``allow_unknown_fields``: they are then ignored, and the
    schema allows them."""

    allow_unknown_fields = False

    def to_internal_value(self, data):
        if not self.allow_unknown_fields and isinstance(data, Mapping):
            defined = {name for name, field in self.fields.items() if not field.read_only}
            unknown = [name for name in data if name not in defined]
            if unknown:
                raise serializers.ValidationError({name: [UNKNOWN_FIELD] for name in unknown})
        return super().to_internal_value(data)
