import tracemalloc

import pytest

from journal import services
from journal.models import JournalEntry

pytestmark = pytest.mark.django_db

ENTRY_BYTES = 60_000
ENTRIES = 600  # 36 MB of content


def test_export_of_a_large_journal_never_holds_it_whole(auth_api, user):
    JournalEntry.objects.bulk_create(
        (
            JournalEntry(
                user=user, content=chr(0x61 + i % 26) * ENTRY_BYTES, size_bytes=ENTRY_BYTES
            )
            for i in range(ENTRIES)
        ),
        batch_size=50,
    )
    services.recount_journal_usage(user=user)
    total = ENTRY_BYTES * ENTRIES

    tracemalloc.start()
    try:
        response = auth_api.get("/api/v1/journal/export")
        streamed = 0
        for chunk in response.streaming_content:
            streamed += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert streamed > total
    # The whole journal is 36 MB; the export holds a chunk of rows (a few MB) at a time.
    assert peak < total / 3, f"peak {peak / 1e6:.1f} MB while streaming {total / 1e6:.0f} MB"
