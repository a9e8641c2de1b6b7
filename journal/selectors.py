"""Reads of the journal."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, Sum

from config.rows import row_loader, select_columns
from journal.exceptions import EntryNotFound
from journal.models import JournalEntry
from subscriptions.selectors import has_entitled_subscription

EXPORT_CHUNK_ROWS = 50  # at most ~3 MB of content in memory at the largest entry size


@dataclass(frozen=True)
class Usage:
    bytes_used: int
    quota_bytes: int
    entries: int


def _entries_sql(connection) -> tuple[str, str]:
    """The table and the user column of entries, quoted for this connection."""
    quote = connection.ops.quote_name
    return quote(JournalEntry._meta.db_table), quote(JournalEntry._meta.get_field("user").column)


def list_journal_entries(*, user, limit: int, offset: int) -> tuple[int, list[JournalEntry]]:
    """One page of the user's entries, newest first, and the total count (two queries, on the
    alias the router gives reads). The SQL is written out: the list is the busiest endpoint,
    and building these queries with the ORM took longer than running them."""
    alias = router.db_for_read(JournalEntry)
    connection = connections[alias]
    quote = connection.ops.quote_name
    table, user_column = _entries_sql(connection)
    user_id = JournalEntry._meta.get_field("user").get_db_prep_value(user.pk, connection)
    load = row_loader(JournalEntry, alias, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select_columns(JournalEntry, JournalEntry._meta.db_table, connection)}"  # noqa: S608
            f" FROM {table} WHERE {user_column} = %s"
            f" ORDER BY {quote('created_at')} DESC, {quote('id')} DESC LIMIT %s OFFSET %s",
            [user_id, limit, offset],
        )
        page = [load(row) for row in cursor.fetchall()]
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {user_column} = %s", [user_id])  # noqa: S608
        count = cursor.fetchone()[0]
    return count, page


def get_journal_entry(*, user, entry_id: uuid.UUID) -> JournalEntry:
    """The user's entry; another user's entry is not found, exactly like a missing one."""
    entry = JournalEntry.objects.filter(user=user, pk=entry_id).first()
    if entry is None:
        raise EntryNotFound()
    return entry


def total_journal_bytes(*, user) -> int:
    """Bytes of all the user's entries (every write checks it: the SQL is written out)."""
    connection = connections[router.db_for_read(JournalEntry)]
    table, user_column = _entries_sql(connection)
    user_id = JournalEntry._meta.get_field("user").get_db_prep_value(user.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM({connection.ops.quote_name('size_bytes')}) FROM {table}"  # noqa: S608
            f" WHERE {user_column} = %s",
            [user_id],
        )
        return cursor.fetchone()[0] or 0


def quota_bytes_for_user(*, user) -> int:
    """The premium quota while the user has an active or grace subscription, else the free one."""
    if has_entitled_subscription(user=user):
        return settings.JOURNAL_QUOTA_PREMIUM_BYTES
    return settings.JOURNAL_QUOTA_FREE_BYTES


def journal_usage(*, user) -> Usage:
    totals = JournalEntry.objects.filter(user=user).aggregate(
        total=Sum("size_bytes"), entries=Count("id")
    )
    return Usage(
        bytes_used=totals["total"] or 0,
        quota_bytes=quota_bytes_for_user(user=user),
        entries=totals["entries"],
    )


def iter_journal_entries(*, user) -> Iterator[JournalEntry]:
    """Every entry of the user, oldest first, fetched a chunk at a time (constant memory)."""
    return (
        JournalEntry.objects.filter(user=user)
        .order_by("created_at", "id")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )
