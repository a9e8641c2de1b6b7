from rest_framework import serializers

from journal.models import JournalEntry
from ops.fields import StrictCharField
from ops.serializers import InputSerializer

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_OFFSET = 2**63 - 1


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JournalEntry
        fields = ["id", "content", "size_bytes", "created_at", "updated_at"]
        read_only_fields = fields


class EntryInputSerializer(InputSerializer):
    # The size limit is in UTF-8 bytes and answered with 413, so no max_length here.
    content = StrictCharField(trim_whitespace=False)


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, default=DEFAULT_PAGE_SIZE)
    # Both databases take a 64-bit OFFSET; a larger number is a bad request, not a 500.
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)

    def validate_limit(self, value):
        return min(value, MAX_PAGE_SIZE)


def parse_page_query(query_params) -> tuple[int, int]:
    """``limit`` and ``offset`` of a list request; a bad value is a 400."""
    query = PageQuerySerializer(data=query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["limit"], query.validated_data["offset"]


class UsageSerializer(serializers.Serializer):
    bytes_used = serializers.IntegerField()
    quota_bytes = serializers.IntegerField()
    entries = serializers.IntegerField()
