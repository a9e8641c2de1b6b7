"""Writes of the journal. Each checks the size limit and the user's quota under a lock on
the user's row, in the same transaction as the write, so concurrent writes of one user can
never take it past its quota. Each also moves the user's usage row (bytes and entries) in that
transaction: the quota check reads that one row, whatever the journal's size."""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Sum

from accounts.locks import lock_user
from accounts.models import User
from journal.exceptions import EntryNotFound, EntryTooLarge, QuotaExceeded
from journal.models import JournalEntry, JournalUsage
from journal.selectors import get_journal_entry, quota_bytes_for_user, total_journal_bytes


def content_size(content: str) -> int:
    return len(content.encode("utf-8"))


def _check_entry_size(size: int) -> None:
    if size > settings.JOURNAL_MAX_ENTRY_BYTES:
        raise EntryTooLarge(
            f"Entry is {size} bytes; the limit is {settings.JOURNAL_MAX_ENTRY_BYTES} bytes."
        )


def _check_quota(*, user: User, used_after: int) -> None:
    quota = quota_bytes_for_user(user=user)
    if used_after > quota:
        raise QuotaExceeded(f"This would use {used_after} bytes of a {quota}-byte quota.")


def _add_to_usage(*, user_id: uuid.UUID, bytes_used: int, entries: int) -> None:
    """Move the user's usage row by these amounts, creating it on the first write. The caller
    holds the lock on the user's row, so no other writer can create it meanwhile."""
    moved = JournalUsage.objects.filter(pk=user_id).update(
        bytes_used=F("bytes_used") + bytes_used, entries=F("entries") + entries
    )
    if not moved:
        JournalUsage.objects.create(user_id=user_id, bytes_used=bytes_used, entries=entries)


def insert_journal_entry(*, user: User, content: str) -> JournalEntry:
    """Add an entry if it fits the entry limit and the user's quota."""
    size = content_size(content)
    _check_entry_size(size)
    with transaction.atomic():
        lock_user(user_id=user.pk)
        _check_quota(user=user, used_after=total_journal_bytes(user=user) + size)
        entry = JournalEntry.objects.create(user=user, content=content, size_bytes=size)
        _add_to_usage(user_id=user.pk, bytes_used=size, entries=1)
        return entry


def update_journal_entry(*, user: User, entry_id: uuid.UUID, content: str) -> JournalEntry:
    """Replace an entry's content; the old size is given back before the quota check."""
    size = content_size(content)
    _check_entry_size(size)
    with transaction.atomic():
        lock_user(user_id=user.pk)
        entry = get_journal_entry(user=user, entry_id=entry_id)
        growth = size - entry.size_bytes
        if growth > 0:
            _check_quota(user=user, used_after=total_journal_bytes(user=user) + growth)
        entry.content = content
        entry.size_bytes = size
        entry.save(update_fields=["content", "size_bytes", "updated_at"])
        if growth:
            _add_to_usage(user_id=user.pk, bytes_used=growth, entries=0)
        return entry


def delete_journal_entry(*, user: User, entry_id: uuid.UUID) -> None:
    """Delete one of the user's entries, giving its bytes back."""
    with transaction.atomic():
        lock_user(user_id=user.pk)
        size = (
            JournalEntry.objects.filter(user=user, pk=entry_id)
            .values_list("size_bytes", flat=True)
            .first()
        )
        if size is None:
            raise EntryNotFound()
        JournalEntry.objects.filter(pk=entry_id).delete()
        _add_to_usage(user_id=user.pk, bytes_used=-size, entries=-1)


def delete_journal_entries(*, entry_ids: Iterable[uuid.UUID]) -> int:
    """Delete these entries, whoever owns them (staff, in the admin), giving each owner their
    bytes back; returns how many were deleted. Owners are locked in primary key order, so two
    such deletions cannot deadlock."""
    entry_ids = list(entry_ids)
    with transaction.atomic():
        entries = JournalEntry.objects.filter(pk__in=entry_ids)
        owners = sorted(set(entries.values_list("user_id", flat=True)))
        for owner in owners:
            lock_user(user_id=owner)
        # Read again under the locks: an owner may have deleted some meanwhile.
        removed = (
            entries.order_by().values("user_id").annotate(size=Sum("size_bytes"), n=Count("id"))
        )
        for row in removed:
            _add_to_usage(user_id=row["user_id"], bytes_used=-row["size"], entries=-row["n"])
        deleted, _ = entries.delete()
        return deleted


def recount_journal_usage(*, user: User) -> None:
    """Set the user's usage row from their entries (one sum over them), for entries that were
    written without the services: a bulk load, a repair."""
    with transaction.atomic():
        lock_user(user_id=user.pk)
        totals = JournalEntry.objects.filter(user=user).aggregate(
            bytes_used=Sum("size_bytes", default=0), entries=Count("id")
        )
        JournalUsage.objects.update_or_create(user_id=user.pk, defaults=totals)
