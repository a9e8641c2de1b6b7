from datetime import tzinfo

from django.utils import timezone
from rest_framework import serializers

from config.fields import StrictCharField, api_datetime
from journal.models import JournalEntry

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_OFFSET = 2**63 - 1


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JournalEntry
        fields = ["id", "content", "size_bytes", "created_at", "updated_at"]
        read_only_fields = fields


def entry_data(entry: JournalEntry, current: tzinfo | None = None) -> dict:
    """What ``EntrySerializer`` gives, built directly: the list serializes up to 100 entries
    per request, and DRF's per-field machinery cost more than the queries. The schema still
    comes from ``EntrySerializer``; a test keeps the two equal. ``current``: see
    ``api_datetime``."""
    return {
        "id": str(entry.id),
        "content": entry.content,
        "size_bytes": entry.size_bytes,
        "created_at": api_datetime(entry.created_at, current),
        "updated_at": api_datetime(entry.updated_at, current),
    }


def entries_data(entries: list[JournalEntry]) -> list[dict]:
    """``entry_data`` of each entry, the time zone looked up once."""
    current = timezone.get_current_timezone()
    return [entry_data(entry, current) for entry in entries]


class EntryInputSerializer(serializers.Serializer):
    # The size limit is in UTF-8 bytes and answered with 413, so no max_length here.
    content = StrictCharField(trim_whitespace=False)


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, default=DEFAULT_PAGE_SIZE)
    # Both databases take a 64-bit OFFSET; a larger number is a bad request, not a 500.
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)

    def validate_limit(self, value):
        return min(value, MAX_PAGE_SIZE)


def _plain_number(value: str | None) -> bool:
    # 18 digits stay below MAX_OFFSET; longer numbers go through the serializer's checks.
    return value is None or (value.isascii() and value.isdigit() and len(value) <= 18)


def parse_page_query(query_params) -> tuple[int, int]:
    """``limit`` and ``offset`` as ``PageQuerySerializer`` reads them. Plain digits (what
    clients send) are read directly, as the list is the busiest endpoint; anything else goes
    through the serializer, which answers 400 exactly as before."""
    limit, offset = query_params.get("limit"), query_params.get("offset")
    if _plain_number(limit) and _plain_number(offset):
        limit = DEFAULT_PAGE_SIZE if limit is None else int(limit)
        offset = 0 if offset is None else int(offset)
        if limit >= 1:
            return min(limit, MAX_PAGE_SIZE), offset
    query = PageQuerySerializer(data=query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["limit"], query.validated_data["offset"]


class UsageSerializer(serializers.Serializer):
    bytes_used = serializers.IntegerField()
    quota_bytes = serializers.IntegerField()
    entries = serializers.IntegerField()
