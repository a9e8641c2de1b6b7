"""Reads of the journal."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import router
from django.db.models import Q, QuerySet

from accounts.models import User
from journal.exceptions import EntryNotFound
from journal.models import JournalEntry, JournalUsage
from subscriptions.selectors import has_entitled_subscription

EXPORT_CHUNK_ROWS = 50  # at most ~3 MB of content in memory at the largest entry size


@dataclass(frozen=True)
class Usage:
    bytes_used: int
    quota_bytes: int
    entries: int


def list_journal_entries(*, user: User, limit: int, offset: int) -> tuple[int, list[JournalEntry]]:
    """One page of the user's entries, newest first, and the total count, on the alias the
    router gives reads, whatever the page size. The page is read with one entry more than it
    shows: when that one is not there, the page is the last one and the count is known
    without counting (a journal that fits in a page takes one query); else, or for an offset
    past the end, a second query counts."""
    entries = JournalEntry.objects.filter(user=user)
    page = list(entries.order_by("-created_at", "-id")[offset : offset + limit + 1])
    if len(page) <= limit and (page or offset == 0):
        return offset + len(page), page
    return entries.count(), page[:limit]


def get_journal_entry(*, user: User, entry_id: uuid.UUID) -> JournalEntry:
    """The user's entry; another user's entry is not found, exactly like a missing one."""
    entry = JournalEntry.objects.filter(user=user, pk=entry_id).first()
    if entry is None:
        raise EntryNotFound()
    return entry


def quota_bytes_for_user(*, user: User, using: str | None = None) -> int:
    """The premium quota while the user has an active or grace subscription, else the free one
    (read on ``using``, else where the router sends reads)."""
    if has_entitled_subscription(user=user, using=using):
        return settings.JOURNAL_QUOTA_PREMIUM_BYTES
    return settings.JOURNAL_QUOTA_FREE_BYTES


def journal_usage(*, user: User) -> Usage:
    """Bytes and entries used, from the user's usage row, and the quota."""
    used, entries = JournalUsage.objects.filter(pk=user.pk).values_list(
        "bytes_used", "entries"
    ).first() or (0, 0)
    return Usage(bytes_used=used, quota_bytes=quota_bytes_for_user(user=user), entries=entries)


def iter_journal_entries(*, user: User) -> Iterator[JournalEntry]:
    """Every entry of the user, oldest first, a page of ``EXPORT_CHUNK_ROWS`` at a time, each
    page the entries after the last one seen (keyset pagination, on the ``(user,
    created_at)`` index): constant memory without a server-side cursor, which neither SQLite
    needs nor PgBouncer's transaction mode allows (``iterator()`` there fetches everything).

    The database is chosen here, when this is called, and kept for every page: a streamed
    response reads its pages after the request's routing scope has ended, where the router
    would no longer know that this user's reads belong on the primary."""
    alias = router.db_for_read(JournalEntry)
    entries = JournalEntry.objects.using(alias).filter(user=user).order_by("created_at", "id")
    return _entry_pages(entries)


def _entry_pages(entries: QuerySet[JournalEntry]) -> Iterator[JournalEntry]:
    page = list(entries[:EXPORT_CHUNK_ROWS])
    while page:
        yield from page
        last = page[-1]
        after = Q(created_at__gt=last.created_at) | Q(created_at=last.created_at, id__gt=last.id)
        page = list(entries.filter(after)[:EXPORT_CHUNK_ROWS])
