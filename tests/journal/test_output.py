"""What the API writes for an entry and a user: the shapes clients parse."""

import uuid

from django.utils import timezone

from accounts.serializers import UserSerializer
from journal.models import JournalEntry
from journal.serializers import EntrySerializer


def test_an_entry_is_written_with_its_id_as_text_and_times_in_utc(user):
    entry = JournalEntry.objects.create(user=user, content="caf\u00e9 \U0001f600", size_bytes=9)
    entry.refresh_from_db()

    data = EntrySerializer(entry).data

    assert set(data) == {"id", "content", "size_bytes", "created_at", "updated_at"}
    assert uuid.UUID(data["id"]) == entry.id
    assert (data["content"], data["size_bytes"]) == ("caf\u00e9 \U0001f600", 9)
    assert data["created_at"].endswith("Z")
    assert data["created_at"].startswith(entry.created_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_a_page_of_entries_is_written_in_the_current_time_zone(user):
    for content in ["one", "two"]:
        JournalEntry.objects.create(user=user, content=content, size_bytes=3)
    entries = list(JournalEntry.objects.filter(user=user))

    with timezone.override("Asia/Kolkata"):
        data = EntrySerializer(entries, many=True).data

    assert [e["content"] for e in data] == [e.content for e in entries]
    assert all(e["created_at"].endswith("+05:30") for e in data)


def test_a_user_is_written_without_secrets(user):
    data = UserSerializer(user).data

    assert set(data) == {"id", "provider", "email", "display_name", "created_at"}
    assert uuid.UUID(data["id"]) == user.pk
