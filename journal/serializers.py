from rest_framework import serializers

from config.fields import StrictCharField
from journal.models import JournalEntry

MAX_PAGE_SIZE = 100


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = JournalEntry
        fields = ["id", "content", "size_bytes", "created_at", "updated_at"]
        read_only_fields = fields


class EntryInputSerializer(serializers.Serializer):
    # The size limit is in UTF-8 bytes and answered with 413, so no max_length here.
    content = StrictCharField(trim_whitespace=False)


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, default=20)
    offset = serializers.IntegerField(min_value=0, default=0)

    def validate_limit(self, value):
        return min(value, MAX_PAGE_SIZE)


class UsageSerializer(serializers.Serializer):
    bytes_used = serializers.IntegerField()
    quota_bytes = serializers.IntegerField()
    entries = serializers.IntegerField()
