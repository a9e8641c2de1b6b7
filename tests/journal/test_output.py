"""The hot paths serialize with plain functions; the schema comes from the DRF serializers.
These keep the two equal."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.http import QueryDict
from django.utils import timezone as django_timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from accounts.serializers import UserSerializer, user_data
from config.fields import api_datetime
from journal.models import JournalEntry
from journal.serializers import (
    EntrySerializer,
    PageQuerySerializer,
    entries_data,
    entry_data,
    parse_page_query,
)


def test_entry_data_equals_entry_serializer(user):
    entry = JournalEntry.objects.create(user=user, content="caf\u00e9 \U0001f600", size_bytes=9)
    entry.refresh_from_db()

    assert entry_data(entry) == EntrySerializer(entry).data


def test_entries_data_equals_entry_serializer_in_any_time_zone(user):
    for content in ["one", "two"]:
        JournalEntry.objects.create(user=user, content=content, size_bytes=3)
    entries = list(JournalEntry.objects.filter(user=user))

    for zone in ["UTC", "Europe/Paris", "Asia/Kolkata"]:
        with django_timezone.override(zone):
            assert entries_data(entries) == EntrySerializer(entries, many=True).data, zone
    with django_timezone.override("Asia/Kolkata"):
        assert entries_data(entries)[0]["created_at"].endswith("+05:30")


def test_user_data_equals_user_serializer(user):
    user.refresh_from_db()

    assert user_data(user) == UserSerializer(user).data


def test_api_datetime_writes_what_drf_writes():
    field = serializers.DateTimeField()
    values = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ]
    for value in values:
        assert api_datetime(value) == field.to_representation(value)
    with django_timezone.override("Europe/Paris"):
        assert api_datetime(values[0]) == field.to_representation(values[0])
    assert api_datetime(None) is None


def test_parse_page_query_reads_what_page_query_serializer_reads():
    for query in [
        "",
        "limit=5",
        "limit=500&offset=40",
        "offset=0",
        "limit=007&offset=3",
        "limit=1&limit=9",
        "limit=100",
    ]:
        serializer = PageQuerySerializer(data=QueryDict(query))
        assert serializer.is_valid()
        expected = (serializer.validated_data["limit"], serializer.validated_data["offset"])
        assert parse_page_query(QueryDict(query)) == expected, query


def test_parse_page_query_leaves_anything_else_to_the_serializer():
    for query in ["limit=0", "limit=-1", "offset=-1", "limit=abc", "limit=\u00b2"]:
        with pytest.raises(ValidationError):
            parse_page_query(QueryDict(query))
    assert parse_page_query(QueryDict("limit=")) == (20, 0)
    assert parse_page_query(QueryDict("limit=5.0")) == (5, 0)
