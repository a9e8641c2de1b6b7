"""Writes of the journal. Each checks the size limit and the user's quota under a lock on
the user's row, in the same transaction as the write, so concurrent writes of one user can
never take it past its quota."""

import uuid

from django.conf import settings
from django.db import transaction

from accounts.locks import lock_user
from journal.exceptions import EntryNotFound, EntryTooLarge, QuotaExceeded
from journal.models import JournalEntry
from journal.selectors import get_journal_entry, quota_bytes_for_user, total_journal_bytes


def content_size(content: str) -> int:
    return len(content.encode("utf-8"))


def _check_entry_size(size: int) -> None:
    if size > settings.JOURNAL_MAX_ENTRY_BYTES:
        raise EntryTooLarge(
            f"Entry is {size} bytes; the limit is {settings.JOURNAL_MAX_ENTRY_BYTES} bytes."
        )


def _check_quota(*, user, used_after: int) -> None:
    quota = quota_bytes_for_user(user=user)
    if used_after > quota:
        raise QuotaExceeded(f"This would use {used_after} bytes of a {quota}-byte quota.")


def insert_journal_entry(*, user, content: str) -> JournalEntry:
    """Add an entry if it fits the entry limit and the user's quota."""
    size = content_size(content)
    _check_entry_size(size)
    with transaction.atomic():
        lock_user(user_id=user.pk)
        _check_quota(user=user, used_after=total_journal_bytes(user=user) + size)
        return JournalEntry.objects.create(user=user, content=content, size_bytes=size)


def update_journal_entry(*, user, entry_id: uuid.UUID, content: str) -> JournalEntry:
    """Replace an entry's content; the old size is given back before the quota check."""
    size = content_size(content)
    _check_entry_size(size)
    with transaction.atomic():
        lock_user(user_id=user.pk)
        entry = get_journal_entry(user=user, entry_id=entry_id)
        if size > entry.size_bytes:
            used_after = total_journal_bytes(user=user) - entry.size_bytes + size
            _check_quota(user=user, used_after=used_after)
        entry.content = content
        entry.size_bytes = size
        entry.save(update_fields=["content", "size_bytes", "updated_at"])
        return entry


def delete_journal_entry(*, user, entry_id: uuid.UUID) -> None:
    """Delete one of the user's entries, giving its bytes back."""
    deleted, _ = JournalEntry.objects.filter(user=user, pk=entry_id).delete()
    if not deleted:
        raise EntryNotFound()
